from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout.models import Order, OrderLine
from reelshop.config import Settings
from reelshop.db import make_session_factory, unit_of_work
from reelshop.inventory import service as inventory
from reelshop.logistics import cancellation
from reelshop.logistics import service as logistics
from reelshop.logistics.estimate_models import AutoCancellation
from reelshop.logistics.models import ShipByDeadline
from reelshop.notifications.models import Notification
from reelshop.outbox.models import OutboxEvent
from reelshop.payments import service as payments
from reelshop.payments.models import Refund
from reelshop.payments.provider import PaymentProvider
from tests.logistics.helpers import PaidOrder, carrier, event_body, paid_order


def _deadline(
    session: Session, factory: sessionmaker[Session], order: PaidOrder, **values: object
) -> tuple[datetime, datetime]:
    with unit_of_work(factory) as s:
        logistics.ensure_ship_by(session=s, order_id=order.order_id)
        if values:
            s.execute(
                update(ShipByDeadline)
                .where(ShipByDeadline.order_id == order.order_id)
                .values(**values)
            )
    session.rollback()
    deadline = session.get(ShipByDeadline, order.order_id)
    assert deadline is not None
    until = cancellation.cancel_after(session=session, deadline=deadline, market_code="US")
    ship_by = deadline.ship_by
    session.rollback()  # end the read: the code under test writes next
    return ship_by, until


def _provider(settings: Settings) -> Callable[[], PaymentProvider]:
    return lambda: payments.get_provider("simulated", settings)


def _on_hand(session: Session, order_id: str) -> int:
    line = session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)).one()
    return inventory.summary(session=session, sku_id=line.sku_id).on_hand


def test_grace_is_business_days_after_the_ship_by_day(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    order = paid_order(session, session_factory, settings, through_payments=True)
    ship_by, until = _deadline(session, session_factory, order)
    assert until.date() >= (ship_by + timedelta(days=3)).date()
    assert until - ship_by <= timedelta(days=5, hours=1)  # 3 business days, maybe a weekend
    assert until.astimezone(ship_by.tzinfo).weekday() < 5


def test_an_unshipped_order_past_grace_is_refunded_in_full_once(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    order = paid_order(session, session_factory, settings, through_payments=True)
    before_stock = _on_hand(session, order.order_id)
    _, until = _deadline(session, session_factory, order)
    provider = _provider(settings)
    assert (
        cancellation.cancel_unshipped(session_factory, provider, now=until - timedelta(minutes=1))
        == 0
    )
    assert (
        cancellation.cancel_unshipped(session_factory, provider, now=until + timedelta(minutes=1))
        == 1
    )
    assert (
        cancellation.cancel_unshipped(session_factory, provider, now=until + timedelta(days=1)) == 0
    )
    session.rollback()
    placed = session.get(Order, order.order_id)
    assert placed is not None
    assert placed.status == "refunded" and placed.refunded_amount == placed.total_amount
    refunds = list(session.scalars(select(Refund).where(Refund.order_id == order.order_id)))
    assert [r.amount for r in refunds] == [placed.total_amount]
    record = session.get(AutoCancellation, order.order_id)
    assert record is not None and record.refund_id == refunds[0].id
    assert record.counts_against_seller is True and record.amount == placed.total_amount
    assert _on_hand(session, order.order_id) == before_stock + 2  # both units back on hand
    topics = set(
        session.scalars(select(OutboxEvent.topic).where(OutboxEvent.subject_id == order.order_id))
    )
    assert {"order.auto_cancelled", "payment.refunded"} <= topics
    kinds = list(
        session.scalars(
            select(Notification.user_id).where(Notification.kind == "order.auto_cancelled")
        )
    )
    assert sorted(kinds) == sorted([order.placed.shopper_id, order.seller.user_id])


def test_scanned_and_already_cancelled_orders_are_left_alone(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    scanned = paid_order(session, session_factory, settings, through_payments=True)
    _, until = _deadline(session, session_factory, scanned)
    sim = carrier(settings)
    with unit_of_work(session_factory) as s:
        shipment = logistics.create_shipment(
            session=s,
            seller_id=scanned.seller.id,
            order_id=scanned.order_id,
            carrier=sim,
            weight_grams=200,
        )
        number = shipment.tracking_number
    from reelshop.logistics.carriers import checkpoint_of

    with unit_of_work(session_factory) as s:
        logistics.apply_tracking_event(
            session=s,
            carrier="simulated",
            point=checkpoint_of(
                event_body(number, "in_transit", until + timedelta(hours=1), code="picked_up")
            ),
        )
    session.rollback()  # reading scanned.seller began a snapshot; end it before writing
    labelled_only = paid_order(session, session_factory, settings, through_payments=True)
    _, until2 = _deadline(session, session_factory, labelled_only)
    with unit_of_work(session_factory) as s:  # a label but never a scan: still unshipped
        logistics.create_shipment(
            session=s,
            seller_id=labelled_only.seller.id,
            order_id=labelled_only.order_id,
            carrier=sim,
            weight_grams=200,
        )
    later = max(until, until2) + timedelta(hours=2)
    assert cancellation.cancel_unshipped(session_factory, _provider(settings), now=later) == 1
    session.rollback()
    assert session.get(Order, scanned.order_id).status == "shipped"  # type: ignore[union-attr]
    assert session.get(Order, labelled_only.order_id).status == "refunded"  # type: ignore[union-attr]


def test_platform_fulfilled_orders_do_not_count_against_the_seller(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    order = paid_order(session, session_factory, settings, through_payments=True)
    _, until = _deadline(session, session_factory, order, platform_fulfilled=True)
    assert (
        cancellation.cancel_unshipped(
            session_factory, _provider(settings), now=until + timedelta(hours=1)
        )
        == 1
    )
    session.rollback()
    record = session.get(AutoCancellation, order.order_id)
    assert record is not None and record.counts_against_seller is False


def test_two_workers_at_once_refund_once(
    engine: Engine, session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    orders = [
        paid_order(session, session_factory, settings, through_payments=True) for _ in range(2)
    ]
    untils = [_deadline(session, session_factory, o)[1] for o in orders]
    now = max(untils) + timedelta(hours=1)
    # The workers' own units of work take SQLite's write lock at BEGIN, as the worker's do.
    workers = make_session_factory(engine)
    barrier = threading.Barrier(4)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            counts.append(cancellation.cancel_unshipped(workers, _provider(settings), now=now))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(counts) == 2
    session.rollback()
    ids = [o.order_id for o in orders]
    assert (
        session.scalar(select(func.count()).select_from(Refund).where(Refund.order_id.in_(ids)))
        == 2
    )
    assert (
        session.scalar(
            select(func.count())
            .select_from(AutoCancellation)
            .where(AutoCancellation.order_id.in_(ids))
        )
        == 2
    )
    for o in orders:
        placed = session.get(Order, o.order_id)
        assert placed is not None and placed.refunded_amount == placed.total_amount
