from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reelshop.db import Base, CreatedAtMixin, utcnow
from reelshop.ids import new_id


class ProductStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class ModerationStatus(StrEnum):
    """Trust and safety's verdict on a listing; only ``published`` is shown to shoppers.
    Set by ``reelshop.trust``; the catalog only reads it (and marks edits ``pending``)."""

    PENDING = "pending"
    PUBLISHED = "published"
    HELD = "held"
    BLOCKED = "blocked"
    TAKEN_DOWN = "taken_down"


class Category(Base):
    """A node of the category tree; ``path`` is the slugs from the root ("fashion/shoes")."""

    __tablename__ = "categories"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cat"))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("categories.id"), default=None, index=True
    )
    path: Mapped[str] = mapped_column(String(400), unique=True)
    position: Mapped[int] = mapped_column(default=0)


class Brand(CreatedAtMixin, Base):
    __tablename__ = "brands"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("brd"))
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(120), unique=True)


class Product(CreatedAtMixin, Base):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("seller_id", "handle", name="uq_products_seller_handle"),
        Index("ix_products_status_category", "status", "category_id"),
        Index("ix_products_seller_updated", "seller_id", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("prd"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("seller_profiles.id"), index=True)
    handle: Mapped[str] = mapped_column(String(200))  # the seller's own slug (Shopify "Handle")
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id"), index=True)
    brand_id: Mapped[str | None] = mapped_column(ForeignKey("brands.id"), default=None, index=True)
    # What the seller typed as brand/vendor; kept even when it matches no registered brand.
    brand_text: Mapped[str | None] = mapped_column(String(120), default=None)
    product_type: Mapped[str | None] = mapped_column(String(120), default=None)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    option_names: Mapped[list[str]] = mapped_column(JSON, default=list)  # ["Size", "Color"]
    status: Mapped[str] = mapped_column(String(16), default=ProductStatus.DRAFT)
    moderation_status: Mapped[str] = mapped_column(
        String(16), default=ModerationStatus.PUBLISHED, server_default="published", index=True
    )
    currency: Mapped[str] = mapped_column(String(3))  # the seller's currency; every SKU uses it
    hs_code: Mapped[str | None] = mapped_column(String(12), default=None)
    origin_country: Mapped[str | None] = mapped_column(String(2), default=None)
    length_mm: Mapped[int | None] = mapped_column(default=None)
    width_mm: Mapped[int | None] = mapped_column(default=None)
    height_mm: Mapped[int | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)

    skus: Mapped[list[Sku]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="Sku.position"
    )
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductImage.position"
    )

    @property
    def on_sale(self) -> bool:
        """Live and cleared by moderation: what every shopper-facing path checks."""
        return (
            self.status == ProductStatus.ACTIVE
            and self.moderation_status == ModerationStatus.PUBLISHED
        )


class Sku(CreatedAtMixin, Base):
    """One sellable variant: its option values, price and weight."""

    __tablename__ = "skus"
    __table_args__ = (
        UniqueConstraint("product_id", "code", name="uq_skus_product_code"),
        CheckConstraint("price_amount >= 0", name="price_not_negative"),
        CheckConstraint(
            "compare_at_amount IS NULL OR compare_at_amount >= 0", name="compare_at_not_negative"
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("sku"))
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(100))  # the seller's SKU code
    option_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    price_amount: Mapped[int]  # minor units of Product.currency
    compare_at_amount: Mapped[int | None] = mapped_column(default=None)
    weight_grams: Mapped[int | None] = mapped_column(default=None)
    barcode: Mapped[str | None] = mapped_column(String(40), default=None)
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    product: Mapped[Product] = relationship(back_populates="skus")


class ProductImage(CreatedAtMixin, Base):
    __tablename__ = "product_images"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("img"))
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    # Re-encoded image and thumbnail in storage; None while only the source URL is known
    # (a CSV import's "Image Src" is recorded, not fetched).
    storage_key: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    thumb_key: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    width: Mapped[int | None] = mapped_column(default=None)
    height: Mapped[int | None] = mapped_column(default=None)
    content_type: Mapped[str | None] = mapped_column(String(40), default=None)
    alt: Mapped[str] = mapped_column(String(255), default="")
    source_url: Mapped[str | None] = mapped_column(String(500), default=None)  # CSV "Image Src"

    product: Mapped[Product] = relationship(back_populates="images")
