from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout.models import Order, OrderStatus
from reelshop.checkout.orders import transition
from reelshop.config import Settings
from reelshop.db import make_session_factory, unit_of_work, utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.inventory import service as inventory
from reelshop.logistics import fulfilment
from reelshop.logistics import service as logistics
from reelshop.logistics.fulfilment import (
    actual_ounces,
    dimensional_ounces,
    fee_bands,
    fee_for,
    is_platform_fulfilled,
)
from reelshop.logistics.fulfilment_models import (
    FulfilmentFeeCharge,
    InboundShipment,
    InboundStatus,
    PlatformFulfilledOrder,
)
from reelshop.logistics.models import Shipment
from reelshop.payments import ledger
from reelshop.payments.models import JournalEntry, JournalLine
from tests.factories import api_login, make_product, make_seller
from tests.logistics.fbp_helpers import fbp_order, stocked_seller
from tests.logistics.helpers import carrier, paid_order


@pytest.mark.parametrize(
    ("grams", "ounces"), [(1, 1), (28, 1), (29, 2), (454, 17), (453, 16), (1000, 36)]
)
def test_actual_weight_rounds_up_to_the_ounce(grams: int, ounces: int) -> None:
    assert actual_ounces(grams) == ounces


def test_dimensional_weight_is_cubic_inches_over_166() -> None:
    # 10 x 10 x 10 in = 1000 in^3 / 166 = 6.024 lb = 96.4 oz -> 97
    assert dimensional_ounces(254, 254, 254) == 97
    # 12 x 10 x 8.3 in = 996 in^3 / 166 = exactly 6 lb = 96 oz
    assert dimensional_ounces(3048 // 10, 254, 2108 // 10, divisor=166) in (96, 97)
    assert dimensional_ounces(None, 10, 10) == 0
    assert dimensional_ounces(254, 254, 254, divisor=139) == 116


def test_fee_bands_and_the_open_band(session: Session) -> None:
    bands = fee_bands(session=session, market_code="US")
    assert [fee_for(oz, bands) for oz in (1, 4, 5, 16, 17, 48)] == [306, 306, 335, 415, 499, 570]
    assert fee_for(49, bands) == 610  # one started pound above 48 oz
    assert fee_for(64, bands) == 610
    assert fee_for(65, bands) == 650
    assert fee_for(97, bands) == 730


def test_billable_weight_takes_the_greater(session: Session) -> None:
    _, seller = make_seller(session, commit=False)
    product = make_product(session, seller=seller, commit=False)
    product.length_mm, product.width_mm, product.height_mm = 254, 254, 254
    sku = product.skus[0]
    sku.weight_grams = 500  # 18 oz actual, 97 oz dimensional
    weight = fulfilment.billable_weight(sku, product)
    assert (weight.actual_oz, weight.dimensional_oz, weight.billable_oz) == (18, 97, 97)
    sku.weight_grams = 5000  # 177 oz actual beats the box
    assert fulfilment.billable_weight(sku, product).billable_oz == 177


def test_inbound_records_discrepancies_and_makes_undamaged_stock_sellable(
    session: Session,
) -> None:
    _, seller = make_seller(session, commit=False)
    product = make_product(session, seller=seller, stock=0, variants=2, commit=False)
    a, b = product.skus
    a.weight_grams = b.weight_grams = 200
    house = fulfilment.ensure_platform_warehouse(session=session, name="Dallas", country="US")
    inbound = fulfilment.announce_inbound(
        session=session,
        seller_id=seller.id,
        lines=[fulfilment.InboundLineIn(a.id, 10), fulfilment.InboundLineIn(b.id, 5)],
        reference="PO-1",
    )
    assert inbound.status == InboundStatus.ANNOUNCED
    assert inventory.available(session=session, sku_ids=[a.id]) == {a.id: 0}
    fulfilment.receive_inbound(
        session=session,
        inbound_id=inbound.id,
        counted=[fulfilment.ReceivedLineIn(a.id, 9, damaged_quantity=1)],
        staff_id="usr_staff",
    )
    lines = {line.sku_id: line for line in inbound.lines}
    assert lines[a.id].discrepancy == -2  # 9 counted, 1 of them damaged, 10 announced
    assert lines[b.id].received_quantity == 0 and lines[b.id].discrepancy == -5
    assert inventory.available(session=session, sku_ids=[a.id, b.id]) == {a.id: 8, b.id: 0}
    level = inventory.levels(session=session, sku_ids=[a.id])[0]
    assert level[1].id == house.id and level[0].on_hand == 8
    with pytest.raises(Conflict):
        fulfilment.receive_inbound(
            session=session, inbound_id=inbound.id, counted=[], staff_id="usr_staff"
        )


def test_inbound_refuses_bad_and_foreign_input(session: Session) -> None:
    _, seller = make_seller(session, commit=False)
    _, other = make_seller(session, commit=False)
    product = make_product(session, seller=seller, stock=0, commit=False)
    foreign = make_product(session, seller=other, stock=0, commit=False)
    sku = product.skus[0]
    fulfilment.ensure_platform_warehouse(session=session, name="Dallas", country="US")
    with pytest.raises(InvalidInput):  # no weight yet
        fulfilment.announce_inbound(
            session=session, seller_id=seller.id, lines=[fulfilment.InboundLineIn(sku.id, 1)]
        )
    sku.weight_grams = 100
    foreign.skus[0].weight_grams = 100
    with pytest.raises(NotFound):
        fulfilment.announce_inbound(
            session=session,
            seller_id=seller.id,
            lines=[fulfilment.InboundLineIn(foreign.skus[0].id, 1)],
        )
    for bad in (
        [],
        [fulfilment.InboundLineIn(sku.id, 0)],
        [fulfilment.InboundLineIn(sku.id, 1)] * 2,
    ):
        with pytest.raises(InvalidInput):
            fulfilment.announce_inbound(session=session, seller_id=seller.id, lines=bad)
    inbound = fulfilment.announce_inbound(
        session=session, seller_id=seller.id, lines=[fulfilment.InboundLineIn(sku.id, 3)]
    )
    for counted in (
        [fulfilment.ReceivedLineIn(foreign.skus[0].id, 1)],
        [fulfilment.ReceivedLineIn(sku.id, 2, damaged_quantity=3)],
        [fulfilment.ReceivedLineIn(sku.id, -1)],
    ):
        with pytest.raises(InvalidInput):
            fulfilment.receive_inbound(
                session=session, inbound_id=inbound.id, counted=counted, staff_id="usr_x"
            )
    with pytest.raises(NotFound):
        fulfilment.receive_inbound(session=session, inbound_id="ibs_nope", counted=[], staff_id="x")


def test_platform_fulfilled_orders_run_on_the_platform_clock_and_are_never_late(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    fbp = fbp_order(session, session_factory)
    own = paid_order(session, session_factory, settings)
    with unit_of_work(session_factory) as s:
        order = s.get(Order, fbp.order_id)
        assert order is not None and is_platform_fulfilled(order)
        own_order = s.get(Order, own.order_id)
        assert own_order is not None and not is_platform_fulfilled(own_order)
        fbp_deadline = logistics.ensure_ship_by(session=s, order_id=fbp.order_id)
        own_deadline = logistics.ensure_ship_by(session=s, order_id=own.order_id)
        assert fbp_deadline is not None and own_deadline is not None
        assert fbp_deadline.platform_fulfilled and fbp_deadline.handling_days == 1
        assert fbp_deadline.seller_timezone == "America/Chicago"
        assert not own_deadline.platform_fulfilled
        marked = logistics.mark_late_dispatch(session=s, now=utcnow() + timedelta(days=30))
        assert marked == 1
        assert fbp_deadline.late_dispatch_at is None and own_deadline.late_dispatch_at is not None
        assert logistics.late_dispatch_count(session=s, seller_id=fbp.seller.id) == 0


def _ship(session_factory: sessionmaker[Session], settings: Settings, fbp_id: str) -> None:
    with unit_of_work(session_factory) as s:
        fulfilment.mark_platform_fulfilled(session=s, order_id=fbp_id)
        fulfilment.ship_platform_order(
            session=s, order_id=fbp_id, staff_id="usr_staff", carrier=carrier(settings, seed=1)
        )
    with unit_of_work(session_factory) as s:
        transition(session=s, order_id=fbp_id, to=OrderStatus.SHIPPED, reason="first scan")


def test_fee_is_charged_once_through_the_ledger_when_the_order_ships(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    # 300 g = 11 oz actual; 200 x 150 x 100 mm = 183 in^3 / 166 = 1.1 lb = 18 oz -> band 32 oz
    fbp = fbp_order(session, session_factory, quantity=3)
    _ship(session_factory, settings, fbp.order_id)
    with unit_of_work(session_factory) as s:
        parcel = s.scalars(select(Shipment).where(Shipment.order_id == fbp.order_id)).one()
        assert parcel.lane == "domestic_us" and parcel.label_purchased
        with pytest.raises(Conflict):
            fulfilment.ship_platform_order(
                session=s, order_id=fbp.order_id, staff_id="x", carrier=carrier(settings)
            )
    with unit_of_work(session_factory) as s:
        charge = fulfilment.charge_fulfilment_fee(session=s, order_id=fbp.order_id)
        assert charge is not None
        assert charge.amount == 3 * 499 and charge.units == 3
        assert charge.breakdown[0]["billable_oz"] == 18
    with unit_of_work(session_factory) as s:
        again = fulfilment.charge_fulfilment_fee(session=s, order_id=fbp.order_id)
        assert again is not None and again.amount == 3 * 499
    with unit_of_work(session_factory) as s:
        entries = s.scalars(
            select(JournalEntry).where(JournalEntry.ref == f"fulfilment_fee:{fbp.order_id}")
        ).all()
        assert len(entries) == 1
        lines = s.scalars(select(JournalLine).where(JournalLine.entry_id == entries[0].id)).all()
        assert sum(line.amount for line in lines) == 0
        assert (
            ledger.balance(
                session=s, account=ledger.seller_receivable(fbp.seller.id), currency="USD"
            )
            == 1497
        )
        assert (
            ledger.balance(session=s, account=ledger.PLATFORM_FULFILMENT_REVENUE, currency="USD")
            == -1497
        )


def test_seller_shipped_orders_pay_no_fulfilment_fee(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    own = paid_order(session, session_factory, settings)
    with unit_of_work(session_factory) as s:
        assert fulfilment.charge_fulfilment_fee(session=s, order_id=own.order_id) is None
        assert fulfilment.mark_platform_fulfilled(session=s, order_id=own.order_id) is None
        assert fulfilment.charge_fulfilment_fee(session=s, order_id="ord_nope") is None


def test_concurrent_fee_handlers_charge_once(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, engine: Engine
) -> None:
    writer = make_session_factory(engine)  # the worker's: writing units take the write lock
    fbp = fbp_order(session, session_factory)
    _ship(session_factory, settings, fbp.order_id)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def charge() -> None:
        barrier.wait()
        try:
            with unit_of_work(writer) as s:
                fulfilment.charge_fulfilment_fee(session=s, order_id=fbp.order_id)
        except Exception as exc:  # the losers' unique keys fail; nothing half-written
            errors.append(exc)

    threads = [threading.Thread(target=charge) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with unit_of_work(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(FulfilmentFeeCharge)) == 1
        assert (
            s.scalar(
                select(func.count())
                .select_from(JournalEntry)
                .where(JournalEntry.ref == f"fulfilment_fee:{fbp.order_id}")
            )
            == 1
        )
        assert (
            ledger.balance(
                session=s, account=ledger.seller_receivable(fbp.seller.id), currency="USD"
            )
            == 2 * 499
        )
    assert not errors, errors  # the row lock (PostgreSQL) or write lock (SQLite) serialises them


def test_api_announce_receive_and_ship(
    session: Session, session_factory: sessionmaker[Session], client: TestClient
) -> None:
    email, _seller, sku_id, _, staff_email = stocked_seller(session)
    other_user, _ = make_seller(session)
    seller_auth = api_login(client, email)
    staff_auth = api_login(client, staff_email)
    created = client.post(
        "/api/v1/seller/fulfilment/inbound-shipments",
        json={"reference": "PO-7", "lines": [{"sku_id": sku_id, "quantity": 4}]},
        headers=seller_auth,
    )
    assert created.status_code == 201, created.text
    inbound_id = created.json()["id"]
    for bad in (
        {"lines": []},
        {"lines": [{"sku_id": sku_id, "quantity": 0}]},
        {"lines": [{"sku_id": sku_id, "quantity": "4"}]},
        {"lines": [{"sku_id": "sku_nope", "quantity": 1}]},
        {"lines": [{"sku_id": sku_id, "quantity": 1}], "location_id": "loc_nope"},
    ):
        response = client.post(
            "/api/v1/seller/fulfilment/inbound-shipments", json=bad, headers=seller_auth
        )
        assert 400 <= response.status_code < 500, (bad, response.text)
    other = client.post(
        "/api/v1/seller/fulfilment/inbound-shipments",
        json={"lines": [{"sku_id": sku_id, "quantity": 1}]},
        headers=api_login(client, other_user.email),
    )
    assert other.status_code == 404
    refused = client.post(
        f"/api/v1/staff/fulfilment/inbound-shipments/{inbound_id}/receive",
        json={"lines": []},
        headers=seller_auth,
    )
    assert refused.status_code == 403
    received = client.post(
        f"/api/v1/staff/fulfilment/inbound-shipments/{inbound_id}/receive",
        json={"lines": [{"sku_id": sku_id, "received_quantity": 3}]},
        headers=staff_auth,
    )
    assert received.status_code == 200, received.text
    assert received.json()["lines"][0]["discrepancy"] == -1
    listed = client.get("/api/v1/seller/fulfilment/inbound-shipments", headers=seller_auth)
    assert listed.json()[0]["status"] == "received"
    missing = client.post(
        "/api/v1/staff/fulfilment/orders/ord_nope/ship", json={}, headers=staff_auth
    )
    assert missing.status_code == 404
    fees = client.get("/api/v1/seller/fulfilment/fees", headers=seller_auth)
    assert fees.status_code == 200 and fees.json() == []
    session.rollback()
    assert session.get(PlatformFulfilledOrder, "ord_nope") is None


def test_pages_announce_receive_and_pick(
    session: Session, session_factory: sessionmaker[Session], client: TestClient
) -> None:
    from tests.factories import page_login

    fbp = fbp_order(session, session_factory)
    with unit_of_work(session_factory) as s:  # the order.paid handler's work
        fulfilment.mark_platform_fulfilled(session=s, order_id=fbp.order_id)
    csrf = page_login(client, fbp.seller_email)
    page = client.get("/seller/fulfilment")
    assert page.status_code == 200 and "Announce shipment" in page.text and "$4.99" in page.text
    bad = client.post(
        "/seller/fulfilment/inbound",
        data={"csrf_token": csrf, "sku_1": fbp.sku_id, "quantity_1": "lots"},
    )
    assert bad.status_code == 422
    made = client.post(
        "/seller/fulfilment/inbound",
        data={"csrf_token": csrf, "sku_1": fbp.sku_id, "quantity_1": "6", "reference": "PO-9"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    assert client.get("/staff/fulfilment").status_code == 403
    client.cookies.clear()
    csrf = page_login(client, fbp.staff_email)
    staff = client.get("/staff/fulfilment")
    assert staff.status_code == 200 and "PO-9" in staff.text and fbp.order_id in staff.text
    inbound_id = session.scalars(
        select(InboundShipment.id).where(InboundShipment.reference == "PO-9")
    ).one()
    session.rollback()
    over = client.post(
        f"/staff/fulfilment/inbound/{inbound_id}/receive",
        data={"csrf_token": csrf, f"received_{fbp.sku_id}": "2", f"damaged_{fbp.sku_id}": "3"},
    )
    assert over.status_code == 422
    done = client.post(
        f"/staff/fulfilment/inbound/{inbound_id}/receive",
        data={"csrf_token": csrf, f"received_{fbp.sku_id}": "5", f"damaged_{fbp.sku_id}": "0"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    picked = client.post(
        f"/staff/fulfilment/orders/{fbp.order_id}/ship",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert picked.status_code == 303, picked.text
    again = client.post(f"/staff/fulfilment/orders/{fbp.order_id}/ship", data={"csrf_token": csrf})
    assert again.status_code == 409
    session.rollback()
    assert session.get(PlatformFulfilledOrder, fbp.order_id).shipment_id is not None  # type: ignore[union-attr]


def test_handlers_and_the_snapshot_job_are_registered() -> None:
    import reelshop.jobs  # noqa: F401 - registers every domain's jobs
    from reelshop.outbox.service import subscriptions
    from reelshop.scheduling import periodic_jobs

    assert "logistics.snapshot_seller_performance" in {job.name for job in periodic_jobs()}
    expected = {
        "order.paid": "logistics.mark_platform_fulfilled",
        "order.shipped": "logistics.charge_fulfilment_fee",
        "order.placed": "logistics.record_landed_cost",
        "shipment.created": "logistics.declare_customs",
    }
    for topic, name in expected.items():
        assert name in {s.name for s in subscriptions(topic)}, topic


def test_two_staff_receiving_at_once_count_the_stock_in_once(
    session: Session, session_factory: sessionmaker[Session], engine: Engine
) -> None:
    writer = make_session_factory(engine)
    _, seller = make_seller(session, commit=False)
    product = make_product(session, seller=seller, stock=0, commit=False)
    sku = product.skus[0]
    sku.weight_grams = 100
    fulfilment.ensure_platform_warehouse(session=session, name="Dallas", country="US")
    inbound = fulfilment.announce_inbound(
        session=session, seller_id=seller.id, lines=[fulfilment.InboundLineIn(sku.id, 7)]
    )
    session.commit()
    barrier = threading.Barrier(3)
    outcomes: list[str] = []

    def receive() -> None:
        barrier.wait()
        try:
            with unit_of_work(writer) as s:
                fulfilment.receive_inbound(
                    session=s,
                    inbound_id=inbound.id,
                    counted=[fulfilment.ReceivedLineIn(sku.id, 7)],
                    staff_id="usr_staff",
                )
            outcomes.append("received")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=receive) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "received"]
    with unit_of_work(session_factory) as s:
        assert inventory.available(session=s, sku_ids=[sku.id]) == {sku.id: 7}
