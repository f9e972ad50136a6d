"""The cart, checkout, confirmation and order pages render and work through forms."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.checkout import cart as carts
from reelshop.checkout import service
from reelshop.checkout.models import Checkout, Order
from tests.checkout.helpers import ADDRESS, make_shop
from tests.factories import make_user, page_login

HTML = {"accept": "text/html"}


def _shopper(session: Session, client: TestClient) -> str:
    user = make_user(session)
    return page_login(client, user.email)


def test_cart_to_checkout_to_confirmation(session: Session, client: TestClient) -> None:
    a = make_shop(session, name="Shop A", price_cents=1500)
    b = make_shop(session, name="Shop B", price_cents=900)
    csrf = _shopper(session, client)
    empty = client.get("/cart", headers=HTML)
    assert empty.status_code == 200 and "Your cart is empty" in empty.text
    for shop in (a, b):
        r = client.post(
            "/cart/items",
            data={"sku_id": shop.sku_id, "quantity": "2", "csrf_token": csrf},
            headers=HTML,
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/cart"
    cart = client.get("/cart", headers=HTML)
    assert "Shop A" in cart.text and "Shop B" in cart.text and "$48.00" in cart.text
    for bad_quantity in ("-3", "0", "1.5", "abc", "100"):
        bad = client.post(
            "/cart/items",
            data={"sku_id": a.sku_id, "quantity": bad_quantity, "csrf_token": csrf},
            headers=HTML,
        )
        assert bad.status_code == 422, bad_quantity
    page = client.get("/checkout", headers=HTML)
    assert page.status_code == 200
    assert "Express" in page.text and "$4.99" in page.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key
    form = {
        "csrf_token": csrf,
        "idempotency_key": key.group(1),
        "address_id": "new",
        "recipient": "Ada Shopper",
        "line1": "1 Market Street",
        "city": "San Francisco",
        "region": "CA",
        "postal_code": "94105",
        "country": "US",
        f"shipping_{b.seller.id}": "express",
    }
    r = client.post("/checkout", data=form, headers=HTML, follow_redirects=False)
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    # a double-submitted form lands on the same checkout
    again = client.post("/checkout", data=form, headers=HTML, follow_redirects=False)
    assert again.headers["location"] == location
    assert session.scalar(select(func.count()).select_from(Checkout)) == 1
    confirmation = client.get(location, headers=HTML)
    assert confirmation.status_code == 200
    assert "awaiting payment" in confirmation.text.lower()
    assert f'action="{location}/pay"' in confirmation.text
    assert "$65.98" in confirmation.text  # 48.00 + 4.99 + 12.99
    orders = client.get("/orders", headers=HTML)
    assert orders.status_code == 200 and "Shop A" in orders.text
    order_id = session.scalars(select(Order.id)).first()
    detail = client.get(f"/orders/{order_id}", headers=HTML)
    assert detail.status_code == 200 and "timeline" in detail.text


def test_checkout_form_errors_are_shown_not_500(session: Session, client: TestClient) -> None:
    shop = make_shop(session)
    csrf = _shopper(session, client)
    client.post("/cart/items", data={"sku_id": shop.sku_id, "quantity": "1", "csrf_token": csrf})
    r = client.post(
        "/checkout",
        data={"csrf_token": csrf, "address_id": "new", "recipient": "", "idempotency_key": "x1"},
        headers=HTML,
    )
    assert r.status_code == 422 and "fill in the recipient" in r.text
    r = client.post(
        "/checkout",
        data={
            "csrf_token": csrf,
            "address_id": "new",
            "recipient": "A",
            "line1": "1 St",
            "city": "C",
            "region": "R",
            "postal_code": "1",
            "voucher_code": "NOSUCH",
            "idempotency_key": "x2",
        },
        headers=HTML,
    )
    assert r.status_code == 404 and "NOSUCH" in r.text
    assert session.scalar(select(func.count()).select_from(Checkout)) == 0


def test_seller_orders_pages_and_cancel(session: Session, client: TestClient) -> None:
    shop = make_shop(session)
    shopper = make_user(session)
    carts.add_line(session=session, shopper=shopper, sku_id=shop.sku_id, quantity=1)
    checkout = service.place_checkout(
        session=session,
        shopper=shopper,
        address=service.AddressInput(**ADDRESS),
        reservation_ttl=timedelta(minutes=15),
    )
    service.mark_checkout_paid(session=session, checkout_id=checkout.id)
    session.commit()
    order_id = session.scalars(select(Order.id)).one()
    csrf = page_login(client, shop.seller_email)
    listing = client.get("/seller/orders", headers=HTML)
    assert listing.status_code == 200 and "Wireless earbuds" in listing.text
    detail = client.get(f"/seller/orders/{order_id}", headers=HTML)
    assert detail.status_code == 200 and "Cancel this order" in detail.text
    r = client.post(
        f"/seller/orders/{order_id}/cancel",
        data={"csrf_token": csrf, "reason": "damaged in warehouse"},
        headers=HTML,
        follow_redirects=False,
    )
    assert r.status_code == 303
    session.rollback()  # a fresh snapshot (SQLite WAL readers keep theirs)
    assert session.get(Order, order_id).status == "cancelled"  # type: ignore[union-attr]
    session.rollback()
    other = make_shop(session, name="Other")
    client.cookies.clear()
    page_login(client, other.seller_email)
    assert client.get(f"/seller/orders/{order_id}", headers=HTML).status_code == 404
