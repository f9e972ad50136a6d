"""Delivery promises from the platform's own delivered history.

For every carrier and lane (and for ``*``, every carrier of a lane) a periodic job
turns recent deliveries into percentiles of the hours left until delivery from each
milestone: ``paid`` (what checkout promises), ``shipped`` (first in-transit scan) and
every carrier event code (what a parcel is re-estimated from as scans arrive). A
promise is the market policy's percentile pair (5th to 95th by default) added to the
milestone's time, widened to whole days in the market's time zone. With fewer than
``min_history`` deliveries behind a number, the policy's default window is used
instead (and said so: ``source == "default"``).

The math lives in plain functions over ``ParcelHistory`` so the benchmark replays the
very code the service runs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reelshop.checkout.models import Checkout, Order
from reelshop.db import utcnow
from reelshop.errors import NotFound
from reelshop.ids import looks_like
from reelshop.logistics import service as logistics
from reelshop.logistics.estimate_models import (
    ANY_CARRIER,
    DeliveryPolicy,
    DeliveryPromise,
    ParcelEstimate,
    TransitStat,
)
from reelshop.logistics.models import Lane, Shipment, ShipmentStatus, TrackingEvent
from reelshop.markets.models import Market
from reelshop.sellers.models import SellerProfile

PERCENTILES = (2, 3, 5, 10, 25, 50, 75, 90, 95, 97, 98)
PAID = "paid"
SHIPPED = "shipped"
HISTORY = "history"
DEFAULT = "default"
DELIVERED = "delivered"
LOOKBACK = timedelta(days=180)


@dataclass(frozen=True)
class Policy:
    """A market and lane's delivery policy (the table row, or built-in defaults)."""

    default_min_days: int
    default_max_days: int
    min_history: int = 30
    low_percentile: int = 5
    high_percentile: int = 95
    stall_hours: int = 96
    cancel_grace_days: int = 3


# Used when a market has no row for a lane (the migration adds rows for the US).
BUILT_IN_POLICY = {
    Lane.DOMESTIC_US: Policy(default_min_days=2, default_max_days=6, stall_hours=72),
    Lane.CN_US: Policy(default_min_days=7, default_max_days=16, stall_hours=120),
}


@dataclass(frozen=True)
class ParcelHistory:
    """What a delivered parcel tells us: when it was paid for, scanned and delivered."""

    carrier: str
    lane: str
    paid_at: datetime | None
    first_transit_at: datetime | None
    delivered_at: datetime
    events: Sequence[tuple[str, datetime]]  # (code, occurred_at), any order


@dataclass(frozen=True)
class Stat:
    samples: int
    remaining_h: Mapping[str, float]
    gap_samples: int = 0
    gap_p95_h: float | None = None


StatKey = tuple[str, str, str]  # carrier, lane, milestone


@dataclass(frozen=True)
class Window:
    earliest: datetime
    latest: datetime
    source: str  # history | default | delivered
    samples: int = 0
    milestone: str = PAID

    def contains(self, moment: datetime) -> bool:
        return self.earliest <= moment <= self.latest

    @property
    def width_days(self) -> float:
        return (self.latest - self.earliest).total_seconds() / 86400


# --- the math ---------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on sorted input."""
    if not sorted_values:
        raise ValueError("no values")
    rank = (len(sorted_values) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


@dataclass
class _Samples:
    remaining: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)


def build_stats(histories: Iterable[ParcelHistory]) -> dict[StatKey, Stat]:
    """Percentiles of hours-to-delivery from each milestone, per carrier and lane and for
    every carrier of a lane (``*``); and the 95th percentile of the gap to the next scan."""
    collected: dict[StatKey, _Samples] = defaultdict(_Samples)
    for parcel in histories:
        scans = sorted(parcel.events, key=lambda e: e[1])
        points: list[tuple[str, datetime, float | None]] = []
        if parcel.paid_at is not None:
            points.append((PAID, parcel.paid_at, None))
        if parcel.first_transit_at is not None:
            points.append((SHIPPED, parcel.first_transit_at, None))
        seen: set[str] = set()
        for index, (code, at) in enumerate(scans):
            if code == DELIVERED or code in seen:
                continue
            seen.add(code)
            gap = _hours(scans[index + 1][1] - at) if index + 1 < len(scans) else None
            points.append((code, at, gap))
        for milestone, at, gap in points:
            remaining = _hours(parcel.delivered_at - at)
            if remaining < 0:
                continue
            for carrier in (parcel.carrier, ANY_CARRIER):
                bucket = collected[(carrier, parcel.lane, milestone)]
                bucket.remaining.append(remaining)
                if gap is not None:
                    bucket.gaps.append(gap)
    stats: dict[StatKey, Stat] = {}
    for key, bucket in collected.items():
        hours = sorted(bucket.remaining)
        gaps = sorted(bucket.gaps)
        stats[key] = Stat(
            samples=len(hours),
            remaining_h={str(p): round(percentile(hours, p), 3) for p in PERCENTILES},
            gap_samples=len(gaps),
            gap_p95_h=round(percentile(gaps, 95), 3) if gaps else None,
        )
    return stats


