"""Cart rules, checkout split per seller, re-checks at checkout, others' objects are 404."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from reelshop.catalog.models import Sku
from reelshop.checkout.models import Checkout, Order, OrderLine
from reelshop.inventory import service as inventory
from reelshop.outbox.models import OutboxEvent
from reelshop.sellers.models import SellerStatus
from tests.checkout.helpers import ADDRESS, add, make_shop, place, shopper_headers


def test_cart_add_update_remove(session: Session, client: TestClient) -> None:
    shop = make_shop(session)
    _, headers = shopper_headers(session, client)
    r = add(client, headers, shop.sku_id, 2)
    assert r.status_code == 201, r.text
    cart = r.json()
    assert cart["lines"][0]["quantity"] == 2
    assert cart["subtotal"] == {"amount": 5998, "currency": "USD"}
    assert cart["ready_for_checkout"] is True
    # adding again merges into the same line
    cart = add(client, headers, shop.sku_id, 3).json()
    assert len(cart["lines"]) == 1 and cart["lines"][0]["quantity"] == 5
    line_id = cart["lines"][0]["id"]
    r = client.patch(f"/api/v1/cart/lines/{line_id}", json={"quantity": 7}, headers=headers)
    assert r.status_code == 200 and r.json()["lines"][0]["quantity"] == 7
    r = client.delete(f"/api/v1/cart/lines/{line_id}", headers=headers)
    assert r.status_code == 200 and r.json()["lines"] == []


@pytest.mark.parametrize("quantity", [0, -1, 100, 1.5, "2", None, True])
def test_bad_quantities_are_422_and_change_nothing(
    session: Session, client: TestClient, quantity: object
) -> None:
    shop = make_shop(session)
    _, headers = shopper_headers(session, client)
    r = add(client, headers, shop.sku_id, quantity)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/cart", headers=headers).json()["lines"] == []


def test_line_total_capped_at_99(session: Session, client: TestClient) -> None:
    shop = make_shop(session, stock=500)
    _, headers = shopper_headers(session, client)
    assert add(client, headers, shop.sku_id, 90).status_code == 201
    r = add(client, headers, shop.sku_id, 10)
    assert r.status_code == 422
    assert client.get("/api/v1/cart", headers=headers).json()["lines"][0]["quantity"] == 90


def test_unknown_sku_404(session: Session, client: TestClient) -> None:
    _, headers = shopper_headers(session, client)
    assert add(client, headers, "sku_doesnotexist", 1).status_code == 404


def test_checkout_splits_per_seller(session: Session, client: TestClient) -> None:
    a = make_shop(session, name="Shop A", price_cents=1000, stock=5)
    b = make_shop(session, name="Shop B", price_cents=2500, stock=5)
    _, headers = shopper_headers(session, client)
    add(client, headers, a.sku_id, 2)
    add(client, headers, b.sku_id, 1)
    r = place(client, headers, shipping={b.seller.id: "express"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "awaiting_payment"
    assert body["pay_url"] == f"/checkout/{body['id']}/pay"
    by_seller = {o["seller_id"]: o for o in body["orders"]}
    assert set(by_seller) == {a.seller.id, b.seller.id}
    assert by_seller[a.seller.id]["subtotal_amount"] == 2000
    assert by_seller[a.seller.id]["shipping_amount"] == 499
    assert by_seller[b.seller.id]["shipping_amount"] == 1299
    assert body["subtotal_amount"] == 4500
    assert body["total_amount"] == 4500 + 499 + 1299
    assert sum(o["total_amount"] for o in body["orders"]) == body["total_amount"]
    # stock is reserved, the cart is empty, events were written
    session.expire_all()
    assert inventory.available(session=session, sku_ids=[a.sku_id])[a.sku_id] == 3
    assert client.get("/api/v1/cart", headers=headers).json()["lines"] == []
    topics = session.scalars(select(OutboxEvent.topic)).all()
    assert topics.count("order.placed") == 2 and "checkout.placed" in topics
    # the address is sealed at rest
    raw = session.execute(
        text("SELECT shipping_address FROM checkouts WHERE id = :id"), {"id": body["id"]}
    ).scalar_one()
    assert "Market Street" not in raw
    # read back
    got = client.get(f"/api/v1/checkouts/{body['id']}", headers=headers)
    assert got.status_code == 200 and got.json()["total_amount"] == body["total_amount"]
    orders = client.get("/api/v1/orders", headers=headers).json()
    assert {o["id"] for o in orders} == {o["id"] for o in body["orders"]}
    detail = client.get(f"/api/v1/orders/{orders[0]['id']}", headers=headers).json()
    assert detail["history"][0]["to_status"] == "placed"


def test_others_checkouts_and_orders_are_404(session: Session, client: TestClient) -> None:
    shop = make_shop(session)
    _, alice = shopper_headers(session, client)
    _, bob = shopper_headers(session, client)
    add(client, alice, shop.sku_id, 1)
    body = place(client, alice).json()
    order_id = body["orders"][0]["id"]
    assert client.get(f"/api/v1/checkouts/{body['id']}", headers=bob).status_code == 404
    assert client.get(f"/api/v1/orders/{order_id}", headers=bob).status_code == 404
    line = add(client, alice, shop.sku_id, 1).json()["lines"][0]["id"]
    assert client.delete(f"/api/v1/cart/lines/{line}", headers=bob).status_code == 404
    r = client.patch(f"/api/v1/cart/lines/{line}", json={"quantity": 2}, headers=bob)
    assert r.status_code == 404
    # and another seller cannot see the order
    other = make_shop(session, name="Other")
    from tests.factories import api_login

    seller_headers = api_login(client, other.seller_email)
    assert (
        client.get(f"/api/v1/seller/orders/{order_id}", headers=seller_headers).status_code == 404
    )
    own = api_login(client, shop.seller_email)
    assert client.get(f"/api/v1/seller/orders/{order_id}", headers=own).status_code == 200
    assert [o["id"] for o in client.get("/api/v1/seller/orders", headers=own).json()] == [order_id]


def test_price_change_is_caught_at_checkout(session: Session, client: TestClient) -> None:
    shop = make_shop(session, price_cents=1000)
    _, headers = shopper_headers(session, client)
    add(client, headers, shop.sku_id, 1)
    sku = session.get(Sku, shop.sku_id)
    assert sku is not None
    sku.price_amount = 1200
    session.commit()
    r = place(client, headers)
    assert r.status_code == 409
    problem = r.json()
    assert problem["type"] == "/problems/cart-needs-review"
    assert problem["problems"][0]["code"] == "price_changed"
    assert problem["problems"][0]["price_amount"] == 1200
    assert session.scalar(select(func.count()).select_from(Checkout)) == 0
    # accepting the new price lets the shopper go on
    assert client.post("/api/v1/cart/accept-prices", headers=headers).status_code == 200
    r = place(client, headers)
    assert r.status_code == 201 and r.json()["subtotal_amount"] == 1200


def test_out_of_stock_and_seller_not_selling_are_caught(
    session: Session, client: TestClient
) -> None:
    scarce = make_shop(session, name="Scarce", stock=2)
    banned = make_shop(session, name="Suspended")
    _, headers = shopper_headers(session, client)
    add(client, headers, scarce.sku_id, 2)
    add(client, headers, banned.sku_id, 1)
    # someone else takes a unit; the seller is suspended
    _, other = shopper_headers(session, client)
    add(client, other, scarce.sku_id, 1)
    assert place(client, other).status_code == 201
    banned.seller.status = SellerStatus.SUSPENDED
    session.merge(banned.seller)
    session.commit()
    r = place(client, headers)
    assert r.status_code == 409, r.text
    codes = {p["sku_id"]: p["code"] for p in r.json()["problems"]}
    assert codes == {scarce.sku_id: "out_of_stock", banned.sku_id: "not_available"}
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Order)) == 1
    assert inventory.available(session=session, sku_ids=[scarce.sku_id])[scarce.sku_id] == 1


def test_mixed_currencies_are_422(session: Session, client: TestClient) -> None:
    usd = make_shop(session, name="USD shop")
    eur = make_shop(session, name="EUR shop", currency="EUR")
    _, headers = shopper_headers(session, client)
    add(client, headers, usd.sku_id, 1)
    add(client, headers, eur.sku_id, 1)
    cart = client.get("/api/v1/cart", headers=headers).json()
    assert cart["currencies"] == ["EUR", "USD"] and cart["ready_for_checkout"] is False
    r = place(client, headers)
    assert r.status_code == 422
    assert r.json()["type"] == "/problems/currency-mismatch"
    assert session.scalar(select(func.count()).select_from(OrderLine)) == 0


def test_empty_cart_and_bad_address(session: Session, client: TestClient) -> None:
    shop = make_shop(session)
    _, headers = shopper_headers(session, client)
    assert place(client, headers).json()["type"] == "/problems/empty-cart"
    add(client, headers, shop.sku_id, 1)
    r = place(client, headers, address={**ADDRESS, "country": "FR"})
    assert r.status_code == 422
    r = client.post(
        "/api/v1/checkouts",
        json={"address_id": "adr_nope"},
        headers={**headers, "Idempotency-Key": "k-1"},
    )
    assert r.status_code == 404
    r = client.post("/api/v1/checkouts", json={"address": ADDRESS}, headers=headers)
    assert r.status_code == 400 and r.json()["type"] == "/problems/idempotency-key-missing"
    assert session.scalar(select(func.count()).select_from(Checkout)) == 0


def test_saved_address_is_used(session: Session, client: TestClient) -> None:
    shop = make_shop(session)
    _, headers = shopper_headers(session, client)
    saved = client.post("/api/v1/me/addresses", json=ADDRESS, headers=headers)
    assert saved.status_code == 201, saved.text
    add(client, headers, shop.sku_id, 1)
    r = client.post(
        "/api/v1/checkouts",
        json={"address_id": saved.json()["id"]},
        headers={**headers, "Idempotency-Key": "saved-1"},
    )
    assert r.status_code == 201, r.text
