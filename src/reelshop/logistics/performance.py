"""Seller performance: seven figures over a rolling window (90 days in the US), a 0-5
score and a standing, all from per-market data in ``performance_policies``.

Each figure turns into a 0-5 part score: 5 at its ``good`` value or better, 0 at its
``bad`` value or worse, linear in between. The score is the weighted mean of the
parts that have data. Crossing a figure's ``limit`` (e.g. US late dispatch above 4 %)
makes the standing at least ``warning`` whatever the score. A seller with fewer
delivered orders in the window than the market's minimum (30) is not rated.

Review and claim figures come from trust's contract functions
(``reelshop.trust.reviews.seller_review_stats``, ``reelshop.trust.claims.seller_claim_stats``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.checkout.models import Checkout, Order, OrderStatus, ShippingRate
from reelshop.db import insert_on_conflict, utcnow
from reelshop.ids import new_id
from reelshop.logistics import order_caps
from reelshop.logistics.fulfilment_models import PlatformFulfilledOrder
from reelshop.logistics.models import ShipByDeadline, Shipment
from reelshop.logistics.performance_models import PerformancePolicy, SellerPerformanceSnapshot
from reelshop.sellers.models import SellerProfile, SellerStatus
from reelshop.trust import claims, reviews


class Standing(StrEnum):
    NOT_RATED = "not_rated"
    GOOD = "good"
    WARNING = "warning"
    RESTRICTED = "restricted"
    SUSPENDED = "suspended"


STANDING_MEANING = {
    Standing.NOT_RATED: "Fewer delivered orders than the minimum in the window: no score yet.",
    Standing.GOOD: "Nothing to do.",
    Standing.WARNING: "A figure is past its limit or the score is low: fix it before it costs you.",
    Standing.RESTRICTED: "Daily orders are capped and the shop may not run campaigns.",
    Standing.SUSPENDED: "The shop takes no new orders until staff review it.",
}

METRIC_LABELS = {
    "late_dispatch": "Late dispatch rate",
    "valid_tracking": "Valid tracking rate",
    "cancellation": "Cancellation rate",
    "on_time_delivery": "On-time delivery rate",
    "claims": "Claim rate (upheld)",
    "negative_reviews": "Negative review rate",
    "rating": "Average rating",
}

# Used when a market has no row of its own (the US row is seeded with the same numbers).
DEFAULT_METRICS: dict[str, dict[str, Any]] = {
    "late_dispatch": {
        "good": 100,
        "bad": 800,
        "limit": 400,
        "weight": 3,
        "higher_is_better": False,
    },
    "valid_tracking": {
        "good": 9900,
        "bad": 9000,
        "limit": 9500,
        "weight": 2,
        "higher_is_better": True,
    },
    "cancellation": {"good": 50, "bad": 500, "limit": 250, "weight": 2, "higher_is_better": False},
    "on_time_delivery": {
        "good": 9700,
        "bad": 8000,
        "limit": 9000,
        "weight": 2,
        "higher_is_better": True,
    },
    "claims": {"good": 50, "bad": 500, "limit": 200, "weight": 2, "higher_is_better": False},
    "negative_reviews": {
        "good": 200,
        "bad": 1500,
        "limit": 1000,
        "weight": 1,
        "higher_is_better": False,
    },
    # The rating in hundredths of a star (480 = 4.8).
    "rating": {"good": 480, "bad": 300, "limit": 350, "weight": 1, "higher_is_better": True},
}
DEFAULT_POLICY = PerformancePolicy(
    market_code="US",
    window_days=90,
    min_delivered_orders=30,
    metrics=DEFAULT_METRICS,
    warning_below=4.0,
    restricted_below=3.0,
    suspended_below=2.0,
    restricted_daily_order_cap=50,
)
# Parcels need a few days before a missing first scan says the number is not real.
TRACKING_GRACE = timedelta(days=3)


@dataclass(frozen=True)
class Metric:
    key: str
    value: int | None  # basis points (rating: hundredths of a star); None: no data
    numerator: int
    denominator: int
    order_ids: list[str] = field(default_factory=list)  # the orders that count against it
    available: bool = True  # False: the source is not installed

    def as_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "order_ids": self.order_ids[:50],
            "available": self.available,
        }


@dataclass(frozen=True)
class Report:
    seller_id: str
    market_code: str
    since: datetime
    until: datetime
    delivered_orders: int
    eligible: bool
    metrics: dict[str, Metric]
    score: float | None
    standing: Standing
    breaches: list[str]


def _rate(numerator: int, denominator: int) -> int | None:
    return None if denominator == 0 else (numerator * 10_000 + denominator // 2) // denominator


def policy_for(*, session: Session, market_code: str) -> PerformancePolicy:
    return session.get(PerformancePolicy, market_code) or DEFAULT_POLICY


def part_score(value: int, rule: dict[str, Any]) -> float:
    good, bad = float(rule["good"]), float(rule["bad"])
    if good == bad:
        return 5.0
    fraction = (float(value) - bad) / (good - bad)  # works for either direction
    return round(5.0 * min(1.0, max(0.0, fraction)), 4)


def breached(value: int, rule: dict[str, Any]) -> bool:
    limit = int(rule["limit"])
    return value < limit if rule.get("higher_is_better") else value > limit


def score_and_standing(
    metrics: dict[str, Metric], policy: PerformancePolicy, *, eligible: bool
) -> tuple[float | None, Standing, list[str]]:
    if not eligible:
        return None, Standing.NOT_RATED, []
    weighted = total_weight = 0.0
    breaches: list[str] = []
    for key, rule in policy.metrics.items():
        metric = metrics.get(key)
        if metric is None or metric.value is None:
            continue
        weight = float(rule.get("weight", 1))
        weighted += weight * part_score(metric.value, rule)
        total_weight += weight
        if breached(metric.value, rule):
            breaches.append(key)
    score = round(weighted / total_weight, 2) if total_weight else 5.0
    if score < policy.suspended_below:
        standing = Standing.SUSPENDED
    elif score < policy.restricted_below:
        standing = Standing.RESTRICTED
    elif score < policy.warning_below or breaches:
        standing = Standing.WARNING
    else:
        standing = Standing.GOOD
    return score, standing, breaches


# --- the figures -------------------------------------------------------------------------------


def _seller_orders(seller_id: str) -> Any:
    """Orders of the seller that the seller ships (platform-fulfilled ones are excluded)."""
    return (
        select(Order.id)
        .outerjoin(PlatformFulfilledOrder, PlatformFulfilledOrder.order_id == Order.id)
        .where(Order.seller_id == seller_id, PlatformFulfilledOrder.order_id.is_(None))
    )


def _late_dispatch(session: Session, seller_id: str, since: datetime, until: datetime) -> Metric:
    rows = session.execute(
        select(ShipByDeadline.order_id, ShipByDeadline.late_dispatch_at)
        .join(Order, Order.id == ShipByDeadline.order_id)
        .where(
            ShipByDeadline.seller_id == seller_id,
            ShipByDeadline.platform_fulfilled.is_(False),
            ShipByDeadline.ship_by >= since,
            ShipByDeadline.ship_by < until,
            Order.status != OrderStatus.CANCELLED,
        )
        .order_by(ShipByDeadline.ship_by)
    ).all()
    late = [order_id for order_id, at in rows if at is not None]
    return Metric("late_dispatch", _rate(len(late), len(rows)), len(late), len(rows), late)


def _valid_tracking(session: Session, seller_id: str, since: datetime, until: datetime) -> Metric:
    rows = session.execute(
        select(Shipment.order_id, Shipment.first_transit_at).where(
            Shipment.seller_id == seller_id,
            Shipment.order_id.in_(_seller_orders(seller_id)),
            Shipment.created_at >= since,
            Shipment.created_at < until - TRACKING_GRACE,
        )
    ).all()
    scanned: dict[str, bool] = {}
    for order_id, first in rows:
        scanned[order_id] = scanned.get(order_id, True) and first is not None
    invalid = sorted(order_id for order_id, ok in scanned.items() if not ok)
    valid = len(scanned) - len(invalid)
    return Metric("valid_tracking", _rate(valid, len(scanned)), valid, len(scanned), invalid)


def _paid_in_window(
    session: Session, seller_id: str, since: datetime, until: datetime
) -> list[tuple[str, str]]:
    return [
        (order_id, status)
        for order_id, status in session.execute(
            select(Order.id, Order.status).where(
                Order.id.in_(_seller_orders(seller_id)),
                Order.paid_at >= since,
                Order.paid_at < until,
            )
        ).all()
    ]


def _cancellation(paid: list[tuple[str, str]]) -> Metric:
    cancelled = sorted(order_id for order_id, status in paid if status == OrderStatus.CANCELLED)
    return Metric(
        "cancellation", _rate(len(cancelled), len(paid)), len(cancelled), len(paid), cancelled
    )


def _on_time_delivery(
    session: Session, seller_id: str, since: datetime, until: datetime
) -> tuple[Metric, int]:
    """Delivered by the promise: ship-by deadline plus the market's slowest transit for
    the method chosen (calendar days). Also returns how many orders were delivered."""
    rows = session.execute(
        select(
            Order.id,
            Order.delivered_at,
            Order.paid_at,
            Order.shipping_method,
            Checkout.market_code,
            ShipByDeadline.ship_by,
        )
        .join(Checkout, Checkout.id == Order.checkout_id)
        .outerjoin(ShipByDeadline, ShipByDeadline.order_id == Order.id)
        .where(
            Order.seller_id == seller_id,
            Order.delivered_at >= since,
            Order.delivered_at < until,
        )
    ).all()
    max_days = {
        (r.market_code, r.method): r.max_days for r in session.scalars(select(ShippingRate))
    }
    fbp = set(
        session.scalars(
            select(PlatformFulfilledOrder.order_id).where(
                PlatformFulfilledOrder.seller_id == seller_id
            )
        )
    )
    late: list[str] = []
    counted = 0
    for order_id, delivered_at, paid_at, method, market, ship_by in rows:
        if order_id in fbp or delivered_at is None:
            continue
        counted += 1
        start: datetime = ship_by or (paid_at + timedelta(days=2) if paid_at else delivered_at)
        promise = start + timedelta(days=max_days.get((market, method), 10))
        if delivered_at > promise:
            late.append(order_id)
    on_time = counted - len(late)
    return (
        Metric("on_time_delivery", _rate(on_time, counted), on_time, counted, sorted(late)),
        len(rows),
    )


def _claims(session: Session, seller_id: str, since: datetime, orders: int) -> Metric:
    stats = claims.seller_claim_stats(session=session, seller_id=seller_id, since=since)
    return Metric(
        "claims", _rate(stats.upheld, orders), stats.upheld, orders, sorted(stats.upheld_order_ids)
    )


def _reviews(session: Session, seller_id: str, since: datetime) -> tuple[Metric, Metric]:
    stats = reviews.seller_review_stats(session=session, seller_id=seller_id, since=since)
    rating = None if stats.average is None or stats.count == 0 else round(stats.average * 100)
    return (
        Metric("negative_reviews", _rate(stats.negative, stats.count), stats.negative, stats.count),
        Metric("rating", rating, stats.count, stats.count),
    )


def market_of(seller: SellerProfile | None) -> str:
    if seller is None or not seller.market_codes:
        return "US"
    return "US" if "US" in seller.market_codes else str(seller.market_codes[0])


def compute(*, session: Session, seller_id: str, now: datetime | None = None) -> Report:
    """The seller's figures over the window ending ``now``."""
    now = now or utcnow()
    seller = session.get(SellerProfile, seller_id)
    market = market_of(seller)
    terms = policy_for(session=session, market_code=market)
    since = now - timedelta(days=terms.window_days)
    on_time, delivered = _on_time_delivery(session, seller_id, since, now)
    paid = _paid_in_window(session, seller_id, since, now)
    negative, rating = _reviews(session, seller_id, since)
    metrics = {
        m.key: m
        for m in (
            _late_dispatch(session, seller_id, since, now),
            _valid_tracking(session, seller_id, since, now),
            _cancellation(paid),
            on_time,
            _claims(session, seller_id, since, len(paid)),
            negative,
            rating,
        )
    }
    eligible = delivered >= terms.min_delivered_orders
    score, standing, breaches = score_and_standing(metrics, terms, eligible=eligible)
    return Report(
        seller_id, market, since, now, delivered, eligible, metrics, score, standing, breaches
    )


