from __future__ import annotations

import json
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts.models import StaffPermission
from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.ids import new_id
from reelshop.logistics import estimates
from reelshop.logistics.dashboard import dashboard
from reelshop.logistics.estimate_models import DelayCase, DeliveryPromise
from reelshop.logistics.models import DeadLetterEvent, ShipByDeadline, Shipment
from tests.factories import api_login, make_staff, page_login
from tests.logistics.helpers import paid_order
from tests.logistics.promise_helpers import add_history


def _arrange(
    session: Session, factory: sessionmaker[Session], settings: Settings
) -> tuple[str, datetime]:
    """Four delivered domestic parcels of one order (promised within 4 days of payment:
    two arrive late), one open delay case, a late-dispatching seller, two dead letters
    (one resolved)."""
    now = utcnow()
    order = paid_order(session, factory, settings)
    paid_at = now - timedelta(days=10)
    ids = [
        *add_history(
            session,
            order_id=order.order_id,
            seller_id=order.seller.id,
            count=2,
            paid_at=paid_at,
            dispatch_h=10,
            transit_h=(30, 40),
        ),
        *add_history(
            session,
            order_id=order.order_id,
            seller_id=order.seller.id,
            count=2,
            paid_at=paid_at,
            dispatch_h=10,
            transit_h=(110, 120),
        ),
    ]
    with unit_of_work(factory) as s:
        logistics_deadline = estimates.promise_order(session=s, order_id=order.order_id)
        assert logistics_deadline is not None
        s.execute(
            update(DeliveryPromise)
            .where(DeliveryPromise.order_id == order.order_id)
            .values(latest=paid_at + timedelta(days=4))
        )
        s.execute(
            update(ShipByDeadline)
            .where(ShipByDeadline.order_id == order.order_id)
            .values(ship_by=now - timedelta(days=3), late_dispatch_at=now - timedelta(days=2))
        )
        s.add(
            DelayCase(
                shipment_id=ids[0],
                order_id=order.order_id,
                seller_id=order.seller.id,
                carrier="simulated",
                lane="domestic_us",
                reason="stalled",
                milestone="picked_up",
                open_key=ids[0],
                new_earliest=now,
                new_latest=now + timedelta(days=2),
            )
        )
        s.execute(
            insert(DeadLetterEvent),
            [
                {
                    "id": new_id("dlq"),
                    "carrier": "simulated",
                    "event_id": f"cev_{n}",
                    "reason": "no parcel",
                    "payload": {},
                    "resolved_at": now if n == 1 else None,
                }
                for n in range(2)
            ],
        )
    name = order.seller.display_name
    session.rollback()
    return name, paid_at


def test_dashboard_numbers(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    _, paid = _arrange(session, session_factory, settings)
    with unit_of_work(session_factory) as s:
        delivered = [
            (sh.delivered_at, sh.order_id)
            for sh in s.scalars(select(Shipment).where(Shipment.status == "delivered"))
            if sh.delivered_at is not None
        ]
        promise_latest = {p.order_id: p.latest for p in s.scalars(select(DeliveryPromise))}
        board = dashboard(session=s, days=30)
    expected_late = sum(1 for at, order_id in delivered if at > promise_latest[order_id])
    assert expected_late == 2  # two in 1.7 to 2.1 days, two in 5 to 5.4
    (spot,) = board.hot_spots
    assert (spot.lane, spot.carrier) == ("domestic_us", "simulated")
    assert spot.parcels == 4 and spot.delivered == 4 and spot.open_delays == 1
    assert spot.late == expected_late and spot.late_share == expected_late / 4
    assert spot.median_promise_days is not None and abs(spot.median_promise_days - 4) < 0.01
    transit = sorted((at - paid).total_seconds() / 86400 for at, _ in delivered)
    assert spot.median_transit_days is not None
    assert abs(spot.median_transit_days - (transit[1] + transit[2]) / 2) < 0.01
    (seller,) = board.sellers
    assert (seller.deadlines, seller.late, seller.late_rate) == (1, 1, 1.0)
    assert board.dead_letters == 1 and board.open_delays == 1 and len(board.open_cases) == 1


def test_dashboard_page_and_api_for_support_only(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    seller_name, _ = _arrange(session, session_factory, settings)
    make_staff(session, StaffPermission.SUPPORT, email="support@reelshop.example")
    make_staff(session, StaffPermission.FINANCE, email="finance@reelshop.example")
    headers = api_login(client, "support@reelshop.example")
    data = client.get("/api/v1/staff/logistics/dashboard?days=30", headers=headers).json()
    assert data["dead_letters"] == 1 and data["open_delays"] == 1
    assert data["hot_spots"][0]["parcels"] == 4 and data["sellers"][0]["seller_name"] == seller_name
    for bad in ("days=0", "days=366", "days=soon"):
        assert (
            client.get(f"/api/v1/staff/logistics/dashboard?{bad}", headers=headers).status_code
            == 422
        )
    finance = api_login(client, "finance@reelshop.example")
    assert client.get("/api/v1/staff/logistics/dashboard", headers=finance).status_code == 403
    assert client.get("/api/v1/staff/logistics/dashboard").status_code == 401

    page_login(client, "support@reelshop.example")
    home = client.get("/staff")
    assert 'href="/staff/logistics"' in home.text
    page = client.get("/staff/logistics")
    assert page.status_code == 200
    assert 'data-chart="late-share"' in page.text and 'data-table="hot-spots"' in page.text
    assert seller_name in page.text and "<script>" not in page.text.replace(
        '<script type="application/json"', ""
    )
    spec = page.text.split('<script type="application/json" id="late-share">')[1].split(
        "</script>"
    )[0]
    assert json.loads(spec)["datasets"][0]["data"] == [data["hot_spots"][0]["late_share"]]
    client.cookies.clear()
    page_login(client, "finance@reelshop.example")
    assert client.get("/staff/logistics").status_code == 403
    assert 'href="/staff/logistics"' not in client.get("/staff").text
