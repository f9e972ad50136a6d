"""Tables of product reviews: one review per delivered order line, its photos, and the
published-only rating aggregate per product."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reelshop.db import Base, CreatedAtMixin, utcnow
from reelshop.ids import new_id


class ReviewStatus(StrEnum):
    PUBLISHED = "published"
    HELD = "held"  # a fake-review signal fired; invisible and uncounted until staff decide
    REMOVED = "removed"


class Review(CreatedAtMixin, Base):
    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        Index("ix_reviews_product_status", "product_id", "status", "created_at"),
        Index("ix_reviews_seller_status", "seller_id", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("rev"))
    # One review per order line, guaranteed by the database.
    order_line_id: Mapped[str] = mapped_column(ForeignKey("order_lines.id"), unique=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("seller_profiles.id"))
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    rating: Mapped[int]
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.PUBLISHED)
    # [{"signal": "burst_product", "detail": "..."}]: why the review is held.
    hold_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Keyed hashes (never the address or device itself) for reviewer-seller link checks.
    address_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    device_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    seller_answer: Mapped[str | None] = mapped_column(Text, default=None)
    seller_answered_at: Mapped[datetime | None] = mapped_column(default=None)
    moderated_by: Mapped[str | None] = mapped_column(String(40), default=None)
    moderated_at: Mapped[datetime | None] = mapped_column(default=None)
    moderation_note: Mapped[str | None] = mapped_column(String(300), default=None)

    photos: Mapped[list[ReviewPhoto]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewPhoto.position"
    )


class ReviewPhoto(CreatedAtMixin, Base):
    """A re-encoded photo (pixels only: the pipeline drops EXIF, GPS and trailing bytes)."""

    __tablename__ = "review_photos"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("rph"))
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    thumb_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    review: Mapped[Review] = relationship(back_populates="photos")


class ProductRating(Base):
    """Published reviews of one product, counted per star (recomputed on every change)."""

    __tablename__ = "product_ratings"

    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    rating_count: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    stars_1: Mapped[int] = mapped_column(default=0)
    stars_2: Mapped[int] = mapped_column(default=0)
    stars_3: Mapped[int] = mapped_column(default=0)
    stars_4: Mapped[int] = mapped_column(default=0)
    stars_5: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def average(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None
