from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.checkout.models import Checkout, Order, OrderStatus
from reelshop.db import utcnow
from reelshop.logistics import performance
from reelshop.logistics.fulfilment_models import PlatformFulfilledOrder
from reelshop.logistics.models import ShipByDeadline
from reelshop.logistics.performance import DEFAULT_POLICY, Metric, Standing, score_and_standing
from reelshop.logistics.performance_models import SellerPerformanceSnapshot
from reelshop.sellers.models import SellerProfile
from tests.factories import api_login, make_seller, make_user, page_login


def _history(
    session: Session,
    seller: SellerProfile,
    *,
    delivered: int,
    late: int = 0,
    cancelled: int = 0,
    platform_late: int = 0,
) -> list[str]:
    """Orders paid 20 days ago and delivered 10 days ago; ``late`` of them dispatched late,
    ``platform_late`` more platform-fulfilled and late, ``cancelled`` paid then cancelled."""
    shopper = make_user(session, commit=False)
    now = utcnow()
    checkout = Checkout(
        shopper_id=shopper.id,
        market_code="US",
        currency="USD",
        subtotal_amount=0,
        total_amount=0,
        shipping_address=json.dumps({"recipient": "Ada", "country": "US"}),
        shipping_country="US",
        expires_at=now,
    )
    session.add(checkout)
    session.flush()
    ids: list[str] = []
    total = delivered + cancelled + platform_late
    for i in range(total):
        is_cancelled = delivered <= i < delivered + cancelled
        order = Order(
            checkout_id=checkout.id,
            shopper_id=shopper.id,
            seller_id=seller.id,
            currency="USD",
            subtotal_amount=1000,
            total_amount=1000,
            status=OrderStatus.CANCELLED if is_cancelled else OrderStatus.DELIVERED,
            paid_at=now - timedelta(days=20),
            delivered_at=None if is_cancelled else now - timedelta(days=12),
            cancelled_at=now - timedelta(days=19) if is_cancelled else None,
        )
        session.add(order)
        session.flush()
        ids.append(order.id)
        platform = i >= delivered + cancelled
        session.add(
            ShipByDeadline(
                order_id=order.id,
                seller_id=seller.id,
                paid_at=now - timedelta(days=20),
                ship_by=now - timedelta(days=18),
                handling_days=2,
                seller_timezone="UTC",
                platform_fulfilled=platform,
                late_dispatch_at=now - timedelta(days=17) if (i < late or platform) else None,
            )
        )
        if platform:
            session.add(
                PlatformFulfilledOrder(
                    order_id=order.id, seller_id=seller.id, location_id=_house(session)
                )
            )
    session.commit()
    return ids


def _house(session: Session) -> str:
    from reelshop.logistics import fulfilment

    return fulfilment.ensure_platform_warehouse(session=session, name="Dallas", country="US").id


def _metrics(**values: int | None) -> dict[str, Metric]:
    return {k: Metric(k, v, 0, 100) for k, v in values.items()}


def test_score_is_five_when_every_figure_is_good() -> None:
    score, standing, breaches = score_and_standing(
        _metrics(late_dispatch=0, valid_tracking=10_000, cancellation=0, on_time_delivery=10_000),
        DEFAULT_POLICY,
        eligible=True,
    )
    assert (score, standing, breaches) == (5.0, Standing.GOOD, [])


@pytest.mark.parametrize(
    ("late_bp", "standing"),
    [
        (400, Standing.GOOD),  # exactly at the US limit of 4 %: allowed
        (401, Standing.WARNING),  # past the limit: a warning however good the rest is
    ],
)
def test_us_late_dispatch_limit_is_four_percent(late_bp: int, standing: Standing) -> None:
    _, got, breaches = score_and_standing(
        _metrics(late_dispatch=late_bp, valid_tracking=10_000, cancellation=0),
        DEFAULT_POLICY,
        eligible=True,
    )
    # 4 % late alone: (3 x 2.857 + 2 x 5 + 2 x 5) / 7 = 4.08, above the 4.0 warning line
    assert got == standing and (breaches == ["late_dispatch"]) == (late_bp > 400)


@pytest.mark.parametrize(
    ("cancel_bp", "score", "standing"),
    [
        # 8 % late (0 points x 3), tracking perfect (5 x 2), no cancellations (5 x 2): 20 / 7
        (0, 2.86, Standing.RESTRICTED),
        # ... and 5 % cancelled (0 x 2): 10 / 7, under the 2.0 suspension line
        (500, 1.43, Standing.SUSPENDED),
    ],
)
def test_thresholds_come_from_the_policy(cancel_bp: int, score: float, standing: Standing) -> None:
    got_score, got, _ = score_and_standing(
        _metrics(late_dispatch=800, valid_tracking=10_000, cancellation=cancel_bp),
        DEFAULT_POLICY,
        eligible=True,
    )
    assert (got_score, got) == (score, standing)


def test_every_figure_at_its_worst_suspends() -> None:
    score, standing, _ = score_and_standing(
        _metrics(late_dispatch=5000, valid_tracking=0, cancellation=5000, on_time_delivery=0),
        DEFAULT_POLICY,
        eligible=True,
    )
    assert score == 0.0 and standing == Standing.SUSPENDED


def test_no_score_below_thirty_delivered_orders(session: Session) -> None:
    _, seller = make_seller(session, commit=False)
    _history(session, seller, delivered=29, late=29)
    report = performance.compute(session=session, seller_id=seller.id)
    assert report.delivered_orders == 29 and not report.eligible
    assert report.score is None and report.standing == Standing.NOT_RATED
    _history(session, seller, delivered=1)
    report = performance.compute(session=session, seller_id=seller.id)
    assert report.eligible and report.score is not None
    assert report.metrics["late_dispatch"].value == 9667  # 29 of 30


