from __future__ import annotations

import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout.models import Order, OrderStatus
from reelshop.config import Settings
from reelshop.db import make_session_factory, unit_of_work, utcnow
from reelshop.logistics import service as logistics
from reelshop.logistics.carriers import SIGNATURE_HEADER, Mishaps, checkpoint_of
from reelshop.logistics.jobs import deliver_simulated_tracking
from reelshop.logistics.models import (
    DeadLetterEvent,
    Shipment,
    SimulatedCarrierEvent,
    TrackingEvent,
)
from reelshop.payments import service as payments
from tests.logistics.helpers import (
    PaidOrder,
    carrier,
    client_poster,
    event_body,
    paid_order,
    post_event,
)


def _ship(
    factory: sessionmaker[Session], settings: Settings, order: PaidOrder, *, quantity: int = 2
) -> Shipment:
    with unit_of_work(factory) as s:
        shipment = logistics.create_shipment(
            session=s,
            seller_id=order.seller.id,
            order_id=order.order_id,
            carrier=carrier(settings),
            weight_grams=500,
            items=[logistics.ParcelItem(order.line_id, quantity)],
        )
        s.expunge(shipment)
    return shipment


def _count(session: Session, model: type) -> int:
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _order(session: Session, order_id: str) -> Order:
    session.rollback()
    order = session.get(Order, order_id)
    assert order is not None
    return order


def test_first_in_transit_scan_ships_the_order_at_the_scan_time(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings)
    parcel = _ship(session_factory, settings, order)
    sim = carrier(settings)
    assert _order(session, order.order_id).status == OrderStatus.PAID  # a label is not a scan
    scanned = utcnow() - timedelta(hours=3)
    response = post_event(client, sim, event_body(parcel.tracking_number, "in_transit", scanned))
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "applied"
    shipped = _order(session, order.order_id)
    assert shipped.status == OrderStatus.SHIPPED
    assert shipped.shipped_at == scanned.replace(microsecond=shipped.shipped_at.microsecond)
    row = session.get(Shipment, parcel.id)
    assert row is not None and row.status == "in_transit" and row.first_transit_at is not None


def test_forged_stale_and_malformed_webhooks_write_nothing(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings)
    parcel = _ship(session_factory, settings, order)
    sim = carrier(settings)
    body = event_body(parcel.tracking_number, "in_transit", utcnow())
    url = "/api/v1/logistics/webhooks/simulated"
    forged = client.post(
        url, content=body, headers={SIGNATURE_HEADER: f"t={int(time.time())},v1={'0' * 64}"}
    )
    assert forged.status_code == 401
    tampered = body.replace(b"in_transit", b"delivered")
    assert client.post(url, content=tampered, headers=sim.signed_headers(body)).status_code == 401
    assert client.post(url, content=body).status_code == 401
    stale = post_event(client, sim, body, timestamp=int(time.time()) - 600)
    assert stale.status_code == 401
    assert post_event(client, sim, b'{"id": "x"}').status_code == 400
    assert post_event(client, sim, b"not json").status_code == 400
    assert client.post("/api/v1/logistics/webhooks/pigeon", content=body).status_code == 404
    assert client.post("/api/v1/logistics/webhooks/ups", content=body).status_code == 409
    assert _count(session, TrackingEvent) == 0
    assert _count(session, DeadLetterEvent) == 0
    assert _order(session, order.order_id).status == OrderStatus.PAID


def test_duplicates_are_applied_once_and_a_late_in_transit_does_not_undo_delivery(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings)
    parcel = _ship(session_factory, settings, order)
    sim = carrier(settings)
    t0 = utcnow() - timedelta(days=3)
    picked = event_body(parcel.tracking_number, "in_transit", t0, event_id="cev_pick")
    hub = event_body(parcel.tracking_number, "in_transit", t0 + timedelta(days=1))
    delivered = event_body(parcel.tracking_number, "delivered", t0 + timedelta(days=2))
    assert post_event(client, sim, picked).json()["outcome"] == "applied"
    assert post_event(client, sim, picked).json()["outcome"] == "duplicate"
    assert post_event(client, sim, delivered).json()["outcome"] == "applied"
    assert post_event(client, sim, hub).json()["outcome"] == "stale"  # late, older
    row = session.get(Shipment, parcel.id)
    assert row is not None and row.status == "delivered"
    assert _count(session, TrackingEvent) == 3
    final = _order(session, order.order_id)
    assert final.status == OrderStatus.DELIVERED
    assert final.shipped_at is not None and final.shipped_at < final.delivered_at  # type: ignore[operator]


def test_delivered_only_when_every_parcel_is_then_payments_can_settle_it(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings, through_payments=True)
    first = _ship(session_factory, settings, order, quantity=1)
    second = _ship(session_factory, settings, order, quantity=1)
    sim = carrier(settings)
    t0 = utcnow() - timedelta(days=10)
    for parcel in (first, second):
        post_event(client, sim, event_body(parcel.tracking_number, "in_transit", t0))
    post_event(client, sim, event_body(first.tracking_number, "delivered", t0 + timedelta(days=2)))
    assert _order(session, order.order_id).status == OrderStatus.SHIPPED
    assert order.order_id not in payments.settlement_candidates(session=session, now=utcnow())
    last = t0 + timedelta(days=3)
    post_event(client, sim, event_body(second.tracking_number, "delivered", last))
    delivered = _order(session, order.order_id)
    assert delivered.status == OrderStatus.DELIVERED
    assert delivered.delivered_at is not None
    assert abs((delivered.delivered_at - last).total_seconds()) < 1
    assert order.order_id in payments.settlement_candidates(session=session, now=utcnow())


