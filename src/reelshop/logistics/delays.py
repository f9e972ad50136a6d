"""Delay cases: parcels that stopped moving or outran their promise.

A parcel is *stalled* when the time since its newest scan exceeds the lane's normal
gap at that milestone (the 95th percentile of the gap to the next scan in delivered
history, or the policy's ``stall_hours`` when history is thin), and *past its
promise* when it is still undelivered after the promised window's last day. Each
raises one case (``DelayCase.open_key`` is unique while open), the shopper gets an
in-app notification and an email with a new estimate, and the case resolves by
itself when the parcel is scanned again or delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reelshop.checkout.models import Order
from reelshop.db import utcnow
from reelshop.logistics import estimates
from reelshop.logistics.estimate_models import ANY_CARRIER, DelayCase, DelayReason, DeliveryPromise
from reelshop.logistics.models import FINAL, Shipment, TrackingEvent
from reelshop.notifications import service as notifications
from reelshop.outbox.service import emit
from reelshop.sellers.models import SellerProfile


@dataclass(frozen=True)
class DelayReport:
    opened: int
    resolved: int


def normal_gap(*, session: Session, shipment: Shipment, milestone: str, market_code: str) -> float:
    """Hours a parcel may sit quietly at ``milestone`` before it counts as stalled."""
    policy = estimates.policy_for(session=session, market_code=market_code, lane=shipment.lane)
    stats = estimates.cached_stats(session=session, lane=shipment.lane, milestone=milestone)
    for carrier in (shipment.carrier, ANY_CARRIER):
        stat = stats.get((carrier, shipment.lane, milestone))
        if stat is not None and stat.gap_samples >= policy.min_history and stat.gap_p95_h:
            return float(stat.gap_p95_h)
    return float(policy.stall_hours)


def resolve_moved(*, session: Session, now: datetime | None = None) -> int:
    """Close open cases whose parcel has been scanned since, delivered or lost."""
    now = now or utcnow()
    resolved = 0
    cases = session.execute(
        select(DelayCase, Shipment)
        .join(Shipment, Shipment.id == DelayCase.shipment_id)
        .where(DelayCase.open_key.is_not(None))
        .with_for_update(of=DelayCase)
    ).all()
    for case, shipment in cases:
        resolution = None
        if shipment.status in FINAL:
            resolution = str(shipment.status)
        elif shipment.last_event_at is not None and (
            case.last_event_at is None or shipment.last_event_at > case.last_event_at
        ):
            resolution = "moved"
        if resolution is None:
            continue
        case.open_key = None
        case.resolved_at = now
        case.resolution = resolution
        resolved += 1
    session.flush()
    return resolved


def _date(moment: datetime, session: Session, market_code: str) -> str:
    local = moment.astimezone(estimates.market_zone(session, market_code))
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b')}"


def _open_case(
    session: Session,
    *,
    shipment: Shipment,
    order: Order,
    reason: str,
    milestone: str,
    market_code: str,
    now: datetime,
) -> DelayCase | None:
    window = estimates.parcel_window(
        session=session, shipment=shipment, market_code=market_code, now=now, clamp=False
    )
    if window is None:
        return None
    zone = estimates.market_zone(session, market_code)
    if reason == DelayReason.STALLED and shipment.last_event_at is not None:
        # Stuck where it is: what is normally left from this milestone, counted from now.
        offset = now - shipment.last_event_at
        earliest, latest = estimates.whole_days(
            window.earliest + offset, window.latest + offset, zone
        )
        window = estimates.Window(earliest, latest, window.source, window.samples, milestone)
    window = estimates.not_before(window, now, zone)
    case = DelayCase(
        shipment_id=shipment.id,
        order_id=order.id,
        seller_id=shipment.seller_id,
        carrier=shipment.carrier,
        lane=shipment.lane,
        reason=reason,
        milestone=milestone,
        open_key=shipment.id,
        last_event_at=shipment.last_event_at,
        new_earliest=window.earliest,
        new_latest=window.latest,
    )
    try:
        with session.begin_nested():
            session.add(case)
    except IntegrityError:  # another worker opened it first
        return None
    estimates.store_parcel_window(session=session, shipment=shipment, window=window, now=now)
    seller = session.get(SellerProfile, shipment.seller_id)
    shop = seller.display_name if seller is not None else "the seller"
    if reason == DelayReason.STALLED and shipment.last_event_at is not None:
        why = (
            f"Your parcel from {shop} has not been scanned since "
            f"{_date(shipment.last_event_at, session, market_code)}, longer than usual at this "
            "stage."
        )
    else:
        why = f"Your parcel from {shop} is taking longer than we promised."
    notifications.notify(
        session=session,
        user_id=order.shopper_id,
        kind="delivery.delayed",
        title="Your parcel is running late",
        body=(
            f"{why} New estimate: {_date(window.earliest, session, market_code)} to "
            f"{_date(window.latest, session, market_code)}. We are keeping an eye on it and "
            "will tell you if anything changes."
        ),
        link=f"/orders/{order.id}/tracking",
    )
    emit(
        session=session,
        topic="shipment.delayed",
        payload={
            "case_id": case.id,
            "shipment_id": shipment.id,
            "order_id": order.id,
            "reason": reason,
            "new_latest": window.latest.isoformat(),
        },
        subject_id=shipment.id,
    )
    return case


def detect_delays(
    *, session: Session, now: datetime | None = None, limit: int = 1000
) -> DelayReport:
    """Resolve cases whose parcel moved, then open one case per newly late parcel."""
    now = now or utcnow()
    resolved = resolve_moved(session=session, now=now)
    open_cases = select(DelayCase.shipment_id).where(DelayCase.open_key.is_not(None))
    rows = session.execute(
        select(Shipment, Order, DeliveryPromise)
        .join(Order, Order.id == Shipment.order_id)
        .outerjoin(DeliveryPromise, DeliveryPromise.order_id == Shipment.order_id)
        .where(
            Shipment.status.not_in([str(s) for s in FINAL]),
            Shipment.first_transit_at.is_not(None),
            Shipment.last_event_at.is_not(None),
            Shipment.id.not_in(open_cases),
        )
        .order_by(Shipment.last_event_at)
        .limit(limit)
    ).all()
    opened = 0
    for shipment, order, promise in rows:
        assert shipment.last_event_at is not None
        market_code = promise.market_code if promise is not None else "US"
        latest_scan = session.scalars(
            select(TrackingEvent)
            .where(TrackingEvent.shipment_id == shipment.id)
            .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.received_at.desc())
            .limit(1)
        ).first()
        milestone = latest_scan.code if latest_scan is not None else estimates.SHIPPED
        gap = normal_gap(
            session=session, shipment=shipment, milestone=milestone, market_code=market_code
        )
        reason = None
        if now - shipment.last_event_at > timedelta(hours=gap):
            reason = DelayReason.STALLED
        elif promise is not None and now > promise.latest:
            reason = DelayReason.PAST_PROMISE
        if reason is None:
            continue
        if _open_case(
            session,
            shipment=shipment,
            order=order,
            reason=reason,
            milestone=milestone,
            market_code=market_code,
            now=now,
        ):
            opened += 1
    session.flush()
    return DelayReport(opened=opened, resolved=resolved)


def open_cases_for_order(*, session: Session, order_id: str) -> list[DelayCase]:
    return list(
        session.scalars(
            select(DelayCase).where(DelayCase.order_id == order_id, DelayCase.open_key.is_not(None))
        )
    )
