"""The checkout-side consequence of a seller's performance standing: a restricted shop
takes at most its market's daily order cap, a suspended one takes none. Kept apart
from ``performance`` so checkout can call it without importing the figures' sources."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.checkout.models import Order, OrderStatus
from reelshop.db import utcnow
from reelshop.errors import Conflict, problem_type
from reelshop.logistics.performance_models import PerformancePolicy, SellerPerformanceSnapshot

SELLER_ORDER_CAP = problem_type("seller-order-cap", 409, "The shop cannot take more orders today")
DEFAULT_CAP = 50


class SellerOrderCapReached(Conflict):
    default_type = SELLER_ORDER_CAP


def daily_order_cap(*, session: Session, seller_id: str) -> int | None:
    """Orders a day the seller may take now: None (no cap), the market's cap when the
    latest snapshot says restricted, 0 when suspended."""
    row = session.execute(
        select(SellerPerformanceSnapshot.standing, SellerPerformanceSnapshot.market_code)
        .where(SellerPerformanceSnapshot.seller_id == seller_id)
        .order_by(SellerPerformanceSnapshot.day.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    standing, market = row
    if standing == "suspended":
        return 0
    if standing == "restricted":
        policy = session.get(PerformancePolicy, market)
        return policy.restricted_daily_order_cap if policy else DEFAULT_CAP
    return None


def orders_today(*, session: Session, seller_id: str, now: datetime | None = None) -> int:
    """Orders placed with the seller since midnight UTC, not counting abandoned ones."""
    now = now or utcnow()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(
        session.scalar(
            select(func.count())
            .select_from(Order)
            .where(
                Order.seller_id == seller_id,
                Order.placed_at >= start,
                Order.paid_at.is_not(None) | (Order.status == OrderStatus.PLACED),
            )
        )
        or 0
    )


def refuse_over_daily_cap(
    *, session: Session, seller_id: str, seller_name: str = "", now: datetime | None = None
) -> None:
    """Raise 409 ``/problems/seller-order-cap`` when the seller's cap is used up today."""
    cap = daily_order_cap(session=session, seller_id=seller_id)
    if cap is None:
        return
    if orders_today(session=session, seller_id=seller_id, now=now) >= cap:
        who = seller_name or "this shop"
        raise SellerOrderCapReached(
            f"{who} cannot take more orders today; remove its items to check out the rest",
            seller_id=seller_id,
            cap=cap,
        )
