from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout.orders import transition
from reelshop.config import Settings
from reelshop.db import unit_of_work
from reelshop.logistics import service as logistics
from reelshop.logistics.carriers import checkpoint_of
from reelshop.logistics.jobs import mark_late_dispatch, set_ship_by
from reelshop.logistics.models import ShipByDeadline
from reelshop.markets.models import Market
from reelshop.outbox.models import OutboxEvent
from tests.logistics.helpers import carrier, event_body, paid_order

NY = "America/New_York"
SHANGHAI = "Asia/Shanghai"


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("paid_at", "zone", "days", "expected_local"),
    [
        # Friday morning in New York: Monday and Tuesday count, the weekend does not.
        (_utc(2026, 11, 20, 15), NY, 2, datetime(2026, 11, 24, 23, 59, 59)),
        # The same instant is Thursday afternoon in New York but Friday in Shanghai.
        (_utc(2026, 11, 19, 20), NY, 2, datetime(2026, 11, 23, 23, 59, 59)),
        (_utc(2026, 11, 19, 20), SHANGHAI, 2, datetime(2026, 11, 24, 23, 59, 59)),
        # Thanksgiving (Thursday 26 November 2026) is not a business day.
        (_utc(2026, 11, 24, 15), NY, 2, datetime(2026, 11, 27, 23, 59, 59)),
        # Across the spring clock change: still the end of the local day.
        (_utc(2026, 3, 6, 15), NY, 2, datetime(2026, 3, 10, 23, 59, 59)),
        (_utc(2026, 3, 6, 15), NY, 1, datetime(2026, 3, 9, 23, 59, 59)),
        # Saturday payment: counting starts Monday.
        (_utc(2026, 11, 21, 15), NY, 2, datetime(2026, 11, 24, 23, 59, 59)),
    ],
)
def test_ship_by_counts_business_days_in_the_sellers_time_zone(
    paid_at: datetime, zone: str, days: int, expected_local: datetime
) -> None:
    ship_by = logistics.ship_by_time(paid_at=paid_at, handling_days=days, timezone=zone)
    assert ship_by.tzinfo is not None
    assert ship_by == expected_local.replace(tzinfo=ZoneInfo(zone))


def test_spring_forward_deadline_is_an_hour_earlier_in_utc() -> None:
    before = logistics.ship_by_time(paid_at=_utc(2026, 3, 2, 15), handling_days=2, timezone=NY)
    after = logistics.ship_by_time(paid_at=_utc(2026, 3, 6, 15), handling_days=2, timezone=NY)
    assert before.astimezone(UTC).hour == 4 and after.astimezone(UTC).hour == 3


def test_paid_order_gets_its_deadline_from_the_market_and_the_sellers_zone(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    session.execute(update(Market).where(Market.code == "US").values(handling_days=3))
    session.commit()
    order = paid_order(session, session_factory, settings, timezone=SHANGHAI)
    event = session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.topic == "order.paid", OutboxEvent.subject_id == order.order_id
        )
    ).one()
    with unit_of_work(session_factory) as s:
        set_ship_by(s, event)
        set_ship_by(s, event)  # delivered twice: still one deadline
    session.rollback()
    deadline = session.get(ShipByDeadline, order.order_id)
    assert deadline is not None
    assert deadline.handling_days == 3 and deadline.seller_timezone == SHANGHAI
    assert deadline.ship_by == logistics.ship_by_time(
        paid_at=deadline.paid_at, handling_days=3, timezone=SHANGHAI
    )
    assert deadline.ship_by.astimezone(ZoneInfo(SHANGHAI)).hour == 23


def _deadline(factory: sessionmaker[Session], order_id: str, **values: object) -> ShipByDeadline:
    with unit_of_work(factory) as s:
        deadline = logistics.ensure_ship_by(session=s, order_id=order_id)
        assert deadline is not None
        for key, value in values.items():
            setattr(deadline, key, value)
        s.flush()
        s.expunge(deadline)
    return deadline


def test_late_dispatch_marks_orders_without_a_first_scan_by_the_deadline(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    unshipped = paid_order(session, session_factory, settings)
    on_time = paid_order(session, session_factory, settings)
    scanned_late = paid_order(session, session_factory, settings)
    by_platform = paid_order(session, session_factory, settings)
    cancelled = paid_order(session, session_factory, settings)
    deadlines = {
        o.order_id: _deadline(session_factory, o.order_id)
        for o in (unshipped, on_time, scanned_late, by_platform, cancelled)
    }
    _deadline(session_factory, by_platform.order_id, platform_fulfilled=True)
    with unit_of_work(session_factory) as s:
        transition(session=s, order_id=cancelled.order_id, to="cancelled")
    sim = carrier(settings)
    for order, when in (
        (on_time, deadlines[on_time.order_id].ship_by - timedelta(hours=2)),
        (scanned_late, deadlines[scanned_late.order_id].ship_by + timedelta(hours=2)),
    ):
        with unit_of_work(session_factory) as s:
            parcel = logistics.create_shipment(
                session=s,
                seller_id=order.seller.id,
                order_id=order.order_id,
                carrier=sim,
                weight_grams=400,
            )
            logistics.apply_tracking_event(
                session=s,
                carrier="simulated",
                point=checkpoint_of(event_body(parcel.tracking_number, "in_transit", when)),
            )
    latest = max(d.ship_by for d in deadlines.values())
    assert mark_late_dispatch(session_factory, now=min(d.ship_by for d in deadlines.values())) == 0
    assert mark_late_dispatch(session_factory, now=latest + timedelta(hours=3)) == 2
    assert mark_late_dispatch(session_factory, now=latest + timedelta(days=3)) == 0  # once
    session.rollback()
    late = set(
        session.scalars(
            select(ShipByDeadline.order_id).where(ShipByDeadline.late_dispatch_at.is_not(None))
        )
    )
    assert late == {unshipped.order_id, scanned_late.order_id}
    events = session.scalars(
        select(OutboxEvent.subject_id).where(OutboxEvent.topic == "order.late_dispatch")
    ).all()
    assert sorted(events) == sorted(late)
    assert logistics.late_dispatch_count(session=session, seller_id=unshipped.seller.id) == 1
    first_scan = session.get(ShipByDeadline, on_time.order_id)
    assert first_scan is not None and first_scan.first_transit_at is not None
