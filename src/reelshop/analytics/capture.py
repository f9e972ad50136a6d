"""Behavioural events from the request path: feed interactions and add-to-cart.

Called by feed and checkout after their own writes. Each call adds at most one small
query (the products' seller, category and seller country, cached in-process) and then
hands rows to the buffered writer; nothing here waits for disk. Imports only models,
so the domains that call it never import analytics' services.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.analytics import events
from reelshop.catalog.models import Category, Product
from reelshop.feed.models import Video, VideoProductTag
from reelshop.sellers.models import SellerProfile

# What the feed's interaction kinds are in the analytics stream. Client-reported
# purchases are left out: purchases come from ``order.paid`` on the server.
FEED_KINDS = {
    "impression": events.IMPRESSION,
    "watch": events.VIDEO_VIEW,
    "product_card_click": events.PRODUCT_CLICK,
}


@dataclass(frozen=True)
class ProductDims:
    seller_id: str
    category: str  # the top-level category's slug
    seller_country: str


_CACHE_LIMIT = 50_000
_dims: dict[str, ProductDims] = {}
_dims_lock = threading.Lock()


def product_dims(*, session: Session, product_ids: Iterable[str]) -> dict[str, ProductDims]:
    """Seller, top-level category and seller country per product, in one query for the
    ones not cached yet (a product's seller and category rarely change)."""
    wanted = set(product_ids)
    with _dims_lock:
        found = {pid: _dims[pid] for pid in wanted if pid in _dims}
    missing = wanted - found.keys()
    if missing:
        rows = session.execute(
            select(Product.id, Product.seller_id, Category.path, SellerProfile.country)
            .join(Category, Category.id == Product.category_id)
            .join(SellerProfile, SellerProfile.id == Product.seller_id)
            .where(Product.id.in_(sorted(missing)))
        ).all()
        fresh = {
            pid: ProductDims(seller_id, path.split("/", 1)[0], country)
            for pid, seller_id, path, country in rows
        }
        with _dims_lock:
            if len(_dims) + len(fresh) > _CACHE_LIMIT:
                _dims.clear()
            _dims.update(fresh)
        found.update(fresh)
    return found


def forget_products() -> None:
    with _dims_lock:
        _dims.clear()


class FeedInteraction(Protocol):
    @property
    def video_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def watch_ms(self) -> int | None: ...
    @property
    def product_id(self) -> str | None: ...


def feed_interactions(
    *,
    session: Session,
    user_id: str,
    market_code: str,
    interactions: Sequence[FeedInteraction],
    occurred_at: datetime,
) -> int:
    """Impressions, views (with watch time) and product clicks from one events batch.

    An impression or view is credited to the video's first tagged product (its seller
    and category), so a seller's funnel starts where shoppers first saw the product."""
    kept = [(i, FEED_KINDS[str(i.kind)]) for i in interactions if str(i.kind) in FEED_KINDS]
    if not kept:
        return 0
    video_ids = sorted({i.video_id for i, _ in kept})
    tags = session.execute(
        select(
            VideoProductTag.video_id,
            VideoProductTag.product_id,
            VideoProductTag.affiliate_user_id,
            Video.author_user_id,
            Video.seller_id,
        )
        .join(Video, Video.id == VideoProductTag.video_id)
        .where(VideoProductTag.video_id.in_(video_ids))
        .order_by(VideoProductTag.video_id, VideoProductTag.position)
    ).all()
    first: dict[str, str] = {}
    creators: dict[str, str | None] = {}
    for video_id, tagged_id, affiliate, author, video_seller in tags:
        first.setdefault(video_id, tagged_id)
        creators.setdefault(video_id, affiliate or (None if video_seller else author))
    wanted: set[str] = set()
    for i, _ in kept:
        wanted_id = i.product_id or first.get(i.video_id)
        if wanted_id:
            wanted.add(wanted_id)
    dims = product_dims(session=session, product_ids=wanted)
    recorded = 0
    for interaction, kind in kept:
        product_id = interaction.product_id or first.get(interaction.video_id)
        d = dims.get(product_id) if product_id else None
        recorded += events.track(
            kind,
            occurred_at=occurred_at,
            user_id=user_id,
            market=market_code,
            video_id=interaction.video_id,
            creator_id=creators.get(interaction.video_id),
            product_id=product_id,
            seller_id=d.seller_id if d else None,
            category=d.category if d else None,
            seller_country=d.seller_country if d else None,
            watch_ms=interaction.watch_ms if kind == events.VIDEO_VIEW else None,
        )
    return recorded


def added_to_cart(
    *,
    session: Session,
    user_id: str,
    market_code: str,
    product_id: str,
    quantity: int,
    video_id: str | None,
    creator_id: str | None,
) -> bool:
    d = product_dims(session=session, product_ids=[product_id]).get(product_id)
    return events.track(
        events.ADD_TO_CART,
        user_id=user_id,
        market=market_code,
        product_id=product_id,
        seller_id=d.seller_id if d else None,
        category=d.category if d else None,
        seller_country=d.seller_country if d else None,
        video_id=video_id,
        creator_id=creator_id,
        units=quantity,
    )
