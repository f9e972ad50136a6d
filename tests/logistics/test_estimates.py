from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.catalog.models import Sku
from reelshop.checkout.models import OrderLine
from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.logistics import estimates
from reelshop.logistics import service as logistics
from reelshop.logistics.estimate_models import DeliveryPromise, ParcelEstimate, TransitStat
from reelshop.logistics.estimates import ParcelHistory, Policy, build_stats, pick_stat, window_from
from reelshop.logistics.models import Shipment
from reelshop.logistics.promise_jobs import promise_delivery, reestimate_parcel
from reelshop.outbox.models import OutboxEvent
from tests.checkout.helpers import make_shop
from tests.factories import api_login, make_user, page_login
from tests.logistics.helpers import carrier, event_body, paid_order, post_event
from tests.logistics.promise_helpers import add_history
from tests.notifications.helpers import deliver_topic

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 10, 5, 14, tzinfo=UTC)  # a Monday
POLICY = Policy(default_min_days=2, default_max_days=6, min_history=3)


def _parcel(paid_h: float, transit_h: float, carrier: str = "simulated") -> ParcelHistory:
    paid = T0 + timedelta(hours=paid_h)
    shipped = paid + timedelta(hours=10)
    return ParcelHistory(
        carrier=carrier,
        lane="domestic_us",
        paid_at=paid,
        first_transit_at=shipped,
        delivered_at=shipped + timedelta(hours=transit_h),
        events=[
            ("picked_up", shipped),
            ("out_for_delivery", shipped + timedelta(hours=transit_h - 5)),
            ("delivered", shipped + timedelta(hours=transit_h)),
        ],
    )


def test_percentile_interpolates_between_ranks() -> None:
    values = [10.0, 20.0, 30.0, 40.0, 50.0]
    assert estimates.percentile(values, 0) == 10
    assert estimates.percentile(values, 50) == 30
    assert estimates.percentile(values, 95) == pytest.approx(48.0)
    assert estimates.percentile(values, 100) == 50
    assert estimates.percentile([7.0], 5) == 7
    with pytest.raises(ValueError):
        estimates.percentile([], 50)


def test_stats_per_milestone_for_the_carrier_and_the_whole_lane() -> None:
    parcels = [_parcel(0, h) for h in (40, 50, 60, 70, 80)] + [_parcel(0, 100, carrier="ups")]
    stats = build_stats(parcels)
    own = stats[("simulated", "domestic_us", "shipped")]
    lane = stats[("*", "domestic_us", "shipped")]
    assert own.samples == 5 and lane.samples == 6
    assert own.remaining_h["50"] == 60 and lane.remaining_h["50"] == 65
    assert stats[("simulated", "domestic_us", "paid")].remaining_h["50"] == 70  # +10 h dispatch
    out = stats[("simulated", "domestic_us", "out_for_delivery")]
    assert out.remaining_h["50"] == 5 and out.gap_samples == 5
    assert stats[("simulated", "domestic_us", "picked_up")].gap_p95_h == pytest.approx(73.0)
    assert ("simulated", "domestic_us", "delivered") not in stats


def test_thin_history_falls_back_to_the_lane_then_to_the_default_window() -> None:
    stats = build_stats([_parcel(0, 50), _parcel(0, 60), _parcel(0, 70, carrier="ups")])
    picked = pick_stat(stats, carrier="ups", lane="domestic_us", milestone="paid", min_history=3)
    assert picked is stats[("*", "domestic_us", "paid")]
    assert (
        pick_stat(stats, carrier="ups", lane="domestic_us", milestone="paid", min_history=4) is None
    )
    ship_by = T0 + timedelta(days=2)
    window = window_from(None, POLICY, since=T0, zone=NY, default_start=ship_by)
    assert window.source == "default"
    assert window.earliest == datetime(2026, 10, 7, 0, 0, tzinfo=NY)  # T0 + 2 days, day start
    assert window.latest == datetime(2026, 10, 13, 23, 59, 59, tzinfo=NY)  # ship-by + 6 days


