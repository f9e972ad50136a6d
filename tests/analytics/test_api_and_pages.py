"""The analytics API and pages end to end: hooks on the hot path, handler-driven
purchases, permissions (staff finance/admin only; a seller sees only their own), CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts.models import Role, StaffPermission
from reelshop.analytics import events
from reelshop.config import Settings
from tests.analytics.helpers import drain, purchase, write
from tests.checkout.helpers import ADDRESS, make_shop
from tests.factories import api_login, make_staff, make_user, page_login
from tests.feed.helpers import add_video
from tests.payments.helpers import Placed, pay_and_confirm


def _funnel(body: dict[str, object]) -> list[int]:
    tables = {t["name"]: t for t in body["tables"]}  # type: ignore[attr-defined]
    return [r["events"] for r in tables["funnel"]["rows"]]


def test_shopper_journey_fills_the_seller_funnel(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    shop = make_shop(session, price_cents=4000)
    other = make_shop(session, name="Other shop", price_cents=1000)
    creator = make_user(session, role=Role.CREATOR)
    video = add_video(session, author_user_id=creator.id, product_id=shop.product.id)
    video.tags[0].affiliate_user_id = creator.id  # the creator earns on this video's sales
    session.commit()
    shopper = make_user(session)
    headers = api_login(client, shopper.email)
    sent = client.post(
        "/api/v1/feed/events",
        json=[
            {"video_id": video.id, "kind": "impression"},
            {"video_id": video.id, "kind": "watch", "watch_ms": 3500, "completion_pct": 80},
            {"video_id": video.id, "kind": "product_card_click", "product_id": shop.product.id},
            {"video_id": video.id, "kind": "purchase"},  # client-reported: not a sale
        ],
        headers=headers,
    )
    assert sent.status_code == 202, sent.text
    added = client.post(
        "/api/v1/cart/lines",
        json={"sku_id": shop.product.skus[0].id, "quantity": 2, "video_id": video.id},
        headers=headers,
    )
    assert added.status_code in (200, 201), added.text
    placed = client.post(
        "/api/v1/checkouts",
        json={"address": ADDRESS},
        headers={**headers, "Idempotency-Key": "k-1"},
    )
    assert placed.status_code == 201, placed.text
    checkout_id = placed.json()["id"]
    pay_and_confirm(session_factory, settings, Placed(checkout_id, shopper.id))
    drain(settings, tmp_path)

    seller_headers = api_login(client, shop.seller_email)
    body = client.get("/api/v1/seller/analytics", headers=seller_headers).json()
    assert _funnel(body) == [1, 1, 1, 1, 1]
    assert body["totals"]["gmv"] > 8000  # two units plus shipping
    assert body["totals"]["units"] == 2
    tables = {t["name"]: t for t in body["tables"]}
    assert tables["by_video"]["rows"][0]["video"] == video.id
    assert tables["by_creator"]["rows"][0]["units"] == 2
    top = tables["top_products"]["rows"][0]
    assert (top["impressions"], top["clicks"], top["add_to_cart"]) == (1, 1, 1)

    # The other seller sees none of it.
    other_body = client.get(
        "/api/v1/seller/analytics", headers=api_login(client, other.seller_email)
    ).json()
    assert other_body["totals"]["gmv"] == 0
    assert _funnel(other_body) == [0, 0, 0, 0, 0]

    # Video views carry the watch time.
    import duckdb

    files = [str(p) for p in settings.analytics_path.rglob("*.parquet")]
    watched = duckdb.sql(
        f"SELECT sum(watch_ms) FROM read_parquet({files!r}) WHERE kind = 'video_view'"  # noqa: S608
    ).fetchall()
    assert watched == [(3500,)]


def test_staff_dashboard_permissions(client: TestClient, session: Session) -> None:
    finance = make_staff(session, StaffPermission.FINANCE)
    admin = make_staff(session, StaffPermission.ADMIN)
    trust = make_staff(session, StaffPermission.TRUST_SAFETY)
    shop = make_shop(session)
    shopper = make_user(session)
    for who, status in ((finance, 200), (admin, 200), (trust, 403)):
        response = client.get("/api/v1/analytics/gmv", headers=api_login(client, who.email))
        assert response.status_code == status, who.staff_permissions
    for email in (shop.seller_email, shopper.email):
        headers = api_login(client, email)
        assert client.get("/api/v1/analytics/gmv", headers=headers).status_code == 403
        assert (
            client.put(
                "/api/v1/analytics/targets/2026",
                json={"baseline_amount": 1, "target_amount": 2},
                headers=headers,
            ).status_code
            == 403
        )
    assert client.get("/api/v1/analytics/gmv").status_code == 401
    shopper_headers = api_login(client, shopper.email)
    assert client.get("/api/v1/seller/analytics", headers=shopper_headers).status_code == 403
    assert (
        client.get(
            "/api/v1/seller/analytics/tables/funnel.csv", headers=shopper_headers
        ).status_code
        == 403
    )


def test_targets_and_bad_input(client: TestClient, session: Session, settings: Settings) -> None:
    finance = make_staff(session, StaffPermission.FINANCE)
    headers = api_login(client, finance.email)
    year = date.today().year
    ok = client.put(
        f"/api/v1/analytics/targets/{year}",
        json={
            "currency": "USD",
            "baseline_amount": 500_000_000_000,
            "target_amount": 2_000_000_000_000,
        },
        headers=headers,
    )
    assert ok.status_code == 200, ok.text
    body = client.get("/api/v1/analytics/gmv", headers=headers).json()
    assert body["target"]["target"] == 2_000_000_000_000
    assert body["target"]["target_growth"] == 3.0
    for bad in (
        {"baseline_amount": 1, "target_amount": 0},
        {"baseline_amount": -5, "target_amount": 10},
        {"baseline_amount": 1, "target_amount": 10, "currency": "ZZZ"},
        {"baseline_amount": 1, "target_amount": 10, "market": "USA"},
        {"target_amount": 10},
    ):
        response = client.put(f"/api/v1/analytics/targets/{year}", json=bad, headers=headers)
        assert response.status_code == 422, (bad, response.text)
    assert (
        client.put(
            "/api/v1/analytics/targets/99999",
            json={"baseline_amount": 1, "target_amount": 2},
            headers=headers,
        ).status_code
        == 422
    )
    for query in (
        "grain=hour",
        "start=2026-13-01",
        "start=2026-05-01&end=2026-04-01",
        "currency=US",
        "market=U1",
        "start=2010-01-01&end=2026-01-01",
    ):
        assert client.get(f"/api/v1/analytics/gmv?{query}", headers=headers).status_code == 422
    assert client.get("/api/v1/analytics/gmv/tables/nope.csv", headers=headers).status_code == 404

    shop = make_shop(session)
    seller_headers = api_login(client, shop.seller_email)
    set_target = client.put(
        f"/api/v1/seller/analytics/targets/{year}/{date.today().month}",
        json={"gmv_target_amount": 100_000, "units_target": 40},
        headers=seller_headers,
    )
    assert set_target.status_code == 200, set_target.text
    assert set_target.json()["currency"] == "USD"
    dash = client.get("/api/v1/seller/analytics", headers=seller_headers).json()
    assert dash["target"]["gmv_target"] == 100_000 and dash["target"]["units_target"] == 40
    for url, payload in (
        (f"/api/v1/seller/analytics/targets/{year}/13", {"gmv_target_amount": 1}),
        (f"/api/v1/seller/analytics/targets/{year}/1", {"gmv_target_amount": -1}),
        (f"/api/v1/seller/analytics/targets/{year}/1", {"units_target": 3}),
    ):
        assert client.put(url, json=payload, headers=seller_headers).status_code == 422


def test_csv_exports_match_the_tables(
    client: TestClient, session: Session, settings: Settings
) -> None:
    shop = make_shop(session)
    today = date.today()
    write(
        settings.analytics_path,
        [
            purchase(
                today,
                12_345,
                order_id="o1",
                seller_id=shop.seller.id,
                units=3,
                product_id=shop.product.id,
            ),
            purchase(today, 99_999, order_id="o2", seller_id="sel_someone_else", units=9),
        ],
    )
    headers = api_login(client, shop.seller_email)
    body = client.get("/api/v1/seller/analytics", headers=headers).json()
    assert body["totals"]["gmv"] == 12_345
    response = client.get("/api/v1/seller/analytics/tables/top_products.csv", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["Product", "GMV (USD)", "Units"]
    assert rows[1][:3] == [shop.product.title, "123.45", "3"]
    assert len(rows) == 2
    for name in ("series", "funnel", "by_video", "by_creator", "refunds"):
        got = client.get(f"/api/v1/seller/analytics/tables/{name}.csv", headers=headers)
        assert got.status_code == 200, name
    staff = make_staff(session, StaffPermission.FINANCE)
    staff_headers = api_login(client, staff.email)
    for name in ("series", "funnel", "by_market", "by_category", "by_seller_country"):
        got = client.get(f"/api/v1/analytics/gmv/tables/{name}.csv", headers=staff_headers)
        assert got.status_code == 200, name
    markets = list(
        csv.reader(
            io.StringIO(
                client.get("/api/v1/analytics/gmv/tables/by_market.csv", headers=staff_headers).text
            )
        )
    )
    assert markets[1][:2] == ["US", "1123.44"]


def test_pages_render_charts_tables_and_forms(
    client: TestClient, session: Session, settings: Settings
) -> None:
    shop = make_shop(session)
    write(
        settings.analytics_path,
        [
            purchase(
                date.today(),
                5_000,
                order_id="o1",
                seller_id=shop.seller.id,
                product_id=shop.product.id,
            )
        ],
    )
    staff = make_staff(session, StaffPermission.FINANCE)
    token = page_login(client, staff.email)
    page = client.get("/staff/analytics")
    assert page.status_code == 200
    assert 'data-chart="chart-gmv"' in page.text and 'data-table="series"' in page.text
    assert "<script>" not in page.text and "style=" not in page.text
    saved = client.post(
        "/staff/analytics/target",
        data={
            "year": date.today().year,
            "baseline": "5B",
            "target": "20B",
            "currency": "USD",
            "market": "",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    page = client.get("/staff/analytics")
    assert "$20,000,000,000" in page.text and "data-target" in page.text
    bad = client.post(
        "/staff/analytics/target",
        data={"year": date.today().year, "baseline": "lots", "target": "20B", "csrf_token": token},
    )
    assert bad.status_code == 422
    csv_page = client.get("/staff/analytics/by_market.csv")
    assert csv_page.status_code == 200 and "US" in csv_page.text
    client.post("/logout", data={"csrf_token": token})

    client.cookies.clear()
    token = page_login(client, shop.seller_email)
    page = client.get("/seller/analytics")
    assert page.status_code == 200
    assert 'data-chart="chart-funnel"' in page.text and "$50.00" in page.text
    saved = client.post(
        "/seller/analytics/target",
        data={
            "year": date.today().year,
            "month": date.today().month,
            "gmv_target": "250",
            "units_target": "10",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert re.search(r"of \$250\.00", client.get("/seller/analytics").text)
    assert client.get("/seller/analytics/top_products.csv").status_code == 200
    assert client.get("/staff/analytics").status_code == 403


def test_writer_is_flushed_when_the_app_stops(session: Session, settings: Settings) -> None:
    from reelshop.app import create_app

    with TestClient(create_app(settings)):
        events.track("impression", user_id="usr_x")
    assert list(settings.analytics_path.rglob("*.parquet"))
