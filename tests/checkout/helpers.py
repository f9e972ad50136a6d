"""Shared arrangements for checkout tests: shops with products, shoppers with tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from reelshop.catalog.models import Product
from reelshop.sellers.models import SellerProfile
from tests.factories import api_login, make_product, make_seller, make_user

ADDRESS = {
    "recipient": "Ada Shopper",
    "line1": "1 Market Street",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
}


@dataclass
class Shop:
    seller: SellerProfile
    seller_email: str
    product: Product

    @property
    def sku_id(self) -> str:
        return str(self.product.skus[0].id)


def make_shop(
    session: Session,
    *,
    name: str = "Lumi Electronics",
    price_cents: int = 2999,
    stock: int = 10,
    currency: str = "USD",
    title: str = "Wireless earbuds",
) -> Shop:
    user, seller = make_seller(session, display_name=name, currency=currency, commit=False)
    product = make_product(
        session, seller=seller, price_cents=price_cents, stock=stock, title=title, commit=False
    )
    session.commit()
    return Shop(seller, user.email, product)


def shopper_headers(session: Session, client: TestClient) -> tuple[str, dict[str, str]]:
    user = make_user(session)
    return user.id, api_login(client, user.email)


def add(client: TestClient, headers: dict[str, str], sku_id: str, quantity: Any = 1) -> Any:
    return client.post(
        "/api/v1/cart/lines", json={"sku_id": sku_id, "quantity": quantity}, headers=headers
    )


def place(
    client: TestClient,
    headers: dict[str, str],
    *,
    key: str | None = None,
    **body: Any,
) -> Any:
    payload = {"address": ADDRESS, **body}
    return client.post(
        "/api/v1/checkouts",
        json=payload,
        headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())},
    )
