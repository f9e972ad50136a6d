"""Sellers manage their own products through the JSON API; bad input writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.catalog.models import Product, Sku
from reelshop.inventory.models import StockAdjustment, StockLevel
from reelshop.outbox.models import OutboxEvent
from reelshop.sellers.models import SellerStatus
from tests.catalog.support import make_tree, png_bytes, product_body, seller_with_token
from tests.factories import api_login, make_user

API = "/api/v1/seller/products"


def count(session: Session, model: Any) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def product_events(session: Session) -> int:
    session.expire_all()
    query = select(func.count()).where(OutboxEvent.topic == "product.changed")
    return int(session.scalar(query) or 0)


def create(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(API, json=product_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_get_update_list_and_publish(client: TestClient, session: Session) -> None:
    make_tree(session)
    _, headers = seller_with_token(client, session)
    created = create(client, headers)
    assert created["id"].startswith("prd_")
    assert created["handle"] == "wireless-earbuds-with-charging-case-40h-playtime"
    assert created["category"] == "electronics/audio"
    assert created["status"] == "draft" and created["currency"] == "USD"
    assert created["origin_country"] == "CN" and created["hs_code"] == "851830"
    black, white = created["variants"]
    assert black["code"] == "EB-BLK" and black["price"] == "29.99" and black["price_minor"] == 2999
    assert black["compare_at"] == "39.99"
    assert black["stock"]["on_hand"] == 25 and white["stock"]["available"] == 5

    # Same title again: a fresh handle, not a clash.
    second = create(client, headers)
    assert second["handle"] == created["handle"] + "-2"

    body = product_body(
        title="Wireless Earbuds Pro",
        option_names=["Color"],
        variants=[
            {"code": "EB-BLK", "option_values": {"Color": "Black"}, "price": "27.00", "stock": 30},
            {"code": "EB-RED", "option_values": {"Color": "Red"}, "price": "33.00", "stock": 3},
        ],
    )
    updated = client.put(f"{API}/{created['id']}", json=body, headers=headers)
    assert updated.status_code == 200, updated.text
    variants = {v["code"]: v for v in updated.json()["variants"]}
    assert variants["EB-BLK"]["price"] == "27.00" and variants["EB-BLK"]["id"] == black["id"]
    assert variants["EB-BLK"]["stock"]["on_hand"] == 30
    assert variants["EB-RED"]["is_active"] and variants["EB-RED"]["stock"]["on_hand"] == 3
    assert variants["EB-WHT"]["is_active"] is False  # kept for history, no longer sold
    assert updated.json()["title"] == "Wireless Earbuds Pro"
    assert updated.json()["handle"] == created["handle"]

    live = client.post(f"{API}/{created['id']}/status", json={"status": "active"}, headers=headers)
    assert live.status_code == 200, live.text
    assert live.json()["status"] == "active" and live.json()["published_at"]

    listing = client.get(API, headers=headers).json()
    assert listing["total"] == 2 and listing["page"] == 1
    assert {i["id"] for i in listing["items"]} == {created["id"], second["id"]}
    only_active = client.get(API, params={"status": "active"}, headers=headers).json()
    assert [i["id"] for i in only_active["items"]] == [created["id"]]
    item = only_active["items"][0]
    assert item["min_price"] == "27.00" and item["max_price"] == "33.00"
    assert item["variant_count"] == 2
    by_code = client.get(API, params={"q": "eb-red"}, headers=headers).json()
    assert [i["id"] for i in by_code["items"]] == [created["id"]]
    by_title = client.get(API, params={"q": "PRO"}, headers=headers).json()
    assert by_title["total"] == 1
    by_branch = client.get(API, params={"category": "electronics"}, headers=headers).json()
    assert by_branch["total"] == 2
    elsewhere = client.get(API, params={"category": "fashion"}, headers=headers).json()
    assert elsewhere["total"] == 0
    paged = client.get(API, params={"per_page": 1, "page": 2}, headers=headers).json()
    assert len(paged["items"]) == 1 and paged["total"] == 2
    unknown = client.get(API, params={"category": "nope"}, headers=headers)
    assert unknown.status_code == 422

    archived = client.post(
        f"{API}/{created['id']}/status", json={"status": "archived"}, headers=headers
    )
    assert archived.json()["status"] == "archived"


def test_every_change_emits_product_changed(client: TestClient, session: Session) -> None:
    make_tree(session)
    seller, headers = seller_with_token(client, session)
    created = create(client, headers)
    client.put(f"{API}/{created['id']}", json=product_body(title="Renamed"), headers=headers)
    client.post(f"{API}/{created['id']}/status", json={"status": "active"}, headers=headers)
    client.post(
        f"{API}/{created['id']}/images",
        files={"file": ("a.png", png_bytes(), "image/png")},
        headers=headers,
    )
    events = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.topic == "product.changed")
        .order_by(OutboxEvent.created_at)
    ).all()
    assert len(events) == 4
    for event in events:
        assert event.payload == {"product_id": created["id"], "seller_id": seller.id}
        assert event.subject_id == created["id"]


def test_another_sellers_product_is_404_on_every_route(
    client: TestClient, session: Session
) -> None:
    make_tree(session)
    _, owner_headers = seller_with_token(client, session)
    created = create(client, owner_headers)
    sku_id = created["variants"][0]["id"]
    _, other = seller_with_token(client, session)
    pid = created["id"]
    attempts = [
        client.get(f"{API}/{pid}", headers=other),
        client.put(f"{API}/{pid}", json=product_body(), headers=other),
        client.post(f"{API}/{pid}/status", json={"status": "archived"}, headers=other),
        client.post(
            f"{API}/{pid}/images",
            files={"file": ("a.png", png_bytes(), "image/png")},
            headers=other,
        ),
        client.get(f"/api/v1/seller/skus/{sku_id}/stock", headers=other),
        client.post(
            f"/api/v1/seller/skus/{sku_id}/stock",
            json={"delta": 5, "reason": "received"},
            headers=other,
        ),
        client.get(f"{API}/prd_doesnotexist", headers=other),
    ]
    for response in attempts:
        assert response.status_code == 404, response.text
        assert response.json()["type"] == "/problems/not-found"
    assert client.get(API, headers=other).json()["total"] == 0
    owner_view = client.get(f"{API}/{pid}", headers=owner_headers).json()
    assert owner_view["status"] == "draft" and owner_view["images"] == []
    assert owner_view["variants"][0]["stock"]["on_hand"] == 25


def _variant(code: str, price: str = "10.00", **extra: Any) -> dict[str, Any]:
    return {"code": code, "option_values": {"Size": "M"}, "price": price, **extra}


BAD_INPUT = [
    ("unknown category", {"category": "garden/gnomes"}, "unknown category"),
    (
        "negative price",
        {"option_names": ["Size"], "variants": [_variant("A", "-1.00")]},
        "greater than or equal to 0",
    ),
    (
        "three decimals in USD",
        {"option_names": ["Size"], "variants": [_variant("A", "10.999")]},
        "at most 2 decimal places",
    ),
    (
        "duplicate SKU codes",
        {
            "option_names": ["Size"],
            "variants": [
                _variant("A"),
                {"code": "a", "option_values": {"Size": "L"}, "price": "10.00"},
            ],
        },
        "duplicate SKU codes",
    ),
    (
        "options mismatch",
        {"option_names": ["Size", "Color"], "variants": [_variant("A")]},
        "option values must name exactly",
    ),
    (
        "same combination twice",
        {
            "option_names": ["Size"],
            "variants": [_variant("A"), _variant("B")],
        },
        "same options",
    ),
    ("no variants", {"variants": []}, "at least 1"),
    ("four options", {"option_names": ["A", "B", "C", "D"]}, "at most 3"),
    ("bad HS code", {"hs_code": "12ab"}, "HS code"),
    ("bad origin", {"origin_country": "China"}, "alpha-2"),
    (
        "compare-at below price",
        {"option_names": ["Size"], "variants": [_variant("A", "10.00", compare_at="9.00")]},
        "compare-at",
    ),
    ("bad handle", {"handle": "Not A Handle!"}, "handle"),
]


@pytest.mark.parametrize(("label", "overrides", "needle"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_input_is_a_clear_422_and_writes_nothing(
    client: TestClient, session: Session, label: str, overrides: dict[str, Any], needle: str
) -> None:
    make_tree(session)
    _, headers = seller_with_token(client, session)
    response = client.post(API, json=product_body(**overrides), headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert needle.lower() in response.json()["detail"].lower(), response.json()["detail"]
    for model in (Product, Sku, StockLevel, StockAdjustment):
        assert count(session, model) == 0, model
    assert product_events(session) == 0


def test_bad_update_leaves_product_as_it_was(client: TestClient, session: Session) -> None:
    make_tree(session)
    _, headers = seller_with_token(client, session)
    created = create(client, headers)
    body = product_body(title="Changed", category="garden")
    assert client.put(f"{API}/{created['id']}", json=body, headers=headers).status_code == 422
    body = product_body(title="Changed")
    body["variants"][1]["price"] = "1.001"
    assert client.put(f"{API}/{created['id']}", json=body, headers=headers).status_code == 422
    after = client.get(f"{API}/{created['id']}", headers=headers).json()
    assert after["title"] == created["title"]
    assert [v["price"] for v in after["variants"]] == ["29.99", "31.50"]


def test_duplicate_explicit_handle_is_409(client: TestClient, session: Session) -> None:
    make_tree(session)
    _, headers = seller_with_token(client, session)
    create(client, headers, handle="earbuds")
    again = client.post(API, json=product_body(handle="earbuds"), headers=headers)
    assert again.status_code == 409
    assert "earbuds" in again.json()["detail"]
    # Another seller may use the same handle.
    _, other = seller_with_token(client, session)
    assert client.post(API, json=product_body(handle="earbuds"), headers=other).status_code == 201


def test_activation_refused_outside_approved_categories(
    client: TestClient, session: Session
) -> None:
    make_tree(session)
    _, headers = seller_with_token(client, session, categories=["beauty"])
    draft = create(client, headers)  # drafts anywhere are fine
    refused = client.post(f"{API}/{draft['id']}/status", json={"status": "active"}, headers=headers)
    assert refused.status_code == 403
    assert "electronics" in refused.json()["detail"]
    assert client.get(f"{API}/{draft['id']}", headers=headers).json()["status"] == "draft"
    direct = client.post(API, json=product_body(status="active"), headers=headers)
    assert direct.status_code == 403
    assert count(session, Product) == 1


def test_activation_needs_a_priced_active_variant(client: TestClient, session: Session) -> None:
    make_tree(session)
    _, headers = seller_with_token(client, session)
    free = product_body(
        option_names=[], variants=[{"code": "FREE", "option_values": {}, "price": "0"}]
    )
    created = client.post(API, json=free, headers=headers).json()
    refused = client.post(
        f"{API}/{created['id']}/status", json={"status": "active"}, headers=headers
    )
    assert refused.status_code == 422 and "price" in refused.json()["detail"]


@pytest.mark.parametrize("status", [SellerStatus.PENDING, SellerStatus.SUSPENDED])
def test_unapproved_seller_is_403_with_a_reason(
    client: TestClient, session: Session, status: SellerStatus
) -> None:
    make_tree(session)
    _, headers = seller_with_token(client, session, status=status)
    response = client.post(API, json=product_body(), headers=headers)
    assert response.status_code == 403
    assert status.value in response.json()["detail"]
    assert client.get(API, headers=headers).status_code == 403
    assert count(session, Product) == 0


def test_non_sellers_and_anonymous_callers_are_refused(
    client: TestClient, session: Session
) -> None:
    make_tree(session)
    assert client.get(API).status_code == 401
    shopper = make_user(session)
    headers = api_login(client, shopper.email)
    assert client.post(API, json=product_body(), headers=headers).status_code == 403


def test_categories_are_public_and_in_tree_order(client: TestClient, session: Session) -> None:
    make_tree(session)
    response = client.get("/api/v1/categories")
    assert response.status_code == 200
    paths = [c["path"] for c in response.json()]
    assert paths == [
        "electronics",
        "electronics/audio",
        "electronics/smart-home",
        "fashion",
        "fashion/shoes",
        "beauty",
    ]
    assert response.json()[1]["depth"] == 1


def test_stock_adjustments_api(client: TestClient, session: Session) -> None:
    make_tree(session)
    _, headers = seller_with_token(client, session)
    created = create(client, headers)
    sku_id = created["variants"][1]["id"]  # 5 on hand
    url = f"/api/v1/seller/skus/{sku_id}/stock"
    first = client.get(url, headers=headers).json()
    assert first["stock"]["on_hand"] == 5 and first["stock"]["locations"][0]["country"] == "CN"
    assert [a["reason"] for a in first["adjustments"]] == ["received"]

    received = client.post(
        url, json={"delta": 12, "reason": "received", "note": "PO 1182"}, headers=headers
    )
    assert received.status_code == 200, received.text
    assert received.json()["stock"]["on_hand"] == 17
    assert received.json()["adjustments"][0]["note"] == "PO 1182"
    damaged = client.post(url, json={"delta": -2, "reason": "damaged"}, headers=headers)
    assert damaged.json()["stock"]["available"] == 15
    assert [a["delta"] for a in damaged.json()["adjustments"]][:2] == [-2, 12]

    too_many = client.post(url, json={"delta": -100, "reason": "damaged"}, headers=headers)
    assert too_many.status_code == 409
    for bad in (
        {"delta": 0, "reason": "received"},
        {"delta": 1, "reason": "stolen-by-elves"},
        {"delta": -1, "reason": "sold"},
        {"delta": 1, "reason": "received", "location_id": "loc_nope"},
    ):
        response = client.post(url, json=bad, headers=headers)
        assert response.status_code in (404, 422), (bad, response.text)
    final = client.get(url, headers=headers).json()
    assert final["stock"]["on_hand"] == 15 and len(final["adjustments"]) == 3


def test_token_scopes_limit_catalog_access(client: TestClient, session: Session) -> None:
    make_tree(session)
    _, headers = seller_with_token(client, session)
    created = create(client, headers)

    def token(scopes: list[str]) -> dict[str, str]:
        issued = client.post(
            "/api/v1/me/tokens", json={"name": "integration", "scopes": scopes}, headers=headers
        )
        assert issued.status_code == 201, issued.text
        return {"Authorization": f"Bearer {issued.json()['secret']}"}

    reader = token(["catalog:read"])
    assert client.get(f"{API}/{created['id']}", headers=reader).status_code == 200
    refused = client.put(f"{API}/{created['id']}", json=product_body(), headers=reader)
    assert refused.status_code == 403 and "catalog:write" in refused.json()["detail"]
    orders_only = token(["orders:read"])
    assert client.get(API, headers=orders_only).status_code == 403