# --- snapshots ---------------------------------------------------------------------------------


def snapshot(
    *, session: Session, seller_id: str, now: datetime | None = None
) -> SellerPerformanceSnapshot:
    """Store (or refresh) today's figures for the seller; one row per seller and day."""
    now = now or utcnow()
    report = compute(session=session, seller_id=seller_id, now=now)
    values = {
        "market_code": report.market_code,
        "computed_at": now,
        "delivered_orders": report.delivered_orders,
        "eligible": report.eligible,
        "metrics": {k: m.as_json() for k, m in report.metrics.items()},
        "rating_average": (
            report.metrics["rating"].value / 100
            if report.metrics["rating"].value is not None
            else None
        ),
        "score": report.score,
        "standing": report.standing.value,
    }
    day = now.date()
    stmt = insert_on_conflict(session, SellerPerformanceSnapshot).values(
        id=new_id("sps"),
        seller_id=seller_id,
        day=day,
        **values,
    )
    session.execute(stmt.on_conflict_do_update(index_elements=["seller_id", "day"], set_=values))
    session.flush()
    row = session.scalars(
        select(SellerPerformanceSnapshot)
        .where(
            SellerPerformanceSnapshot.seller_id == seller_id, SellerPerformanceSnapshot.day == day
        )
        .execution_options(populate_existing=True)
    ).one()
    return row