def test_window_is_the_percentile_pair_widened_to_whole_local_days() -> None:
    stats = build_stats([_parcel(0, float(h)) for h in range(40, 140)])
    stat = stats[("simulated", "domestic_us", "paid")]
    window = window_from(stat, POLICY, since=T0, zone=NY)
    low = T0 + timedelta(hours=stat.remaining_h["5"])
    high = T0 + timedelta(hours=stat.remaining_h["95"])
    assert window.source == "history" and window.samples == 100
    assert window.earliest.astimezone(NY).date() == low.astimezone(NY).date()
    assert window.earliest.astimezone(NY).time().hour == 0
    assert window.latest.astimezone(NY).date() == high.astimezone(NY).date()
    assert window.earliest <= low and high <= window.latest
    narrow = window_from(stat, Policy(2, 6, 3, 25, 75), since=T0, zone=NY)
    assert window.earliest <= narrow.earliest and narrow.latest <= window.latest


def test_orders_are_promised_from_history_once_it_is_deep_enough(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    history_order = paid_order(session, session_factory, settings)
    now = utcnow()
    add_history(
        session,
        order_id=history_order.order_id,
        seller_id=history_order.seller.id,
        count=29,
        paid_at=now - timedelta(days=20),
    )
    fresh = paid_order(session, session_factory, settings)
    with unit_of_work(session_factory) as s:
        assert estimates.refresh_transit_stats(session=s) > 0
        thin = estimates.promise_order(session=s, order_id=fresh.order_id)
        assert thin is not None and thin.source == "default"
    add_history(
        session,
        order_id=history_order.order_id,
        seller_id=history_order.seller.id,
        count=11,
        paid_at=now - timedelta(days=20),
        seed=2,
    )
    with unit_of_work(session_factory) as s:
        estimates.refresh_transit_stats(session=s)
    session.rollback()
    row = session.get(TransitStat, ("*", "domestic_us", "paid"))
    assert row is not None and row.samples == 40
    third = paid_order(session, session_factory, settings)
    event = session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.topic == "order.paid", OutboxEvent.subject_id == third.order_id
        )
    ).one()
    with unit_of_work(session_factory) as s:
        promise_delivery(s, event)
        promise_delivery(s, event)  # redelivered: one promise, unchanged
    session.rollback()
    promise = session.get(DeliveryPromise, third.order_id)
    assert promise is not None and promise.source == "history"
    paid_at = promise.promised_at
    # history: 20 h dispatch + 60..90 h transit = 80..110 h after payment
    assert (promise.earliest - paid_at) < timedelta(hours=80)
    assert (promise.latest - paid_at) > timedelta(hours=105)
    assert (promise.latest - paid_at) < timedelta(days=6)
    assert promise.current_latest == promise.latest


