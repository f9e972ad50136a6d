"""Arrangements for review and claim tests: delivered order lines built straight from the
checkout models (fast, for reviews), and paid-then-delivered orders through the real
payment flow (for claims that refund through the ledger)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts.models import User
from reelshop.catalog.models import Product
from reelshop.checkout import service as checkout
from reelshop.checkout.models import Checkout, Order, OrderLine, OrderStatus
from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.payments.verify import verify
from tests.payments.helpers import (
    LineSpec,
    OrderSpec,
    Placed,
    make_shop,
    pay_and_confirm,
    place_checkout,
)


@dataclass
class Delivered:
    order_id: str
    line_id: str
    shopper_id: str
    seller_id: str
    product_id: str


def delivered_line(
    session: Session,
    *,
    product: Product,
    shopper: User,
    delivered_at: datetime | None = None,
    status: str = OrderStatus.DELIVERED,
    line1: str = "1 Main St",
    postal_code: str = "10001",
    seller_discount: int = 0,
    creator_id: str | None = None,
) -> Delivered:
    """One order of one unit of ``product``, already delivered (no payment rows)."""
    now = utcnow()
    delivered_at = delivered_at or now - timedelta(days=1)
    sku = product.skus[0]
    address = {"recipient": "Ada", "line1": line1, "postal_code": postal_code, "country": "US"}
    row = Checkout(
        shopper_id=shopper.id,
        market_code="US",
        status="paid",
        currency=product.currency,
        subtotal_amount=sku.price_amount,
        total_amount=sku.price_amount - seller_discount,
        discount_amount=seller_discount,
        shipping_address=json.dumps(address),
        shipping_country="US",
        expires_at=now,
    )
    session.add(row)
    session.flush()
    order = Order(
        checkout_id=row.id,
        shopper_id=shopper.id,
        seller_id=product.seller_id,
        currency=product.currency,
        status=status,
        subtotal_amount=sku.price_amount,
        discount_amount=seller_discount,
        seller_discount_amount=seller_discount,
        total_amount=sku.price_amount - seller_discount,
        paid_at=delivered_at - timedelta(days=5),
        delivered_at=delivered_at if status in ("delivered", "completed") else None,
    )
    session.add(order)
    session.flush()
    line = OrderLine(
        order_id=order.id,
        sku_id=sku.id,
        product_id=product.id,
        title=product.title,
        list_price_amount=sku.price_amount,
        unit_price_amount=sku.price_amount,
        quantity=1,
        line_total_amount=sku.price_amount,
        creator_id=creator_id,
    )
    session.add(line)
    session.commit()
    return Delivered(order.id, line.id, shopper.id, product.seller_id, product.id)


def paid_order(
    session: Session,
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    shopper: User,
    price_cents: int = 4000,
) -> tuple[Placed, str, Product]:
    """A real paid order (capture in escrow) of one product; returns (placed, seller id,
    product)."""
    seller, product = make_shop(session, price_cents=price_cents)
    placed = place_checkout(session, shopper=shopper, orders=[OrderSpec([LineSpec(product)])])
    pay_and_confirm(factory, settings, placed)
    return placed, seller.id, product


def deliver(factory: sessionmaker[Session], order_id: str, at: datetime) -> None:
    with unit_of_work(factory) as s:
        checkout.mark_delivered(session=s, order_id=order_id, delivered_at=at)


def ledger_ok(session: Session) -> None:
    session.rollback()
    report = verify(session=session)
    assert report.ok, report.violations
