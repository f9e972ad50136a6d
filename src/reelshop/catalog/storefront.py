"""What a shopper sees of the catalog: the product page and the category grid.

Each read runs a fixed number of queries whatever the product holds (variants,
images): the page must not slow down as sellers add options.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reelshop.catalog.models import Brand, Category, Product, ProductImage, Sku
from reelshop.errors import NotFound
from reelshop.ids import looks_like
from reelshop.inventory import service as inventory
from reelshop.money import Money
from reelshop.sellers.models import SellerProfile, SellerStatus


@dataclass(frozen=True)
class VariantView:
    sku: Sku
    label: str  # "Black / M", or the product title when there are no options
    price: Money
    compare_at: Money | None
    available: int


@dataclass(frozen=True)
class ProductView:
    product: Product
    seller: SellerProfile
    brand_name: str | None
    trail: list[Category]  # root to leaf
    images: list[ProductImage]
    variants: list[VariantView]
    selected: VariantView

    @property
    def option_names(self) -> list[str]:
        return list(self.product.option_names or [])

    @property
    def description_text(self) -> str:
        """The description as plain text with its line breaks (imports bring HTML)."""
        raw = re.sub(r"(?i)<br\s*/?>|</p>|</li>", "\n", self.product.description or "")
        text = html.unescape(re.sub(r"<[^>]{0,500}>", "", raw))
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def _label(sku: Sku, option_names: list[str], fallback: str) -> str:
    values = [str(sku.option_values.get(name, "")) for name in option_names]
    values = [v for v in values if v] or [str(v) for v in sku.option_values.values()]
    return " / ".join(values) or fallback


def product_view(*, session: Session, product_id: str, sku_id: str | None = None) -> ProductView:
    """An active product of an approved seller with its variants and stock; otherwise 404.
    ``sku_id`` picks the variant shown (the first in stock when absent or unknown)."""
    product = (
        session.scalars(
            select(Product)
            .where(Product.id == product_id)
            .options(selectinload(Product.skus), selectinload(Product.images))
        ).first()
        if looks_like("prd", product_id)
        else None
    )
    if product is None or not product.on_sale:
        raise NotFound("no such product")
    seller = session.get(SellerProfile, product.seller_id)
    if seller is None or seller.status != SellerStatus.APPROVED:
        raise NotFound("no such product")
    skus = [s for s in product.skus if s.is_active]
    if not skus:
        raise NotFound("no such product")

    category = session.get(Category, product.category_id)
    trail = category_trail(session=session, category=category) if category else []
    brand_name = product.brand_text
    if product.brand_id:
        brand = session.get(Brand, product.brand_id)
        brand_name = brand.name if brand else brand_name

    stock = inventory.available(session=session, sku_ids=[s.id for s in skus])
    variants = [
        VariantView(
            sku=sku,
            label=_label(sku, list(product.option_names or []), product.title),
            price=Money(sku.price_amount, product.currency),
            compare_at=Money(sku.compare_at_amount, product.currency)
            if sku.compare_at_amount and sku.compare_at_amount > sku.price_amount
            else None,
            available=stock.get(sku.id, 0),
        )
        for sku in skus
    ]
    chosen = next((v for v in variants if v.sku.id == sku_id), None)
    if chosen is None:
        chosen = next((v for v in variants if v.available > 0), variants[0])
    return ProductView(
        product=product,
        seller=seller,
        brand_name=brand_name,
        trail=trail,
        images=[i for i in product.images if i.storage_key or i.source_url],
        variants=variants,
        selected=chosen,
    )


@dataclass(frozen=True)
class CategoryTile:
    category: Category
    products: int


def category_tiles(
    *, session: Session, counts: dict[str, int], parent_path: str | None = None
) -> tuple[Category | None, list[CategoryTile]]:
    """The children of ``parent_path`` (top level when None) that have products to show."""
    rows = session.scalars(select(Category).order_by(Category.position, Category.name)).all()
    parent = next((c for c in rows if c.path == parent_path), None) if parent_path else None
    if parent_path and parent is None:
        raise NotFound(f"unknown category {parent_path!r}")
    parent_id = parent.id if parent else None
    tiles = [
        CategoryTile(c, counts.get(c.path, 0))
        for c in rows
        if c.parent_id == parent_id and counts.get(c.path, 0) > 0
    ]
    return parent, tiles


def category_by_slug_or_path(*, session: Session, key: str) -> Category:
    key = key.strip().strip("/").lower()
    found = session.scalars(
        select(Category).where((Category.path == key) | (Category.slug == key)).limit(1)
    ).first()
    if found is None:
        raise NotFound(f"unknown category {key!r}")
    return found


def category_trail(*, session: Session, category: Category) -> list[Category]:
    """The category and its ancestors, root first (one query)."""
    segments = category.path.split("/")
    prefixes = ["/".join(segments[: i + 1]) for i in range(len(segments))]
    rows = session.scalars(select(Category).where(Category.path.in_(prefixes))).all()
    return sorted(rows, key=lambda c: c.path.count("/"))
