from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from reelshop import worker_context
from reelshop.config import Settings
from reelshop.db import make_session_factory, unit_of_work, utcnow
from reelshop.logistics import delays, estimates
from reelshop.logistics import service as logistics
from reelshop.logistics.estimate_models import DelayCase, DeliveryPromise
from reelshop.logistics.models import Shipment
from reelshop.logistics.promise_jobs import detect_delays
from reelshop.mail import FolderMailer
from reelshop.notifications.models import Notification
from reelshop.notifications.service import CREATED
from tests.logistics.helpers import PaidOrder, carrier, event_body, paid_order, post_event
from tests.logistics.promise_helpers import add_history
from tests.notifications.helpers import deliver_topic, mails


@pytest.fixture
def mail_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "mail"
    monkeypatch.setitem(worker_context._state, "mailer", FolderMailer(folder))
    return folder


def _shipped(
    session: Session,
    factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
    *,
    scanned_hours_ago: float,
) -> tuple[PaidOrder, str, str]:
    order = paid_order(session, factory, settings)
    sim = carrier(settings)
    with unit_of_work(factory) as s:
        estimates.promise_order(session=s, order_id=order.order_id)
        shipment = logistics.create_shipment(
            session=s,
            seller_id=order.seller.id,
            order_id=order.order_id,
            carrier=sim,
            weight_grams=300,
        )
        number, shipment_id = shipment.tracking_number, shipment.id
    at = utcnow() - timedelta(hours=scanned_hours_ago)
    response = post_event(client, sim, event_body(number, "in_transit", at, code="picked_up"))
    assert response.status_code == 200, response.text
    return order, number, shipment_id


def _cases(session: Session, shipment_id: str) -> list[DelayCase]:
    session.rollback()
    return list(session.scalars(select(DelayCase).where(DelayCase.shipment_id == shipment_id)))


def test_a_stalled_parcel_raises_one_case_and_the_shopper_hears_once(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
    mail_folder: Path,
) -> None:
    order, number, shipment_id = _shipped(
        session, session_factory, settings, client, scanned_hours_ago=80
    )
    quiet, _, quiet_id = _shipped(session, session_factory, settings, client, scanned_hours_ago=10)
    first = detect_delays(session_factory)
    second = detect_delays(session_factory)
    assert first.opened == 1 and second.opened == 0  # 80 h > the 72 h default; 10 h is fine
    cases = _cases(session, shipment_id)
    assert len(cases) == 1 and _cases(session, quiet_id) == []
    case = cases[0]
    assert case.reason == "stalled" and case.milestone == "picked_up"
    assert case.open_key == shipment_id and case.new_latest > utcnow()
    notes = list(
        session.scalars(select(Notification).where(Notification.user_id == quiet.placed.shopper_id))
    )
    assert notes == []
    note = session.scalars(
        select(Notification).where(Notification.kind == "delivery.delayed")
    ).one()
    assert note.link == f"/orders/{order.order_id}/tracking"
    assert "New estimate" in note.body and "not been scanned since" in note.body
    assert deliver_topic(session_factory, settings, CREATED) == 1
    (sent,) = mails(mail_folder)
    assert sent[0] == order.shopper_email and "New estimate" in sent[2]

    # The parcel moves: the case closes; it is quiet again only after another long gap.
    sim = carrier(settings)
    post_event(
        client,
        sim,
        event_body(number, "in_transit", utcnow() - timedelta(hours=1), code="arrived_hub"),
    )
    report = detect_delays(session_factory)
    assert report.resolved == 1 and report.opened == 0
    (closed,) = _cases(session, shipment_id)
    assert closed.open_key is None and closed.resolution == "moved"
    assert closed.resolved_at is not None
    with unit_of_work(session_factory) as s:  # days later it stalls again: a new case
        s.execute(
            update(Shipment)
            .where(Shipment.id == shipment_id)
            .values(last_event_at=utcnow() - timedelta(hours=100))
        )
    assert detect_delays(session_factory).opened == 1
    assert len(_cases(session, shipment_id)) == 2


def test_delivery_resolves_the_case(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    _, number, shipment_id = _shipped(
        session, session_factory, settings, client, scanned_hours_ago=90
    )
    assert detect_delays(session_factory).opened == 1
    post_event(
        client, carrier(settings), event_body(number, "delivered", utcnow(), code="delivered")
    )
    assert detect_delays(session_factory).resolved == 1
    (case,) = _cases(session, shipment_id)
    assert case.resolution == "delivered" and case.open_key is None


def test_past_the_promised_date_is_a_delay_even_while_moving(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order, _, shipment_id = _shipped(
        session, session_factory, settings, client, scanned_hours_ago=2
    )
    assert detect_delays(session_factory).opened == 0
    with unit_of_work(session_factory) as s:
        s.execute(
            update(DeliveryPromise)
            .where(DeliveryPromise.order_id == order.order_id)
            .values(latest=utcnow() - timedelta(hours=1))
        )
    assert detect_delays(session_factory).opened == 1
    (case,) = _cases(session, shipment_id)
    assert case.reason == "past_promise"


def test_the_normal_gap_is_learned_from_history(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    history = paid_order(session, session_factory, settings)
    add_history(
        session,
        order_id=history.order_id,
        seller_id=history.seller.id,
        count=40,
        paid_at=utcnow() - timedelta(days=20),
    )
    _, _, shipment_id = _shipped(session, session_factory, settings, client, scanned_hours_ago=30)
    with unit_of_work(session_factory) as s:
        shipment = s.get(Shipment, shipment_id)
        assert shipment is not None
        assert (
            delays.normal_gap(session=s, shipment=shipment, milestone="picked_up", market_code="US")
            == 72
        )  # thin history: the policy's stall hours
        estimates.refresh_transit_stats(session=s)
        learned = delays.normal_gap(
            session=s, shipment=shipment, milestone="picked_up", market_code="US"
        )
    assert 15 <= learned <= 23  # history: 60..90 h over four legs
    assert detect_delays(session_factory).opened == 1  # 30 h quiet is long for this lane
    (case,) = _cases(session, shipment_id)
    assert case.reason == "stalled"


def test_two_workers_open_one_case(
    engine: Engine,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    _, _, shipment_id = _shipped(session, session_factory, settings, client, scanned_hours_ago=90)
    # The workers' own units of work take SQLite's write lock at BEGIN, as the worker's do.
    workers = make_session_factory(engine)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            detect_delays(workers)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(_cases(session, shipment_id)) == 1
    assert (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "delivery.delayed")
        )
        == 1
    )