def pick_stat(
    stats: Mapping[StatKey, Stat], *, carrier: str, lane: str, milestone: str, min_history: int
) -> Stat | None:
    """The carrier's own numbers if there are enough, else the lane's, else nothing."""
    for who in (carrier, ANY_CARRIER):
        stat = stats.get((who, lane, milestone))
        if stat is not None and stat.samples >= min_history:
            return stat
    return None


def _at_percentile(stat: Stat, pct: int) -> float:
    """The stored percentile, or the nearest stored one for a policy asking another."""
    key = str(pct)
    if key in stat.remaining_h:
        return float(stat.remaining_h[key])
    nearest = min(PERCENTILES, key=lambda p: abs(p - pct))
    return float(stat.remaining_h[str(nearest)])


def whole_days(earliest: datetime, latest: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """A window as the shopper reads it: from the start of the first day to the end of
    the last, in the market's time zone."""
    first = earliest.astimezone(zone).date()
    last = latest.astimezone(zone).date()
    start = datetime.combine(first, time(0, 0), tzinfo=zone)
    end = datetime.combine(last, time(23, 59, 59), tzinfo=zone)
    return start.astimezone(earliest.tzinfo), end.astimezone(earliest.tzinfo)


def window_from(
    stat: Stat | None,
    policy: Policy,
    *,
    since: datetime,
    zone: ZoneInfo,
    default_start: datetime | None = None,
    milestone: str = PAID,
) -> Window:
    """``since`` plus the policy's percentile pair of ``stat``; without a stat, the
    policy's default transit days counted from ``default_start`` (the latest time the
    parcel could be handed over; ``since`` when it already was)."""
    if stat is not None:
        low = since + timedelta(hours=_at_percentile(stat, policy.low_percentile))
        high = since + timedelta(hours=_at_percentile(stat, policy.high_percentile))
        earliest, latest = whole_days(low, high, zone)
        return Window(earliest, latest, HISTORY, stat.samples, milestone)
    start = default_start or since
    earliest, latest = whole_days(
        since + timedelta(days=policy.default_min_days),
        start + timedelta(days=policy.default_max_days),
        zone,
    )
    return Window(earliest, latest, DEFAULT, 0, milestone)


# --- the tables -------------------------------------------------------------------------------


def policy_for(*, session: Session, market_code: str, lane: str) -> Policy:
    row = session.get(DeliveryPolicy, (market_code, lane))
    if row is None:
        return BUILT_IN_POLICY.get(Lane(lane), BUILT_IN_POLICY[Lane.DOMESTIC_US])
    return Policy(
        default_min_days=row.default_min_days,
        default_max_days=row.default_max_days,
        min_history=row.min_history,
        low_percentile=row.low_percentile,
        high_percentile=row.high_percentile,
        stall_hours=row.stall_hours,
        cancel_grace_days=row.cancel_grace_days,
    )


def market_zone(session: Session, market_code: str) -> ZoneInfo:
    market = session.get(Market, market_code)
    return logistics._zone(market.timezone if market is not None else "America/New_York")


def delivered_history(
    *, session: Session, since: datetime, limit: int = 20_000
) -> list[ParcelHistory]:
    """Recent delivered parcels with their order's payment time and their scans."""
    rows = session.execute(
        select(Shipment, Order.paid_at)
        .join(Order, Order.id == Shipment.order_id)
        .where(
            Shipment.status == ShipmentStatus.DELIVERED,
            Shipment.delivered_at.is_not(None),
            Shipment.delivered_at >= since,
        )
        .order_by(Shipment.delivered_at.desc())
        .limit(limit)
    ).all()
    ids = [shipment.id for shipment, _ in rows]
    events: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for chunk in range(0, len(ids), 500):
        for shipment_id, code, occurred in session.execute(
            select(TrackingEvent.shipment_id, TrackingEvent.code, TrackingEvent.occurred_at).where(
                TrackingEvent.shipment_id.in_(ids[chunk : chunk + 500])
            )
        ):
            events[shipment_id].append((code, occurred))
    histories = []
    for shipment, paid_at in rows:
        assert shipment.delivered_at is not None
        histories.append(
            ParcelHistory(
                carrier=shipment.carrier,
                lane=shipment.lane,
                paid_at=paid_at,
                first_transit_at=shipment.first_transit_at,
                delivered_at=shipment.delivered_at,
                events=events.get(shipment.id, []),
            )
        )
    return histories


def refresh_transit_stats(*, session: Session, now: datetime | None = None) -> int:
    """Recompute the cached percentiles from the last 180 days of deliveries (the whole
    table is replaced in the caller's transaction, so readers see old or new, never half)."""
    now = now or utcnow()
    stats = build_stats(delivered_history(session=session, since=now - LOOKBACK))
    session.execute(delete(TransitStat))
    session.add_all(
        TransitStat(
            carrier=carrier,
            lane=lane,
            milestone=milestone,
            samples=stat.samples,
            remaining_h=dict(stat.remaining_h),
            gap_samples=stat.gap_samples,
            gap_p95_h=stat.gap_p95_h,
            refreshed_at=now,
        )
        for (carrier, lane, milestone), stat in stats.items()
    )
    session.flush()
    return len(stats)


def cached_stats(*, session: Session, lane: str, milestone: str) -> dict[StatKey, Stat]:
    return {
        (row.carrier, row.lane, row.milestone): Stat(
            row.samples, row.remaining_h, row.gap_samples, row.gap_p95_h
        )
        for row in session.scalars(
            select(TransitStat).where(TransitStat.lane == lane, TransitStat.milestone == milestone)
        )
    }


# --- promises ---------------------------------------------------------------------------------


def promise_window(
    *,
    session: Session,
    market_code: str,
    lane: str,
    since: datetime,
    ship_by: datetime | None,
    carrier: str = ANY_CARRIER,
) -> Window:
    """The window promised for an order paid at ``since`` (before any label exists)."""
    policy = policy_for(session=session, market_code=market_code, lane=lane)
    stat = pick_stat(
        cached_stats(session=session, lane=lane, milestone=PAID),
        carrier=carrier,
        lane=lane,
        milestone=PAID,
        min_history=policy.min_history,
    )
    return window_from(
        stat,
        policy,
        since=since,
        zone=market_zone(session, market_code),
        default_start=ship_by,
    )


def estimate_for_seller(
    *, session: Session, seller_id: str, market_code: str = "US", now: datetime | None = None
) -> tuple[Window, Lane]:
    """What the product page and checkout show: the seller's lane to the shopper's
    market, as if paid now (the default window counts from the ship-by deadline)."""
    seller = session.get(SellerProfile, seller_id) if looks_like("sel", seller_id) else None
    if seller is None:
        raise NotFound("no such seller")
    now = now or utcnow()
    market = session.get(Market, market_code)
    lane = logistics.lane_for(seller)
    ship_by = logistics.ship_by_time(
        paid_at=now,
        handling_days=(market.handling_days if market and market.handling_days else 2),
        timezone=seller.timezone,
        country=seller.ships_from_country,
    )
    window = promise_window(
        session=session, market_code=market_code, lane=lane, since=now, ship_by=ship_by
    )
    return window, lane


def _order_market(session: Session, order: Order) -> str:
    row = session.get(Checkout, order.checkout_id)
    return row.market_code if row is not None else "US"


def promise_order(
    *, session: Session, order_id: str, now: datetime | None = None
) -> DeliveryPromise | None:
    """Record the paid order's promised window, once (outbox handlers repeat)."""
    existing = session.get(DeliveryPromise, order_id)
    if existing is not None:
        return existing
    order = session.get(Order, order_id) if looks_like("ord", order_id) else None
    if order is None or order.paid_at is None:
        return None
    seller = session.get(SellerProfile, order.seller_id)
    lane = logistics.lane_for(seller)
    market_code = _order_market(session, order)
    deadline = logistics.ensure_ship_by(session=session, order_id=order.id)
    window = promise_window(
        session=session,
        market_code=market_code,
        lane=lane,
        since=order.paid_at,
        ship_by=deadline.ship_by if deadline is not None else None,
    )
    promise = DeliveryPromise(
        order_id=order.id,
        market_code=market_code,
        lane=lane,
        earliest=window.earliest,
        latest=window.latest,
        source=window.source,
        current_earliest=window.earliest,
        current_latest=window.latest,
        promised_at=now or utcnow(),
        updated_at=now or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(promise)
    except IntegrityError:  # another worker promised it first
        pass
    return session.get(DeliveryPromise, order.id)


def _latest_scan(shipment: Shipment) -> TrackingEvent | None:
    scans = sorted(shipment.events, key=lambda e: (e.occurred_at, e.received_at))
    return scans[-1] if scans else None


def parcel_window(
    *, session: Session, shipment: Shipment, market_code: str, now: datetime, clamp: bool = True
) -> Window | None:
    """A parcel's window from its newest scan (``clamp``: not before today); None before
    the carrier has it."""
    zone = market_zone(session, market_code)
    if shipment.status == ShipmentStatus.DELIVERED and shipment.delivered_at is not None:
        return Window(shipment.delivered_at, shipment.delivered_at, DELIVERED, 0, DELIVERED)
    scan = _latest_scan(shipment)
    if scan is None or shipment.first_transit_at is None:
        return None
    policy = policy_for(session=session, market_code=market_code, lane=shipment.lane)
    milestone = scan.code
    stat = pick_stat(
        cached_stats(session=session, lane=shipment.lane, milestone=milestone),
        carrier=shipment.carrier,
        lane=shipment.lane,
        milestone=milestone,
        min_history=policy.min_history,
    )
    if stat is not None:
        window = window_from(stat, policy, since=scan.occurred_at, zone=zone, milestone=milestone)
    else:
        window = window_from(
            None, policy, since=shipment.first_transit_at, zone=zone, milestone=milestone
        )
    return not_before(window, now, zone) if clamp else window


def not_before(window: Window, now: datetime, zone: ZoneInfo) -> Window:
    """An undelivered parcel arrives today at the earliest; one later than history says
    is normal gets the same spread again, counted from now."""
    if window.latest < now:
        spread = window.latest - window.earliest
        earliest, latest = whole_days(now, now + spread, zone)
    elif window.earliest < now:
        earliest, latest = whole_days(now, window.latest, zone)
    else:
        return window
    return Window(earliest, latest, window.source, window.samples, window.milestone)


def reestimate_parcel(
    *, session: Session, shipment_id: str, now: datetime | None = None
) -> ParcelEstimate | None:
    """Store the parcel's current window and carry it to the order's promise."""
    now = now or utcnow()
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        return None
    order = session.get(Order, shipment.order_id)
    if order is None:
        return None
    window = parcel_window(
        session=session, shipment=shipment, market_code=_order_market(session, order), now=now
    )
    if window is None:
        return None
    return store_parcel_window(session=session, shipment=shipment, window=window, now=now)


def store_parcel_window(
    *, session: Session, shipment: Shipment, window: Window, now: datetime
) -> ParcelEstimate:
    """Keep a parcel's window and carry the latest of its order's parcels to the order."""
    estimate = session.get(ParcelEstimate, shipment.id)
    if estimate is None:
        estimate = ParcelEstimate(shipment_id=shipment.id, order_id=shipment.order_id)
        session.add(estimate)
    estimate.milestone = window.milestone
    estimate.earliest = window.earliest
    estimate.latest = window.latest
    estimate.source = window.source
    estimate.updated_at = now
    session.flush()
    promise = session.get(DeliveryPromise, shipment.order_id)
    if promise is not None:
        estimates = list(
            session.scalars(
                select(ParcelEstimate).where(ParcelEstimate.order_id == shipment.order_id)
            )
        )
        promise.current_earliest = max(e.earliest for e in estimates)
        promise.current_latest = max(e.latest for e in estimates)
        promise.updated_at = now
    return estimate


def order_estimate(
    *, session: Session, order_id: str
) -> tuple[DeliveryPromise | None, list[ParcelEstimate]]:
    return session.get(DeliveryPromise, order_id), list(
        session.scalars(select(ParcelEstimate).where(ParcelEstimate.order_id == order_id))
    )
