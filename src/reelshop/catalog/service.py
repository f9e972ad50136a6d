"""Catalog reads used across domains (checkout, search, feed). Writes live beside them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reelshop.catalog.models import Product, ProductStatus, Sku
from reelshop.errors import NotFound
from reelshop.ids import looks_like
from reelshop.money import Money


def sku_price(sku: Sku) -> Money:
    return Money(sku.price_amount, sku.product.currency)


def get_skus(*, session: Session, sku_ids: Iterable[str]) -> dict[str, Sku]:
    """SKUs with their product loaded, in one query; unknown ids are left out."""
    ids = [i for i in set(sku_ids) if looks_like("sku", i)]
    if not ids:
        return {}
    rows = session.scalars(
        select(Sku).where(Sku.id.in_(ids)).options(selectinload(Sku.product))
    ).all()
    return {sku.id: sku for sku in rows}


def get_active_product(*, session: Session, product_id: str) -> Product:
    """A product a shopper may see; anything else is 404."""
    product = session.get(Product, product_id) if looks_like("prd", product_id) else None
    if product is None or product.status != ProductStatus.ACTIVE:
        raise NotFound("no such product")
    return product
