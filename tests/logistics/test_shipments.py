from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.config import Settings
from reelshop.logistics.models import Shipment, SimulatedCarrierEvent
from tests.factories import api_login
from tests.logistics.helpers import paid_order


def _count(session: Session, model: type) -> int:
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_seller_buys_a_simulated_label_and_the_journey_is_planned(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings, ships_from="CN")
    headers = api_login(client, order.seller_email)
    response = client.post(
        f"/api/v1/seller/orders/{order.order_id}/shipments",
        json={"carrier": "simulated", "weight_grams": 800},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("shp_")
    assert body["tracking_number"].startswith("RSIM")
    assert body["lane"] == "cn_us"
    assert body["status"] == "label_created"
    assert body["label_purchased"] is True and body["label_cost_amount"] > 0
    assert body["items"] == [{"order_line_id": order.line_id, "quantity": 2}]
    queued = session.scalars(
        select(SimulatedCarrierEvent.payload)
        .where(SimulatedCarrierEvent.tracking_number == body["tracking_number"])
        .order_by(SimulatedCarrierEvent.id)
    ).all()
    # A journey is planned at purchase (it may end early: the live carrier loses some).
    assert queued[0]["data"]["checkpoint"]["code"] == "picked_up"
    assert len(queued) >= 2
    listed = client.get(f"/api/v1/seller/orders/{order.order_id}/shipments", headers=headers)
    assert [s["id"] for s in listed.json()] == [body["id"]]
    shopper = api_login(client, order.shopper_email)
    mine = client.get(f"/api/v1/orders/{order.order_id}/shipments", headers=shopper)
    assert mine.status_code == 200 and mine.json()[0]["tracking_number"] == body["tracking_number"]


def test_seller_enters_a_tracking_number_bought_elsewhere_in_two_parcels(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings)
    headers = api_login(client, order.seller_email)
    url = f"/api/v1/seller/orders/{order.order_id}/shipments"
    first = client.post(
        url,
        json={
            "carrier": "ups",
            "tracking_number": "1z999aa10123456784",
            "weight_grams": 300,
            "items": [{"order_line_id": order.line_id, "quantity": 1}],
        },
        headers=headers,
    )
    assert first.status_code == 201, first.text
    assert first.json()["tracking_number"] == "1Z999AA10123456784"
    assert first.json()["label_purchased"] is False
    again = client.post(
        url,
        json={
            "carrier": "ups",
            "tracking_number": "1Z999AA10123456784",
            "weight_grams": 300,
            "items": [{"order_line_id": order.line_id, "quantity": 1}],
        },
        headers=headers,
    )
    assert again.status_code == 409
    too_many = client.post(
        url,
        json={
            "carrier": "usps",
            "tracking_number": "9400100000000000000000",
            "weight_grams": 300,
            "items": [{"order_line_id": order.line_id, "quantity": 2}],
        },
        headers=headers,
    )
    assert too_many.status_code == 422
    second = client.post(
        url,
        json={
            "carrier": "usps",
            "tracking_number": "9400100000000000000000",
            "weight_grams": 300,
            "items": [{"order_line_id": order.line_id, "quantity": 1}],
        },
        headers=headers,
    )
    assert second.status_code == 201, second.text
    assert _count(session, Shipment) == 2


def test_bad_shipping_input_is_refused_and_writes_nothing(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings)
    headers = api_login(client, order.seller_email)
    url = f"/api/v1/seller/orders/{order.order_id}/shipments"
    cases = [
        (
            {"carrier": "ups", "tracking_number": "1Z12", "weight_grams": 300},
            422,
            "bad-tracking-number",
        ),
        (
            {"carrier": "pigeon", "tracking_number": "1", "weight_grams": 300},
            404,
            "unknown-carrier",
        ),
        ({"carrier": "ups", "weight_grams": 300}, 409, "carrier-sells-no-labels"),
        ({"carrier": "simulated", "weight_grams": 0}, 422, None),
        (
            {
                "carrier": "simulated",
                "weight_grams": 300,
                "items": [{"order_line_id": "oln_x", "quantity": 1}],
            },
            422,
            None,
        ),
        ({"carrier": "simulated", "weight_grams": "heavy"}, 422, None),
    ]
    for body, status, slug in cases:
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        if slug:
            assert response.json()["type"].endswith(slug)
    assert _count(session, Shipment) == 0
    assert _count(session, SimulatedCarrierEvent) == 0


def test_another_sellers_order_is_not_found_and_unpaid_orders_do_not_ship(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    mine = paid_order(session, session_factory, settings)
    theirs = paid_order(session, session_factory, settings)
    headers = api_login(client, mine.seller_email)
    foreign = client.post(
        f"/api/v1/seller/orders/{theirs.order_id}/shipments",
        json={"carrier": "simulated", "weight_grams": 300},
        headers=headers,
    )
    assert foreign.status_code == 404
    listed = client.get(f"/api/v1/seller/orders/{theirs.order_id}/shipments", headers=headers)
    assert listed.status_code == 404
    shopper = api_login(client, mine.shopper_email)
    assert (
        client.get(f"/api/v1/orders/{theirs.order_id}/shipments", headers=shopper).status_code
        == 404
    )
    from reelshop.checkout.orders import transition
    from reelshop.db import unit_of_work

    with unit_of_work(session_factory) as s:
        transition(session=s, order_id=mine.order_id, to="cancelled")
    cancelled = client.post(
        f"/api/v1/seller/orders/{mine.order_id}/shipments",
        json={"carrier": "simulated", "weight_grams": 300},
        headers=headers,
    )
    assert cancelled.status_code == 409
    assert _count(session, Shipment) == 0


def test_seller_sees_label_rates_for_their_lane(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings, ships_from="CN")
    headers = api_login(client, order.seller_email)
    light = client.get("/api/v1/seller/shipping-rates?weight_grams=400", headers=headers)
    heavy = client.get("/api/v1/seller/shipping-rates?weight_grams=3000", headers=headers)
    assert light.status_code == 200, light.text
    assert light.json()[0]["lane"] == "cn_us" and light.json()[0]["carrier"] == "simulated"
    assert heavy.json()[0]["amount"] > light.json()[0]["amount"]
    bad = client.get("/api/v1/seller/shipping-rates?weight_grams=0", headers=headers)
    assert bad.status_code == 422
    shopper = api_login(client, order.shopper_email)
    assert (
        client.get("/api/v1/seller/shipping-rates?weight_grams=400", headers=shopper).status_code
        == 403
    )


def test_logistics_jobs_and_handlers_are_registered() -> None:
    import reelshop.jobs  # noqa: F401 - registers every domain's jobs
    from reelshop.outbox.service import subscriptions
    from reelshop.scheduling import periodic_jobs

    names = {job.name for job in periodic_jobs()}
    assert {"logistics.deliver_simulated_tracking", "logistics.mark_late_dispatch"} <= names
    assert "logistics.set_ship_by" in {s.name for s in subscriptions("order.paid")}