def test_figures_name_the_orders_and_skip_platform_fulfilled_ones(session: Session) -> None:
    _, seller = make_seller(session, commit=False)
    ids = _history(session, seller, delivered=40, late=2, cancelled=1, platform_late=5)
    report = performance.compute(session=session, seller_id=seller.id)
    late = report.metrics["late_dispatch"]
    assert (late.numerator, late.denominator) == (2, 40)  # cancelled + platform ones left out
    assert late.value == 500 and set(late.order_ids) == set(ids[:2])
    assert report.breaches and "late_dispatch" in report.breaches
    cancel = report.metrics["cancellation"]
    assert (cancel.numerator, cancel.denominator, cancel.order_ids) == (1, 41, [ids[40]])
    on_time = report.metrics["on_time_delivery"]
    assert on_time.denominator == 40 and on_time.value == 10_000
    assert report.metrics["rating"].value is None  # no reviews yet
    assert report.standing == Standing.WARNING


def test_snapshots_one_row_per_day_and_the_cap_hook(session: Session) -> None:
    _, seller = make_seller(session, commit=False)
    _history(session, seller, delivered=30, late=20, cancelled=10)
    now = utcnow()
    first = performance.snapshot(session=session, seller_id=seller.id, now=now)
    again = performance.snapshot(session=session, seller_id=seller.id, now=now)
    performance.snapshot(session=session, seller_id=seller.id, now=now - timedelta(days=1))
    session.commit()
    assert first.id == again.id
    count = session.scalar(
        select(func.count())
        .select_from(SellerPerformanceSnapshot)
        .where(SellerPerformanceSnapshot.seller_id == seller.id)
    )
    assert count == 2
    assert [s.day for s in performance.history(session=session, seller_id=seller.id)] == [
        (now - timedelta(days=1)).date(),
        now.date(),
    ]
    latest = performance.latest(session=session, seller_id=seller.id)
    assert latest is not None and latest.standing in (Standing.RESTRICTED, Standing.SUSPENDED)
    cap = performance.daily_order_cap(session=session, seller_id=seller.id)
    assert cap == (0 if latest.standing == Standing.SUSPENDED else 50)
    assert performance.snapshot_all(session=session, now=now) >= 1


def test_performance_page_and_api(session: Session, client: TestClient) -> None:
    user, seller = make_seller(session, commit=False)
    ids = _history(session, seller, delivered=31, late=3)
    performance.snapshot(session=session, seller_id=seller.id, now=utcnow() - timedelta(days=1))
    performance.snapshot(session=session, seller_id=seller.id)
    session.commit()
    page_login(client, user.email)
    page = client.get("/seller/performance")
    assert page.status_code == 200
    assert 'data-standing="warning"' in page.text and 'data-chart="perf-score"' in page.text
    assert f"/seller/orders/{ids[0]}" in page.text
    assert "<script>" not in page.text and "style=" not in page.text
    auth = api_login(client, user.email)
    body = client.get("/api/v1/seller/performance", headers=auth).json()
    assert body["eligible"] and body["min_delivered_orders"] == 30
    late = next(m for m in body["metrics"] if m["key"] == "late_dispatch")
    assert late["numerator"] == 3 and set(late["order_ids"]) == set(ids[:3])
    history = client.get("/api/v1/seller/performance/history?days=7", headers=auth)
    assert history.status_code == 200 and len(history.json()) == 2
    assert client.get("/api/v1/seller/performance/history?days=0", headers=auth).status_code == 422
    shopper = make_user(session)
    assert (
        client.get(
            "/api/v1/seller/performance", headers=api_login(client, shopper.email)
        ).status_code
        == 403
    )


def test_restricted_shop_takes_only_its_daily_cap_at_checkout(session: Session) -> None:
    from datetime import timedelta as td

    from reelshop.checkout import cart as carts
    from reelshop.checkout import service as checkout
    from reelshop.logistics.order_caps import SellerOrderCapReached
    from reelshop.logistics.performance_models import PerformancePolicy
    from tests.factories import make_product

    _, seller = make_seller(session, commit=False)
    product = make_product(session, seller=seller, stock=10, commit=False)
    policy = session.get(PerformancePolicy, "US")
    assert policy is not None
    policy.restricted_daily_order_cap = 1
    session.add(
        SellerPerformanceSnapshot(
            seller_id=seller.id,
            market_code="US",
            day=utcnow().date(),
            computed_at=utcnow(),
            delivered_orders=40,
            eligible=True,
            metrics={},
            score=2.5,
            standing=Standing.RESTRICTED,
        )
    )
    shoppers = [make_user(session, commit=False) for _ in range(2)]
    session.commit()
    assert performance.daily_order_cap(session=session, seller_id=seller.id) == 1
    address = checkout.AddressInput("Ada", "1 Main St", "Austin", "TX", "78701", "US")
    for shopper in shoppers:
        carts.add_line(session=session, shopper=shopper, sku_id=product.skus[0].id, quantity=1)
    session.commit()
    checkout.place_checkout(
        session=session, shopper=shoppers[0], address=address, reservation_ttl=td(minutes=5)
    )
    session.commit()
    with pytest.raises(SellerOrderCapReached, match="cannot take more orders today"):
        checkout.place_checkout(
            session=session, shopper=shoppers[1], address=address, reservation_ttl=td(minutes=5)
        )
    session.rollback()
    snap = session.scalars(select(SellerPerformanceSnapshot)).one()
    snap.standing = Standing.GOOD
    session.commit()
    assert performance.daily_order_cap(session=session, seller_id=seller.id) is None
