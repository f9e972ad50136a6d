"""Demo claims in every state: waiting for the seller, answered and waiting for staff,
escalated after the seller's silence, upheld (refunded through the ledger) and
rejected. The demo shopper has an open claim and the demo seller an inbox."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role, User
from reelshop.catalog.models import Product, ProductStatus, Sku
from reelshop.checkout import cart as carts
from reelshop.checkout import service as checkout
from reelshop.checkout.models import Order, OrderStatus
from reelshop.config import get_settings
from reelshop.db import utcnow
from reelshop.errors import ProblemError
from reelshop.inventory import service as inventory
from reelshop.payments import service as payments
from reelshop.payments.models import EscrowHold, SimulatedWebhook
from reelshop.payments.provider import PaymentMethod
from reelshop.payments.seed import ADDRESS
from reelshop.payments.simulator import SimulatedProcessor
from reelshop.trust import claims
from reelshop.trust.claim_models import Claim

if TYPE_CHECKING:
    from reelshop.seed import SeedContext

# (claim type, days ago it was opened, what happens next)
PLAN = [
    ("damaged", 0, "open"),
    ("not_as_described", 1, "answered"),
    ("damaged", 5, "escalated"),
    ("not_as_described", 6, "upheld"),
    ("damaged", 7, "rejected"),
]
STORIES = {
    "damaged": "The box was crushed and the item inside is cracked along one side.",
    "not_as_described": "The listing says stainless steel but it is painted plastic.",
}


def _photo(label: str) -> bytes:
    image = Image.new("RGB", (320, 240), (236, 232, 226))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 50, 280, 200), outline=(120, 90, 60), width=6)
    draw.line((60, 70, 260, 180), fill=(200, 40, 40), width=5)
    draw.text((48, 20), label, fill=(60, 60, 60))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _apply_queued_webhooks(session: Session, processor: SimulatedProcessor) -> None:
    """What the demo worker would post a second later, handed to the service at once."""
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


def _fresh_delivered_orders(
    session: Session, ctx: SeedContext, processor: SimulatedProcessor, ages_hours: list[int]
) -> list[Order]:
    """Paid orders from the demo seller to the demo shopper, delivered ``ages_hours`` ago:
    inside every claim window, so the demo (and the browser test) can open a claim."""
    if not ctx.shopper_ids or not ctx.seller_ids:
        return []
    shopper = session.get(User, ctx.shopper_ids[0])
    cart = carts.get_cart(session=session, shopper_id=shopper.id) if shopper else None
    if shopper is None or (cart is not None and cart.lines):
        return []  # never check out what the demo shopper put in their cart
    skus = list(
        session.scalars(
            select(Sku)
            .join(Product, Product.id == Sku.product_id)
            .where(Product.seller_id == ctx.seller_ids[0], Product.status == ProductStatus.ACTIVE)
            .order_by(Sku.id)
            .limit(20)
        )
    )
    stock = inventory.available(session=session, sku_ids=[s.id for s in skus])
    skus = [s for s in skus if stock.get(s.id, 0) >= 3]
    made: list[Order] = []
    for age, sku in zip(ages_hours, skus, strict=False):
        try:
            with session.begin_nested():
                carts.add_line(session=session, shopper=shopper, sku_id=sku.id, quantity=1)
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
                _apply_queued_webhooks(session, processor)
                for order in checkout.orders_of_checkout(session=session, checkout_id=placed.id):
                    made.append(
                        checkout.mark_delivered(
                            session=session,
                            order_id=order.id,
                            delivered_at=utcnow() - timedelta(hours=age),
                        )
                    )
        except ProblemError:
            continue
    return made


def seed_claims(session: Session, ctx: SeedContext) -> None:
    now = utcnow()
    staff_id = session.scalar(select(User.id).where(User.role == Role.STAFF).order_by(User.id))
    if staff_id is None:
        return
    provider = SimulatedProcessor(webhook_secret=get_settings().simulated_processor_webhook_secret)
    # The demo shopper's own: one claimed (the first in the plan), one left to claim.
    fresh = _fresh_delivered_orders(session, ctx, provider, [6, 5])
    candidates = list(
        session.scalars(
            select(Order)
            .join(EscrowHold, EscrowHold.order_id == Order.id)  # paid through the ledger
            .where(
                Order.status.in_([OrderStatus.DELIVERED, OrderStatus.COMPLETED]),
                Order.delivered_at.is_not(None),
                Order.delivered_at <= now - timedelta(days=8),
                Order.delivered_at >= now - timedelta(days=14),
                Order.refunded_amount == 0,
            )
            .order_by(Order.delivered_at.desc(), Order.id)
        )
    )
    fresh_ids = {o.id for o in fresh}
    taken = set(session.scalars(select(Claim.order_id))) | fresh_ids
    orders = iter([*fresh[:1], *(o for o in candidates if o.id not in taken)])
    for claim_type, days_ago, outcome in PLAN:
        order = next(orders, None)
        if order is None:
            return
        opened_at = now - timedelta(days=days_ago, hours=3)
        try:
            with session.begin_nested():
                claim = claims.open_claim(
                    session=session,
                    shopper_id=order.shopper_id,
                    order_id=order.id,
                    claim_type=claim_type,
                    description=STORIES[claim_type],
                    now=opened_at,
                )
                claims.add_evidence(
                    session=session,
                    claim=claim,
                    uploaded_by=order.shopper_id,
                    party="shopper",
                    data=_photo(claim_type.replace("_", " ")),
                )
                if outcome in ("answered", "upheld", "rejected"):
                    claims.seller_respond(
                        session=session,
                        seller_id=order.seller_id,
                        claim_id=claim.id,
                        response="We packed it with foam; the carrier must have dropped it.",
                        now=opened_at + timedelta(hours=20),
                    )
                if outcome == "escalated":
                    claims.escalate_overdue(session=session, now=now)
                if outcome in ("upheld", "rejected"):
                    claims.decide_claim(
                        session=session,
                        provider=provider,
                        claim_id=claim.id,
                        actor_id=staff_id,
                        outcome="uphold_full" if outcome == "upheld" else "reject",
                        note="Photos match the description."
                        if outcome == "upheld"
                        else "The photos show normal wear, not damage.",
                        now=opened_at + timedelta(days=2),
                    )
        except ProblemError:
            continue  # this order cannot carry the claim (e.g. refunded meanwhile)
    session.flush()
