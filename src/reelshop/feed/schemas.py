"""Feed API schemas."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from reelshop.feed.models import EventKind


class MoneyOut(BaseModel):
    amount: int = Field(description="minor units (cents for USD)")
    currency: str
    display: str


class BuyTarget(BaseModel):
    method: Literal["POST"] = "POST"
    url: str = Field(description="the cart endpoint that adds this SKU")
    sku_id: str
    video_id: str = Field(description="send along: the sale is attributed to this video")
    creator_id: str | None = Field(description="send along: the affiliate creator, if any")


class TaggedProduct(BaseModel):
    product_id: str
    title: str
    price: MoneyOut
    compare_at: MoneyOut | None
    buy: BuyTarget | None


class FeedVideo(BaseModel):
    video_id: str
    media_url: str
    content_type: str
    poster_url: str
    caption: str
    duration_ms: int
    creator: str
    creator_user_id: str
    products: list[TaggedProduct]
    reason: str
    sponsored: bool


class FeedPageOut(BaseModel):
    items: list[FeedVideo]
    next_cursor: str
    personalised: bool


class EventIn(BaseModel):
    video_id: str = Field(max_length=40)
    kind: EventKind
    watch_ms: int | None = Field(default=None, ge=0, le=3_600_000)
    completion_pct: int | None = Field(default=None, ge=0, le=100)
    product_id: str | None = Field(default=None, max_length=40)


class EventsAccepted(BaseModel):
    recorded: int


class VideoOut(BaseModel):
    video_id: str
    media_url: str
    poster_url: str
    content_type: str
    duration_ms: int
    size_bytes: int
    caption: str
    product_ids: list[str]
    affiliate: bool


class FollowOut(BaseModel):
    creator_user_id: str
    following: bool
