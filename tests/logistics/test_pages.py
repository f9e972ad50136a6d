from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.config import Settings
from reelshop.db import utcnow
from reelshop.logistics.models import Shipment
from tests.factories import page_login
from tests.logistics.helpers import carrier, event_body, paid_order, post_event


def test_seller_ships_from_the_order_page_and_the_shopper_follows_the_parcel(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings, ships_from="CN")
    other = paid_order(session, session_factory, settings)
    csrf = page_login(client, order.seller_email)
    detail = client.get(f"/seller/orders/{order.order_id}")
    assert f"/seller/orders/{order.order_id}/shipping" in detail.text
    page = client.get(f"/seller/orders/{order.order_id}/shipping")
    assert page.status_code == 200 and "Add a parcel" in page.text
    bad = client.post(
        f"/seller/orders/{order.order_id}/shipping",
        data={
            "carrier": "ups",
            "tracking_number": "1Z-nope",
            "weight_grams": "400",
            "csrf_token": csrf,
        },
    )
    assert bad.status_code == 422 and "1Z followed by 16" in bad.text
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Shipment)) == 0
    bought = client.post(
        f"/seller/orders/{order.order_id}/shipping",
        data={
            "carrier": "simulated",
            "tracking_number": "",
            "weight_grams": "400",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert bought.status_code == 303, bought.text
    session.rollback()
    parcel = session.scalars(select(Shipment)).one()
    post_event(
        client,
        carrier(settings),
        event_body(
            parcel.tracking_number, "in_transit", utcnow() - timedelta(hours=1), code="picked_up"
        ),
    )
    assert parcel.tracking_number in client.get(f"/seller/orders/{order.order_id}/shipping").text

    client.cookies.clear()
    page_login(client, order.shopper_email)
    assert f"/orders/{order.order_id}/tracking" in client.get(f"/orders/{order.order_id}").text
    tracking = client.get(f"/orders/{order.order_id}/tracking")
    assert tracking.status_code == 200
    assert parcel.tracking_number in tracking.text
    assert "China → United States" in tracking.text and "In transit" in tracking.text
    assert client.get(f"/orders/{other.order_id}/tracking").status_code == 404
