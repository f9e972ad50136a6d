"""Helpers for catalog tests: a small category tree, sellers with API tokens, products."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session

from reelshop.catalog.models import Category
from reelshop.sellers.models import SellerProfile, SellerStatus
from tests.factories import api_login, make_seller

TREE = [
    ("electronics", "Electronics", None),
    ("audio", "Audio", "electronics"),
    ("smart-home", "Smart Home", "electronics"),
    ("fashion", "Fashion", None),
    ("shoes", "Shoes", "fashion"),
    ("beauty", "Beauty", None),
]


def make_tree(session: Session) -> dict[str, Category]:
    made: dict[str, Category] = {}
    for position, (slug, name, parent) in enumerate(TREE):
        parent_cat = made[parent] if parent else None
        category = Category(
            slug=slug,
            name=name,
            parent_id=parent_cat.id if parent_cat else None,
            path=f"{parent_cat.path}/{slug}" if parent_cat else slug,
            position=position,
        )
        session.add(category)
        session.flush()
        made[slug] = category
    session.commit()
    return made


def seller_with_token(
    client: TestClient,
    session: Session,
    *,
    status: SellerStatus = SellerStatus.APPROVED,
    categories: list[str] | None = None,
) -> tuple[SellerProfile, dict[str, str]]:
    user, seller = make_seller(
        session, status=status, categories=categories or ["electronics"], commit=True
    )
    return seller, api_login(client, user.email)


def product_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Wireless Earbuds with Charging Case, 40h Playtime",
        "description": "Bluetooth 5.3 earbuds with noise reduction.",
        "category": "electronics/audio",
        "brand": "Soundvale",
        "product_type": "Earbuds",
        "tags": ["earbuds", "bluetooth"],
        "option_names": ["Color"],
        "status": "draft",
        "hs_code": "851830",
        "origin_country": "cn",
        "length_mm": 80,
        "width_mm": 60,
        "height_mm": 30,
        "variants": [
            {
                "code": "EB-BLK",
                "option_values": {"Color": "Black"},
                "price": "29.99",
                "compare_at": "39.99",
                "weight_grams": 120,
                "stock": 25,
            },
            {
                "code": "EB-WHT",
                "option_values": {"Color": "White"},
                "price": "31.50",
                "weight_grams": 120,
                "stock": 5,
            },
        ],
        "image_urls": [],
    }
    body.update(overrides)
    return body


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()
