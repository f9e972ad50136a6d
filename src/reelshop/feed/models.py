"""Feed tables: videos, their product tags, creator follows and interaction events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reelshop.db import Base, CreatedAtMixin, utcnow
from reelshop.ids import new_id


class VideoStatus(StrEnum):
    PUBLISHED = "published"
    REMOVED = "removed"


class EventKind(StrEnum):
    IMPRESSION = "impression"
    WATCH = "watch"
    LIKE = "like"
    SHARE = "share"
    PRODUCT_CARD_CLICK = "product_card_click"
    ADD_TO_CART = "add_to_cart"
    PURCHASE = "purchase"


class Video(Base):
    """A short video posted by a creator or a seller. ``seller_id`` is set when a seller
    posted it; the media object may be shared by several rows (seeded demo clips)."""

    __tablename__ = "videos"
    __table_args__ = (
        Index("ix_videos_market_status_created", "market_code", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("vid"))
    author_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("seller_profiles.id"), default=None)
    market_code: Mapped[str] = mapped_column(String(8), default="US")
    caption: Mapped[str] = mapped_column(Text, default="")
    media_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(Integer)
    poster_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=VideoStatus.PUBLISHED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tags: Mapped[list[VideoProductTag]] = relationship(
        back_populates="video", cascade="all, delete-orphan", order_by="VideoProductTag.position"
    )


class VideoProductTag(Base):
    """A product shown in a video. ``affiliate_user_id`` is the creator who earns on sales
    attributed to this video (None when the seller tagged its own product)."""

    __tablename__ = "video_product_tags"

    video_id: Mapped[str] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(default=0)
    affiliate_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id"), default=None, index=True
    )

    video: Mapped[Video] = relationship(back_populates="tags")


class CreatorFollow(CreatedAtMixin, Base):
    __tablename__ = "creator_follows"

    follower_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    creator_user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id"), primary_key=True, index=True
    )


class FeedEvent(Base):
    """One interaction with a video, append-only. Written in batches (one INSERT per
    request); read by the recommender (a shopper's newest history) and by analytics."""

    __tablename__ = "feed_events"
    __table_args__ = (
        Index("ix_feed_events_user_id_id", "user_id", "id"),
        Index("ix_feed_events_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    user_id: Mapped[str] = mapped_column(String(40))
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    watch_ms: Mapped[int | None] = mapped_column(default=None)
    completion_pct: Mapped[int | None] = mapped_column(default=None)  # 0..100
    product_id: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