def test_events_for_unknown_parcels_are_dead_lettered_once(
    session: Session, settings: Settings, client: TestClient
) -> None:
    sim = carrier(settings)
    body = event_body("RSIM0000000000ZZ", "in_transit", utcnow(), event_id="cev_orphan")
    first = post_event(client, sim, body)
    assert first.status_code == 200 and first.json()["outcome"] == "dead_lettered"
    assert post_event(client, sim, body).json()["outcome"] == "duplicate"
    session.rollback()
    letters = session.scalars(select(DeadLetterEvent)).all()
    assert len(letters) == 1
    assert letters[0].tracking_number == "RSIM0000000000ZZ"
    assert "no parcel" in letters[0].reason
    assert letters[0].payload["id"] == "cev_orphan"


def test_the_same_event_from_many_threads_is_stored_once(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, engine: Engine
) -> None:
    writer = make_session_factory(engine)
    order = paid_order(session, session_factory, settings)
    parcel = _ship(session_factory, settings, order)
    point = checkpoint_of(
        event_body(parcel.tracking_number, "in_transit", utcnow(), event_id="cev_race")
    )
    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def apply() -> None:
        try:
            barrier.wait()
            with unit_of_work(writer) as s:
                outcomes.append(
                    logistics.apply_tracking_event(session=s, carrier="simulated", point=point)
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=apply) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(outcomes) == ["applied"] + ["duplicate"] * 5
    assert _count(session, TrackingEvent) == 1
    assert _order(session, order.order_id).status == OrderStatus.SHIPPED


def test_the_worker_job_delivers_the_whole_journey_shuffled_and_duplicated(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings, ships_from="CN")
    parcel = _ship(session_factory, settings, order)
    later = utcnow() + timedelta(days=60)
    nothing_due = deliver_simulated_tracking(
        session_factory, settings, post=client_poster(client), now=utcnow()
    )
    assert nothing_due.attempted == 0  # the parcel has not been picked up yet
    report = deliver_simulated_tracking(
        session_factory,
        settings,
        post=client_poster(client),
        rng=random.Random(4),
        now=later,
        duplicate_rate=0.5,
    )
    assert report.attempted == report.delivered >= 8 and report.failed == 0
    assert report.duplicates_sent > 0
    row = session.get(Shipment, parcel.id)
    assert row is not None and row.status == "delivered"
    assert _count(session, TrackingEvent) == report.attempted
    assert _order(session, order.order_id).status == OrderStatus.DELIVERED
    assert _count(session, SimulatedCarrierEvent) == report.attempted
    again = deliver_simulated_tracking(
        session_factory, settings, post=client_poster(client), now=later
    )
    assert again.attempted == 0


def test_endpoint_failures_are_retried_later(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    order = paid_order(session, session_factory, settings)
    _ship(session_factory, settings, order)
    later = utcnow() + timedelta(days=30)
    report = deliver_simulated_tracking(
        session_factory, settings, post=lambda body, headers: 503, now=later
    )
    assert report.failed == report.attempted > 0
    session.rollback()
    pending = session.scalars(select(SimulatedCarrierEvent)).all()
    assert all(e.delivered_at is None and e.attempts == 1 for e in pending)
    assert json.loads(json.dumps(pending[0].payload))["type"] == "tracker.updated"
    assert datetime.now(UTC) < max(e.send_after for e in pending)


def test_events_that_came_before_the_parcel_was_registered_are_replayed(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings)
    sim = carrier(settings)
    number = "RSIMEARLY0000001"
    scanned = utcnow() - timedelta(hours=5)
    early = post_event(client, sim, event_body(number, "in_transit", scanned))
    assert early.json()["outcome"] == "dead_lettered"
    assert _order(session, order.order_id).status == OrderStatus.PAID
    with unit_of_work(session_factory) as s:
        logistics.create_shipment(
            session=s,
            seller_id=order.seller.id,
            order_id=order.order_id,
            carrier=sim,
            weight_grams=400,
            tracking_number=number,
        )
    shipped = _order(session, order.order_id)
    assert shipped.status == OrderStatus.SHIPPED
    letter = session.scalars(select(DeadLetterEvent)).one()
    assert letter.resolved_at is not None
    assert _count(session, TrackingEvent) == 1


def test_customs_holds_pass_and_lost_parcels_stay_lost(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    held = paid_order(session, session_factory, settings, ships_from="CN")
    lost = paid_order(session, session_factory, settings, ships_from="CN")
    parcels = {}
    for order, mishaps in (
        (held, Mishaps(customs_hold=1.0, exception=0, lost=0)),
        (lost, Mishaps(customs_hold=0, exception=0, lost=1.0)),
    ):
        with unit_of_work(session_factory) as s:
            shipment = logistics.create_shipment(
                session=s,
                seller_id=order.seller.id,
                order_id=order.order_id,
                carrier=carrier(settings, mishaps=mishaps),
                weight_grams=500,
            )
            parcels[order.order_id] = shipment.id
    deliver_simulated_tracking(
        session_factory,
        settings,
        post=client_poster(client),
        rng=random.Random(2),
        now=utcnow() + timedelta(days=90),
    )
    session.rollback()
    held_parcel = session.get(Shipment, parcels[held.order_id])
    assert held_parcel is not None and held_parcel.status == "delivered"
    assert "customs_hold" in {e.code for e in held_parcel.events}
    assert _order(session, held.order_id).status == OrderStatus.DELIVERED
    lost_parcel = session.get(Shipment, parcels[lost.order_id])
    assert lost_parcel is not None and lost_parcel.status == "lost"
    assert _order(session, lost.order_id).status == OrderStatus.SHIPPED