def snapshot_all(*, session: Session, now: datetime | None = None, limit: int = 5_000) -> int:
    """Today's snapshot for every approved seller (the periodic job)."""
    now = now or utcnow()
    seller_ids = list(
        session.scalars(
            select(SellerProfile.id)
            .where(SellerProfile.status == SellerStatus.APPROVED)
            .order_by(SellerProfile.id)
            .limit(limit)
        )
    )
    for seller_id in seller_ids:
        snapshot(session=session, seller_id=seller_id, now=now)
    return len(seller_ids)


def history(
    *, session: Session, seller_id: str, days: int = 180
) -> list[SellerPerformanceSnapshot]:
    since: date = (utcnow() - timedelta(days=days)).date()
    return list(
        session.scalars(
            select(SellerPerformanceSnapshot)
            .where(
                SellerPerformanceSnapshot.seller_id == seller_id,
                SellerPerformanceSnapshot.day >= since,
            )
            .order_by(SellerPerformanceSnapshot.day)
        )
    )


def latest(*, session: Session, seller_id: str) -> SellerPerformanceSnapshot | None:
    return session.scalars(
        select(SellerPerformanceSnapshot)
        .where(SellerPerformanceSnapshot.seller_id == seller_id)
        .order_by(SellerPerformanceSnapshot.day.desc())
        .limit(1)
    ).first()


def daily_order_cap(*, session: Session, seller_id: str) -> int | None:
    """See :func:`order_caps.daily_order_cap` (checkout enforces it through that module)."""
    return order_caps.daily_order_cap(session=session, seller_id=seller_id)
