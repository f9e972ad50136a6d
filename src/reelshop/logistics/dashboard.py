"""The staff logistics dashboard's numbers: where parcels are late (by lane and
carrier), which sellers dispatch late, and what is waiting in the dead-letter queue."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.checkout.models import Order
from reelshop.db import utcnow
from reelshop.errors import InvalidInput
from reelshop.logistics.estimate_models import AutoCancellation, DelayCase, DeliveryPromise
from reelshop.logistics.models import DeadLetterEvent, ShipByDeadline, Shipment, ShipmentStatus
from reelshop.sellers.models import SellerProfile


@dataclass(frozen=True)
class HotSpot:
    lane: str
    carrier: str
    parcels: int
    open_delays: int
    delivered: int
    late: int
    late_share: float | None
    median_transit_days: float | None
    median_promise_days: float | None


@dataclass(frozen=True)
class SellerDispatch:
    seller_id: str
    seller_name: str
    deadlines: int
    late: int
    late_rate: float
    auto_cancelled: int


@dataclass(frozen=True)
class Dashboard:
    days: int
    since: datetime
    hot_spots: list[HotSpot]
    sellers: list[SellerDispatch]
    dead_letters: int
    open_delays: int
    open_cases: list[DelayCase]


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def hot_spots(*, session: Session, since: datetime) -> list[HotSpot]:
    parcels: dict[tuple[str, str], int] = defaultdict(int)
    for lane, carrier, count in session.execute(
        select(Shipment.lane, Shipment.carrier, func.count())
        .where(Shipment.created_at >= since)
        .group_by(Shipment.lane, Shipment.carrier)
    ):
        parcels[(lane, carrier)] = int(count)
    open_delays: dict[tuple[str, str], int] = defaultdict(int)
    for lane, carrier, count in session.execute(
        select(DelayCase.lane, DelayCase.carrier, func.count())
        .where(DelayCase.open_key.is_not(None))
        .group_by(DelayCase.lane, DelayCase.carrier)
    ):
        open_delays[(lane, carrier)] = int(count)
    transit: dict[tuple[str, str], list[float]] = defaultdict(list)
    promised: dict[tuple[str, str], list[float]] = defaultdict(list)
    late: dict[tuple[str, str], int] = defaultdict(int)
    for lane, carrier, delivered_at, paid_at, latest in session.execute(
        select(
            Shipment.lane,
            Shipment.carrier,
            Shipment.delivered_at,
            Order.paid_at,
            DeliveryPromise.latest,
        )
        .join(Order, Order.id == Shipment.order_id)
        .outerjoin(DeliveryPromise, DeliveryPromise.order_id == Shipment.order_id)
        .where(Shipment.status == ShipmentStatus.DELIVERED, Shipment.delivered_at >= since)
    ):
        key = (lane, carrier)
        if paid_at is None or delivered_at is None:
            continue
        transit[key].append(_days(delivered_at - paid_at))
        if latest is not None:
            promised[key].append(_days(latest - paid_at))
            late[key] += delivered_at > latest
    keys = sorted(set(parcels) | set(open_delays) | set(transit))
    spots = []
    for key in keys:
        with_promise = len(promised[key])
        spots.append(
            HotSpot(
                lane=key[0],
                carrier=key[1],
                parcels=parcels[key],
                open_delays=open_delays[key],
                delivered=len(transit[key]),
                late=late[key],
                late_share=_round(late[key] / with_promise, 4) if with_promise else None,
                median_transit_days=_round(median(transit[key]) if transit[key] else None),
                median_promise_days=_round(median(promised[key]) if promised[key] else None),
            )
        )
    spots.sort(key=lambda s: (-s.open_delays, -(s.late_share or 0), s.lane, s.carrier))
    return spots


def late_dispatch_by_seller(
    *, session: Session, since: datetime, now: datetime, limit: int = 20
) -> list[SellerDispatch]:
    """Deadlines that fell due in the window; platform-fulfilled orders left out."""
    rows = session.execute(
        select(
            ShipByDeadline.seller_id,
            func.count(),
            func.count(ShipByDeadline.late_dispatch_at),
        )
        .where(
            ShipByDeadline.ship_by >= since,
            ShipByDeadline.ship_by < now,
            ShipByDeadline.platform_fulfilled.is_(False),
        )
        .group_by(ShipByDeadline.seller_id)
    ).all()
    cancelled = dict(
        session.execute(
            select(AutoCancellation.seller_id, func.count())
            .where(
                AutoCancellation.created_at >= since,
                AutoCancellation.counts_against_seller.is_(True),
            )
            .group_by(AutoCancellation.seller_id)
        ).all()
    )
    names = dict(
        session.execute(
            select(SellerProfile.id, SellerProfile.display_name).where(
                SellerProfile.id.in_([r[0] for r in rows])
            )
        ).all()
    )
    sellers = [
        SellerDispatch(
            seller_id=seller_id,
            seller_name=names.get(seller_id, seller_id),
            deadlines=int(total),
            late=int(late),
            late_rate=round(int(late) / int(total), 4),
            auto_cancelled=int(cancelled.get(seller_id, 0)),
        )
        for seller_id, total, late in rows
    ]
    sellers.sort(key=lambda s: (-s.late_rate, -s.late, s.seller_name))
    return sellers[:limit]


def dead_letter_count(*, session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(DeadLetterEvent)
            .where(DeadLetterEvent.resolved_at.is_(None))
        )
        or 0
    )


def dashboard(*, session: Session, days: int = 30, now: datetime | None = None) -> Dashboard:
    if not 1 <= days <= 365:
        raise InvalidInput("days is 1 to 365", field="days")
    now = now or utcnow()
    since = now - timedelta(days=days)
    spots = hot_spots(session=session, since=since)
    cases = list(
        session.scalars(
            select(DelayCase)
            .where(DelayCase.open_key.is_not(None))
            .order_by(DelayCase.created_at.desc())
            .limit(20)
        )
    )
    return Dashboard(
        days=days,
        since=since,
        hot_spots=spots,
        sellers=late_dispatch_by_seller(session=session, since=since, now=now),
        dead_letters=dead_letter_count(session=session),
        open_delays=sum(s.open_delays for s in spots),
        open_cases=cases,
    )
