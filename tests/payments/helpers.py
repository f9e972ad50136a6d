"""Arrangements for payments tests: checkouts built straight from the checkout models
(so amounts, vouchers and creator lines are exactly what a test needs), webhook pumps,
and ledger reads."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts.models import User
from reelshop.catalog.models import Product
from reelshop.checkout.models import Checkout, Order, OrderLine
from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.inventory import service as inventory
from reelshop.payments import ledger
from reelshop.payments import service as payments
from reelshop.payments.jobs import deliver_simulated_webhooks
from reelshop.payments.models import JournalEntry, SimulatedWebhook
from reelshop.payments.provider import PaymentMethod
from reelshop.payments.simulator import DeliveryReport, SimulatedProcessor
from reelshop.sellers.models import SellerProfile
from tests.factories import make_product, make_seller, make_user

APPROVE = "4242424242424242"
CHALLENGE = "4000000000003220"
INSUFFICIENT_FUNDS = "4000000000009995"
DECLINED = "4000000000000002"
CAPTURE_FAILS = "4000000000000341"


@dataclass
class LineSpec:
    product: Product
    quantity: int = 1
    creator_id: str | None = None


@dataclass
class OrderSpec:
    lines: list[LineSpec]
    shipping: int = 0
    platform_discount: int = 0
    seller_discount: int = 0


@dataclass
class Placed:
    checkout_id: str
    shopper_id: str
    order_ids: list[str] = field(default_factory=list)
    total: int = 0
    currency: str = "USD"


def make_shop(
    session: Session, *, price_cents: int = 2500, stock: int = 50, currency: str = "USD"
) -> tuple[SellerProfile, Product]:
    _, seller = make_seller(session, currency=currency, commit=False)
    product = make_product(
        session, seller=seller, price_cents=price_cents, stock=stock, commit=False
    )
    session.commit()
    return seller, product


def place_checkout(
    session: Session, *, shopper: User, orders: list[OrderSpec], ttl_s: int = 900
) -> Placed:
    """A checkout awaiting payment with one order per spec and stock reserved."""
    now = utcnow()
    currency = orders[0].lines[0].product.currency
    checkout = Checkout(
        shopper_id=shopper.id,
        market_code="US",
        currency=currency,
        subtotal_amount=0,
        total_amount=0,
        shipping_address=json.dumps({"recipient": "Ada", "country": "US"}),
        shipping_country="US",
        expires_at=now + timedelta(seconds=ttl_s),
    )
    session.add(checkout)
    session.flush()
    placed = Placed(checkout.id, shopper.id, currency=currency)
    for spec in orders:
        seller_id = spec.lines[0].product.seller_id
        subtotal = 0
        order = Order(
            checkout_id=checkout.id,
            shopper_id=shopper.id,
            seller_id=seller_id,
            currency=currency,
            subtotal_amount=0,
            total_amount=0,
        )
        session.add(order)
        session.flush()
        for position, line in enumerate(spec.lines):
            sku = line.product.skus[0]
            reservation = inventory.reserve(
                session=session,
                sku_id=sku.id,
                quantity=line.quantity,
                ttl=timedelta(seconds=ttl_s),
                owner_ref=checkout.id,
            )
            total = sku.price_amount * line.quantity
            subtotal += total
            session.add(
                OrderLine(
                    order_id=order.id,
                    position=position,
                    sku_id=sku.id,
                    product_id=line.product.id,
                    title=line.product.title,
                    list_price_amount=sku.price_amount,
                    unit_price_amount=sku.price_amount,
                    quantity=line.quantity,
                    line_total_amount=total,
                    reservation_id=reservation.id,
                    creator_id=line.creator_id,
                )
            )
        order.subtotal_amount = subtotal
        order.shipping_amount = spec.shipping
        order.platform_discount_amount = spec.platform_discount
        order.seller_discount_amount = spec.seller_discount
        order.discount_amount = spec.platform_discount + spec.seller_discount
        order.total_amount = subtotal + spec.shipping - order.discount_amount
        checkout.subtotal_amount += subtotal
        checkout.shipping_amount += spec.shipping
        checkout.discount_amount += order.discount_amount
        checkout.total_amount += order.total_amount
        placed.order_ids.append(order.id)
    placed.total = checkout.total_amount
    session.commit()
    return placed


def processor(settings: Settings) -> SimulatedProcessor:
    return SimulatedProcessor(webhook_secret=settings.simulated_processor_webhook_secret)


def pay(
    factory: sessionmaker[Session],
    settings: Settings,
    placed: Placed,
    *,
    card: str = APPROVE,
) -> str:
    with unit_of_work(factory) as session:
        payment = payments.start_payment(
            session=session,
            provider=processor(settings),
            checkout_id=placed.checkout_id,
            shopper_id=placed.shopper_id,
            currency=None,
            method=PaymentMethod(card_number=card),
            return_url="/",
        )
        return payment.id


def client_poster(client: TestClient) -> Any:
    def post(body: bytes, headers: dict[str, str]) -> int:
        return client.post(
            "/api/v1/payments/webhooks/simulated", content=body, headers=headers
        ).status_code

    return post


def deliver_all(
    factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
    *,
    seed: int = 7,
    rounds: int = 10,
) -> list[DeliveryReport]:
    """Run the delivery job until the simulator's queue is empty (webhooks it queues in
    reaction, such as captured after authorised, go out in the next round)."""
    rng = random.Random(seed)
    reports = []
    for _ in range(rounds):
        report = deliver_simulated_webhooks(factory, settings, post=client_poster(client), rng=rng)
        reports.append(report)
        if report.attempted == 0:
            break
    return reports


def undelivered(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(SimulatedWebhook)
            .where(SimulatedWebhook.delivered_at.is_(None))
        )
        or 0
    )


def captures_for(session: Session, order_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.kind == "capture", JournalEntry.order_id == order_id)
        )
        or 0
    )


def account(session: Session, code: str, currency: str = "USD") -> int:
    """Balance on the account's normal side."""
    session.rollback()
    return ledger.normal_balance(session=session, account=code, currency=currency).amount


def new_key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def shopper(session: Session) -> User:
    return make_user(session)


def apply_queued_webhooks(factory: sessionmaker[Session], settings: Settings) -> int:
    """Apply the simulator's queued webhooks in queue order, straight through the service
    (verification included) rather than over HTTP: for tests about what comes after."""
    proc = processor(settings)
    applied = 0
    while True:
        with unit_of_work(factory) as session:
            webhook = session.scalars(
                select(SimulatedWebhook)
                .where(SimulatedWebhook.delivered_at.is_(None))
                .order_by(SimulatedWebhook.id)
                .limit(1)
            ).first()
            if webhook is None:
                return applied
            raw = json.dumps(webhook.payload).encode()
            event = proc.parse_and_verify_webhook(body=raw, headers=proc.signed_headers(raw))
            payments.apply_webhook(session=session, provider=proc, event=event)
            webhook.delivered_at = utcnow()
            applied += 1


def pay_and_confirm(factory: sessionmaker[Session], settings: Settings, placed: Placed) -> str:
    payment_id = pay(factory, settings, placed)
    apply_queued_webhooks(factory, settings)
    return payment_id
