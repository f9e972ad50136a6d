"""Demo data for payments: paid orders through the SIMULATED processor, some delivered
long enough ago to settle, a first round of payouts, and newer orders still in escrow,
so the seller's payouts page and the staff finance view have something to show."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.accounts.models import User
from reelshop.catalog.models import Product, ProductStatus, Sku
from reelshop.checkout import cart as carts
from reelshop.checkout import service as checkout
from reelshop.checkout.models import Order, OrderStatus
from reelshop.config import get_settings
from reelshop.db import utcnow
from reelshop.errors import ProblemError
from reelshop.inventory import service as inventory
from reelshop.payments import service as payments
from reelshop.payments.models import EntryKind, JournalEntry, SimulatedWebhook
from reelshop.payments.provider import PaymentMethod
from reelshop.payments.simulator import SimulatedProcessor

if TYPE_CHECKING:
    from reelshop.seed import SeedContext

DEMO_ORDERS = 36
ADDRESS = checkout.AddressInput(
    recipient="Demo Shopper",
    line1="500 Howard Street",
    city="San Francisco",
    region="CA",
    postal_code="94105",
    country="US",
)


def _apply_webhooks(session: Session, processor: SimulatedProcessor) -> None:
    """Hand the simulator's queued webhooks to our service at once (the demo worker
    would post them over HTTP a second later)."""
    while True:
        queued = list(
            session.scalars(
                select(SimulatedWebhook)
                .where(SimulatedWebhook.delivered_at.is_(None))
                .order_by(SimulatedWebhook.id)
            )
        )
        if not queued:
            return
        for webhook in queued:
            body = json.dumps(webhook.payload).encode()
            event = processor.parse_and_verify_webhook(
                body=body, headers=processor.signed_headers(body)
            )
            payments.apply_webhook(session=session, provider=processor, event=event)
            webhook.delivered_at = utcnow()
        session.flush()


def _skus_of(session: Session, seller_id: str, limit: int) -> list[Sku]:
    skus = list(
        session.scalars(
            select(Sku)
            .join(Product, Product.id == Sku.product_id)
            .where(Product.seller_id == seller_id, Product.status == ProductStatus.ACTIVE)
            .order_by(Sku.id)
            .limit(limit)
        )
    )
    stock = inventory.available(session=session, sku_ids=[s.id for s in skus])
    return [s for s in skus if stock.get(s.id, 0) >= 5]


def seed_payments(session: Session, ctx: SeedContext) -> None:
    settings = get_settings()
    processor = SimulatedProcessor(webhook_secret=settings.simulated_processor_webhook_secret)
    # Mostly the demo seller's products (the seller log-in sees payouts), some others'.
    demo_skus = _skus_of(session, ctx.seller_ids[0], 12) if ctx.seller_ids else []
    other_skus = [s for seller in ctx.seller_ids[1:4] for s in _skus_of(session, seller, 4)]
    if not (demo_skus or other_skus) or not ctx.shopper_ids:
        return
    now = utcnow()
    delivered: list[tuple[str, datetime]] = []
    for i in range(DEMO_ORDERS):
        shopper = session.get(User, ctx.shopper_ids[i % len(ctx.shopper_ids)])
        if shopper is None:
            continue
        pool = demo_skus if demo_skus and (i % 3 != 2 or not other_skus) else other_skus
        sku = pool[ctx.rng.randrange(len(pool))]
        creator = (
            ctx.creator_ids[i % len(ctx.creator_ids)] if ctx.creator_ids and i % 3 == 0 else None
        )
        try:
            with session.begin_nested():
                carts.add_line(
                    session=session,
                    shopper=shopper,
                    sku_id=sku.id,
                    quantity=ctx.rng.randint(1, 2),
                    creator_id=creator,
                )
                placed = checkout.place_checkout(
                    session=session,
                    shopper=shopper,
                    address=ADDRESS,
                    reservation_ttl=timedelta(minutes=15),
                )
                payments.start_payment(
                    session=session,
                    provider=processor,
                    checkout_id=placed.id,
                    shopper_id=shopper.id,
                    currency=None,
                    method=PaymentMethod(card_number="4242424242424242"),
                    return_url="/",
                )
                _apply_webhooks(session, processor)
        except ProblemError:
            continue  # an item went out of stock or off sale: this demo shopper moves on
        age_days = 25 - (i * 25) // DEMO_ORDERS  # oldest first; the newest are in transit
        if age_days > 4:
            for order in checkout.orders_of_checkout(session=session, checkout_id=placed.id):
                at = now - timedelta(days=age_days)
                checkout.mark_delivered(session=session, order_id=order.id, delivered_at=at)
                delivered.append((order.id, at))
    # Settle what was delivered more than two weeks ago, pay it out, then settle the
    # rest that is past its hold: the seller sees a payout and an open balance.
    for order_id, at in delivered:
        if at < now - timedelta(days=14):
            payments.settle_order(session=session, order_id=order_id, now=now)
    payments.run_payouts(session=session, now=now)
    for order_id, _ in delivered:
        payments.settle_order(session=session, order_id=order_id, now=now)
    session.flush()


def seed_ledger_books(session: Session, ctx: SeedContext) -> None:
    """Book the history other seed steps bulk-insert (delivered parcels, platform-fulfilled
    orders) into the ledger, so ``reelshop ledger verify`` holds on the demo too: a capture
    into escrow for every paid order without one, then settlement for delivered orders past
    their hold. Cancelled history keeps no payment (it was cancelled before capture)."""
    captured = select(JournalEntry.order_id).where(
        JournalEntry.kind == EntryKind.CAPTURE, JournalEntry.order_id.is_not(None)
    )
    unbooked = session.scalars(
        select(Order).where(Order.paid_at.is_not(None), Order.id.not_in(captured))
    ).all()
    now = utcnow()
    for order in unbooked:
        if order.status == OrderStatus.CANCELLED:
            order.paid_at = None
            continue
        payments.record_capture(
            session=session,
            order=order,
            market_code=payments.shopper_market(session=session, shopper_id=order.shopper_id),
        )
    session.flush()
    for order in unbooked:
        if order.delivered_at is not None:
            payments.settle_order(session=session, order_id=order.id, now=now)
    session.flush()
