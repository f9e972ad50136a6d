"""Money events derived on the server from order rows: checkout starts, purchases and
refunds, one row per order line.

A purchase line's ``amount`` is its share of the order's GMV: what escrow took at
capture (the shopper's total plus the platform's voucher subsidy, shipping included),
allocated over the lines so the lines add up to the ledger's capture exactly. Its
``commission`` is the platform commission at the order's market and category rates,
computed as settlement will. A refund line's ``amount`` is the GMV the refund takes
back (the money returned plus the voucher subsidy reversed with it). Event ids are
derived from the line, so a handler that runs twice writes the same ids and the
queries count each once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.analytics import events
from reelshop.analytics.capture import product_dims
from reelshop.catalog.models import Product
from reelshop.checkout import service as checkout
from reelshop.checkout.models import Checkout, Order, OrderLine
from reelshop.money import Money
from reelshop.payments import service as payments
from reelshop.payments.models import Refund


def order_gmv(order: Order) -> int:
    return order.total_amount + order.platform_discount_amount


def _split(amount: int, currency: str, lines: list[OrderLine]) -> list[int]:
    weights = [max(0, line.line_total_amount) for line in lines]
    if amount == 0 or sum(weights) == 0:
        return [0 for _ in lines]
    return [m.amount for m in Money(amount, currency).allocate(weights)]


def _context(session: Session, order: Order) -> tuple[list[OrderLine], str, dict[str, Any]]:
    lines = checkout.order_lines(session=session, order_id=order.id)
    market = session.scalar(select(Checkout.market_code).where(Checkout.id == order.checkout_id))
    dims = product_dims(session=session, product_ids={line.product_id for line in lines})
    return lines, market or "US", dims


def _base(order: Order, line: OrderLine, market: str, dims: dict[str, Any]) -> dict[str, Any]:
    d = dims.get(line.product_id)
    return {
        "user_id": order.shopper_id,
        "order_id": order.id,
        "product_id": line.product_id,
        "seller_id": order.seller_id,
        "category": d.category if d else None,
        "seller_country": d.seller_country if d else None,
        "market": market,
        "video_id": line.video_id,
        "creator_id": line.creator_id,
        "currency": order.currency,
    }


def checkout_rows(*, session: Session, order_id: str) -> list[dict[str, Any]]:
    order = session.get(Order, order_id)
    if order is None:
        return []
    lines, market, dims = _context(session, order)
    return [
        {
            **_base(order, line, market, dims),
            "kind": events.CHECKOUT_START,
            "event_id": f"checkout:{line.id}",
            "occurred_at": order.placed_at,
            "units": line.quantity,
        }
        for line in lines
    ]


def purchase_rows(*, session: Session, order_id: str) -> list[dict[str, Any]]:
    order = session.get(Order, order_id)
    if order is None or order.paid_at is None:
        return []
    lines, market, dims = _context(session, order)
    if not lines:
        return []
    gmv = order_gmv(order)
    shares = _split(gmv, order.currency, lines)
    # Commission as settlement computes it: on each line's part of escrow, shipping apart.
    weights = [max(0, line.line_total_amount) for line in lines] + [max(0, order.shipping_amount)]
    parts = (
        Money(gmv, order.currency).allocate(weights)
        if gmv > 0 and sum(weights) > 0
        else [Money.zero(order.currency) for _ in weights]
    )
    categories = dict(
        session.execute(
            select(Product.id, Product.category_id).where(
                Product.id.in_({line.product_id for line in lines})
            )
        ).all()
    )
    rows = []
    for line, share, part in zip(lines, shares, parts, strict=False):
        rate = payments.commission_bp(
            session=session, market_code=market, category_id=categories.get(line.product_id)
        )
        rows.append(
            {
                **_base(order, line, market, dims),
                "kind": events.PURCHASE,
                "event_id": f"purchase:{line.id}",
                "occurred_at": order.paid_at,
                "units": line.quantity,
                "amount": share,
                "commission": part.percent(rate).amount,
            }
        )
    return rows


def refund_rows(*, session: Session, refund_id: str) -> list[dict[str, Any]]:
    refund = session.get(Refund, refund_id)
    if refund is None:
        return []
    order = session.get(Order, refund.order_id)
    if order is None:
        return []
    earlier = [
        r.amount
        for r in session.scalars(
            select(Refund).where(Refund.order_id == order.id).order_by(Refund.created_at, Refund.id)
        )
        if (r.created_at, r.id) < (refund.created_at, refund.id)
    ]
    before = sum(earlier)
    subsidy = payments.subsidy_reversed(order, before + refund.amount) - payments.subsidy_reversed(
        order, before
    )
    lines, market, dims = _context(session, order)
    if not lines:
        return []
    shares = _split(refund.amount + subsidy, order.currency, lines)
    return [
        {
            **_base(order, line, market, dims),
            "kind": events.REFUND,
            "event_id": f"refund:{refund.id}:{line.id}",
            "occurred_at": refund.created_at,
            "amount": share,
        }
        for line, share in zip(lines, shares, strict=True)
        if share
    ]


def track_rows(rows: list[dict[str, Any]]) -> int:
    written = 0
    for row in rows:
        fields = dict(row)
        kind = fields.pop("kind")
        written += events.track(kind, **fields)
    return written