def test_parcel_is_re_estimated_as_scans_arrive(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    history_order = paid_order(session, session_factory, settings)
    now = utcnow()
    add_history(
        session,
        order_id=history_order.order_id,
        seller_id=history_order.seller.id,
        count=40,
        paid_at=now - timedelta(days=30),
    )
    with unit_of_work(session_factory) as s:
        estimates.refresh_transit_stats(session=s)
    order = paid_order(session, session_factory, settings)
    assert deliver_topic(session_factory, settings, "order.paid") >= 1
    sim = carrier(settings)
    with unit_of_work(session_factory) as s:
        shipment = logistics.create_shipment(
            session=s,
            seller_id=order.seller.id,
            order_id=order.order_id,
            carrier=sim,
            weight_grams=300,
            tracking_number=None,
        )
        number, shipment_id = shipment.tracking_number, shipment.id
    picked = now - timedelta(hours=2)
    post_event(client, sim, event_body(number, "in_transit", picked, code="picked_up"))
    deliver_topic(session_factory, settings, "shipment.tracking_updated")
    session.rollback()
    first = session.get(ParcelEstimate, shipment_id)
    assert first is not None and first.milestone == "picked_up" and first.source == "history"
    first_window = (first.earliest, first.latest)
    out = now - timedelta(hours=1)
    post_event(client, sim, event_body(number, "out_for_delivery", out, code="out_for_delivery"))
    deliver_topic(session_factory, settings, "shipment.tracking_updated")
    session.rollback()
    second = session.get(ParcelEstimate, shipment_id)
    assert second is not None and second.milestone == "out_for_delivery"
    assert second.latest < first_window[1]  # closer to the door, a tighter window
    promise = session.get(DeliveryPromise, order.order_id)
    assert promise is not None and promise.current_latest == second.latest
    headers = api_login(client, order.shopper_email)
    body = client.get(f"/api/v1/orders/{order.order_id}/delivery-estimate", headers=headers)
    assert body.status_code == 200
    data = body.json()
    assert (
        data["promise_source"] == "history"
        and data["parcels"][0]["milestone"] == "out_for_delivery"
    )
    assert data["open_delays"] == []
    other = api_login(client, history_order.shopper_email)
    assert (
        client.get(f"/api/v1/orders/{order.order_id}/delivery-estimate", headers=other).status_code
        == 404
    )
    post_event(client, sim, event_body(number, "delivered", now, code="delivered"))
    with unit_of_work(session_factory) as s:
        reestimate_parcel(s, OutboxEvent(topic="x", payload={"shipment_id": shipment_id}))
    session.rollback()
    done = session.get(ParcelEstimate, shipment_id)
    assert done is not None and done.source == "delivered"
    assert session.get(Shipment, shipment_id).status == "delivered"  # type: ignore[union-attr]


def test_estimate_api_and_product_page_fragment(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings, ships_from="CN")
    seller_id = order.seller.id
    estimate = client.get(f"/api/v1/delivery-estimate?seller_id={seller_id}")
    assert estimate.status_code == 200, estimate.text
    data = estimate.json()
    assert data["lane"] == "cn_us" and data["window"]["source"] == "default"
    earliest = datetime.fromisoformat(data["window"]["earliest"])
    latest = datetime.fromisoformat(data["window"]["latest"])
    assert timedelta(days=6) < earliest - utcnow() < timedelta(days=8)
    assert latest - utcnow() > timedelta(days=16)
    assert client.get("/api/v1/delivery-estimate?seller_id=sel_nope").status_code == 404
    assert client.get("/api/v1/delivery-estimate").status_code == 422
    assert (
        client.get(f"/api/v1/delivery-estimate?seller_id={seller_id}&market=us").status_code == 422
    )
    assert (
        client.get(f"/api/v1/delivery-estimate?seller_id={seller_id}&market=ZZ").status_code == 404
    )
    fragment = client.get(f"/delivery-promise?seller_id={seller_id}")
    assert fragment.status_code == 200 and "Arrives" in fragment.text
    assert "from China by air" in fragment.text and "standard estimate" in fragment.text
    assert client.get("/delivery-promise").status_code == 422
    assert client.get(f"/delivery-promise?order_id={order.order_id}").status_code == 404
    page_login(client, order.shopper_email)
    line = session.scalars(select(OrderLine).where(OrderLine.order_id == order.order_id)).one()
    sku = session.get(Sku, line.sku_id)
    assert sku is not None
    page = client.get(f"/products/{sku.product_id}")
    assert page.status_code == 200
    assert f'hx-get="/delivery-promise?seller_id={seller_id}"' in page.text
    tracking = client.get(f"/orders/{order.order_id}/tracking")
    assert f'hx-get="/delivery-promise?order_id={order.order_id}"' in tracking.text
    own = client.get(f"/delivery-promise?order_id={order.order_id}")
    assert own.status_code == 200 and "once the order is paid" in own.text  # no promise yet


def test_checkout_shows_each_sellers_promise(session: Session, client: TestClient) -> None:
    a = make_shop(session, name="Shop A", price_cents=1500)
    b = make_shop(session, name="Shop B", price_cents=900)
    user = make_user(session)
    csrf = page_login(client, user.email)
    for shop in (a, b):
        added = client.post(
            "/cart/items",
            data={"sku_id": shop.sku_id, "quantity": "1", "csrf_token": csrf},
            follow_redirects=False,
        )
        assert added.status_code == 303
    page = client.get("/checkout")
    assert page.status_code == 200
    for shop in (a, b):
        assert f'hx-get="/delivery-promise?seller_id={shop.seller.id}"' in page.text
        fragment = client.get(f"/delivery-promise?seller_id={shop.seller.id}")
        assert fragment.status_code == 200 and "Arrives" in fragment.text
