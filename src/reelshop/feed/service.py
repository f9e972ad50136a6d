"""Feed operations: publishing videos, tagging products, follows, interaction events,
training the recommender from events, and composing a shopper's For You page."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, selectinload

from reelshop.accounts.models import Role, User
from reelshop.analytics import capture as analytics_capture
from reelshop.catalog.models import ModerationStatus, Product, ProductStatus, Sku
from reelshop.db import utcnow
from reelshop.errors import (
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA,
    Forbidden,
    InvalidInput,
    NotFound,
    ProblemError,
    problem_type,
)
from reelshop.feed import media
from reelshop.feed.models import (
    CreatorFollow,
    EventKind,
    FeedEvent,
    Video,
    VideoProductTag,
    VideoStatus,
)
from reelshop.feed.recommender import (
    PURCHASE_INTENT_KINDS,
    AlsParams,
    CandidateFeatures,
    FloatArray,
    ItemModel,
    RankerWeights,
    diversify,
    interaction_matrix,
    interaction_weight,
    item_statistics,
    rerank,
    top_k,
    train_als,
)
from reelshop.ids import looks_like
from reelshop.money import Money
from reelshop.outbox.service import emit
from reelshop.sellers import service as sellers
from reelshop.storage import Storage, new_key

log = logging.getLogger("reelshop.feed")

MAX_VIDEO_BYTES = 50 * 1024 * 1024
MAX_DURATION_MS = 60_000
MAX_TAGS = 5
MAX_CAPTION = 300
MAX_EVENTS_PER_BATCH = 200
PAGE_SIZE = 20
HISTORY_EVENTS = 200  # the newest events a fold-in and the "seen" filter look at
FRESH_DAYS = 3
TRENDING_WINDOW = timedelta(days=3)

VIDEO_TOO_LONG = problem_type("video-too-long", 422, "The video is too long")
PRODUCT_NOT_ACTIVE = problem_type("product-not-active", 422, "The product is not on sale")
UNKNOWN_VIDEO = problem_type("unknown-video", 404, "No such video")


# ---------------------------------------------------------------- videos and tags


def media_url(key: str) -> str:
    return "/media/" + key


def publish_video(
    *,
    session: Session,
    storage: Storage,
    author: User,
    data: bytes,
    caption: str,
    product_ids: Sequence[str],
) -> Video:
    """Check everything, then store the media and write the rows. A seller tags only its
    own products; a creator tags any active product and becomes its affiliate."""
    if len(data) > MAX_VIDEO_BYTES:
        raise ProblemError(
            f"videos are at most {MAX_VIDEO_BYTES // (1024 * 1024)} MB",
            problem=PAYLOAD_TOO_LARGE,
        )
    caption = caption.strip()
    if len(caption) > MAX_CAPTION:
        raise InvalidInput(f"captions are at most {MAX_CAPTION} characters")
    products = _taggable_products(session=session, author=author, product_ids=product_ids)
    try:
        info = media.inspect(data)
    except media.MediaError as exc:
        raise ProblemError(str(exc), problem=UNSUPPORTED_MEDIA) from exc
    if info.duration_ms > MAX_DURATION_MS:
        raise ProblemError(
            f"videos are at most {MAX_DURATION_MS // 1000} seconds; this one is "
            f"{info.duration_ms / 1000:.1f} s",
            problem=VIDEO_TOO_LONG,
        )
    poster = media.poster_frame(data, info.suffix, caption=caption)
    media_key = new_key("videos", info.suffix)
    poster_key = new_key("videos", ".jpg")
    seller = sellers.seller_for_user(session=session, user_id=author.id)
    storage.put(media_key, data, content_type=info.content_type)
    storage.put(poster_key, poster, content_type="image/jpeg")
    try:
        video = Video(
            author_user_id=author.id,
            seller_id=seller.id if author.role == Role.SELLER and seller else None,
            market_code=author.market_code,
            caption=caption,
            media_key=media_key,
            content_type=info.content_type,
            size_bytes=len(data),
            duration_ms=info.duration_ms,
            poster_key=poster_key,
        )
        affiliate = author.id if author.role == Role.CREATOR else None
        for position, product in enumerate(products):
            video.tags.append(
                VideoProductTag(
                    product_id=product.id, position=position, affiliate_user_id=affiliate
                )
            )
        session.add(video)
        session.flush()
        emit(
            session=session,
            topic="video.published",
            subject_id=video.id,
            payload={
                "video_id": video.id,
                "author_user_id": author.id,
                "product_ids": [p.id for p in products],
                "affiliate_user_id": affiliate,
            },
        )
    except BaseException:
        storage.delete(media_key)
        storage.delete(poster_key)
        raise
    return video


def _taggable_products(
    *, session: Session, author: User, product_ids: Sequence[str]
) -> list[Product]:
    wanted = list(dict.fromkeys(product_ids))
    if not wanted:
        raise InvalidInput("tag at least one product")
    if len(wanted) > MAX_TAGS:
        raise InvalidInput(f"tag at most {MAX_TAGS} products")
    if author.role not in (Role.SELLER, Role.CREATOR):
        raise Forbidden("only sellers and creators post videos")
    found = {
        p.id: p
        for p in session.scalars(
            select(Product).where(Product.id.in_([i for i in wanted if looks_like("prd", i)]))
        )
    }
    own_seller = (
        sellers.seller_for_user(session=session, user_id=author.id)
        if author.role == Role.SELLER
        else None
    )
    out = []
    for product_id in wanted:
        product = found.get(product_id)
        if product is None or (own_seller is not None and product.seller_id != own_seller.id):
            raise NotFound(f"no such product {product_id!r}" + (" of yours" if own_seller else ""))
        if author.role == Role.SELLER and own_seller is None:
            raise Forbidden("finish your seller profile before posting")
        if not product.on_sale:
            raise ProblemError(
                f"product {product_id!r} is {product.status}, not on sale",
                problem=PRODUCT_NOT_ACTIVE,
            )
        out.append(product)
    return out


def videos_by_author(*, session: Session, author_id: str, limit: int = 30) -> list[Video]:
    """An author's newest videos with their tags (for the studio page)."""
    return list(
        session.scalars(
            select(Video)
            .where(Video.author_user_id == author_id)
            .order_by(Video.created_at.desc(), Video.id)
            .limit(limit)
            .options(selectinload(Video.tags))
        )
    )


def parse_product_refs(text: str) -> list[str]:
    """Product ids from what an author pasted: ids, product-page links, commas, spaces."""
    seen: dict[str, None] = {}
    for match in _PRODUCT_REF.finditer(text):
        seen.setdefault(match.group(0), None)
    return list(seen)


_PRODUCT_REF = re.compile(r"prd_[0-9a-z]{25}")


def get_video(*, session: Session, video_id: str) -> Video:
    video = session.get(Video, video_id) if looks_like("vid", video_id) else None
    if video is None or video.status != VideoStatus.PUBLISHED:
        raise NotFound("no such video", problem=UNKNOWN_VIDEO)
    return video


# ---------------------------------------------------------------- follows


def follow(*, session: Session, follower: User, creator_user_id: str) -> None:
    creator = session.get(User, creator_user_id) if looks_like("usr", creator_user_id) else None
    if creator is None or creator.role not in (Role.CREATOR, Role.SELLER) or not creator.is_active:
        raise NotFound("no such creator")
    if creator.id == follower.id:
        raise InvalidInput("you cannot follow yourself")
    exists = session.get(CreatorFollow, (follower.id, creator.id))
    if exists is None:
        session.add(CreatorFollow(follower_user_id=follower.id, creator_user_id=creator.id))
        session.flush()


def unfollow(*, session: Session, follower: User, creator_user_id: str) -> None:
    session.execute(
        delete(CreatorFollow).where(
            CreatorFollow.follower_user_id == follower.id,
            CreatorFollow.creator_user_id == creator_user_id,
        )
    )


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class EventInput:
    video_id: str
    kind: EventKind
    watch_ms: int | None = None
    completion_pct: int | None = None
    product_id: str | None = None


def record_events(
    *, session: Session, user_id: str, events: Sequence[EventInput], model_dir: Path | None = None
) -> int:
    """Append a batch in one INSERT. Any unknown video refuses the whole batch. Then fold
    the shopper's newest history into their vector so the next page reflects it."""
    if not events:
        return 0
    if len(events) > MAX_EVENTS_PER_BATCH:
        raise InvalidInput(f"send at most {MAX_EVENTS_PER_BATCH} events per batch")
    ids = {e.video_id for e in events}
    known = set(
        session.scalars(
            select(Video.id).where(
                Video.id.in_([i for i in ids if looks_like("vid", i)]),
                Video.status == VideoStatus.PUBLISHED,
            )
        )
    )
    unknown = sorted(ids - known)
    if unknown:
        raise NotFound(
            f"no such video: {', '.join(unknown[:5])}",
            problem=UNKNOWN_VIDEO,
            unknown_video_ids=unknown[:50],
        )
    now = utcnow()
    session.execute(
        insert(FeedEvent),
        [
            {
                "user_id": user_id,
                "video_id": e.video_id,
                "kind": e.kind.value,
                "watch_ms": e.watch_ms,
                "completion_pct": e.completion_pct,
                "product_id": e.product_id,
                "created_at": now,
            }
            for e in events
        ],
    )
    shopper = session.get(User, user_id)  # the principal's row, already in the session
    analytics_capture.feed_interactions(
        session=session,
        user_id=user_id,
        market_code=shopper.market_code if shopper else "US",
        interactions=events,
        occurred_at=now,
    )
    if model_dir is not None:
        model = current_model(model_dir)
        if model is not None:
            user_vector(session=session, model=model, user_id=user_id)
    return len(events)


# ---------------------------------------------------------------- the model in the app


class _ModelHolder:
    """The trained model this process serves; reloaded when the file on disk changes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.path: Path | None = None
        self.mtime = 0.0
        self.checked = 0.0
        self.model: ItemModel | None = None


_holder = _ModelHolder()
_user_vectors: OrderedDict[str, tuple[int, float, FloatArray]] = OrderedDict()
_user_vectors_lock = threading.Lock()
_USER_VECTOR_CACHE = 100_000
RELOAD_CHECK_S = 5.0


def current_model(model_dir: Path) -> ItemModel | None:
    path = model_dir / "model.npz"
    now = time.monotonic()
    if _holder.path == path and now - _holder.checked < RELOAD_CHECK_S:
        return _holder.model
    with _holder.lock:
        _holder.checked = now
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            _holder.path, _holder.mtime, _holder.model = path, 0.0, None
            return None
        if _holder.path != path or mtime != _holder.mtime:
            _holder.model = ItemModel.load(path)
            _holder.path, _holder.mtime = path, mtime
            _user_vectors.clear()
        return _holder.model


def use_model(model: ItemModel | None, model_dir: Path) -> None:
    """Serve ``model`` for ``model_dir`` from now on (after training in this process)."""
    with _holder.lock:
        path = model_dir / "model.npz"
        _holder.model, _holder.path = model, path
        _holder.mtime = path.stat().st_mtime if path.exists() else 0.0
        _holder.checked = time.monotonic()
        _user_vectors.clear()


@dataclass
class History:
    weights: dict[str, float]  # video id -> summed interaction weight
    seen: set[str]
    newest_event_id: int


def shopper_history(*, session: Session, user_id: str) -> History:
    rows = session.execute(
        select(FeedEvent.id, FeedEvent.video_id, FeedEvent.kind, FeedEvent.completion_pct)
        .where(FeedEvent.user_id == user_id)
        .order_by(FeedEvent.id.desc())
        .limit(HISTORY_EVENTS)
    ).all()
    weights: dict[str, float] = {}
    seen: set[str] = set()
    for _id, video_id, kind, completion in rows:
        seen.add(video_id)
        w = interaction_weight(kind, completion)
        if w > 0:
            weights[video_id] = weights.get(video_id, 0.0) + w
    return History(weights, seen, rows[0][0] if rows else 0)


def user_vector(
    *, session: Session, model: ItemModel, user_id: str, history: History | None = None
) -> tuple[FloatArray | None, History]:
    """The shopper's vector folded in from their newest history; cached until the next
    event. None when they have no positive interaction with any modelled video."""
    history = history or shopper_history(session=session, user_id=user_id)
    cached = _user_vectors.get(user_id)
    if (
        cached is not None
        and cached[0] == history.newest_event_id
        and cached[1] == model.trained_at
    ):
        return cached[2], history
    if not any(v in model.index for v in history.weights):
        return None, history
    vector = model.fold_in(history.weights)
    with _user_vectors_lock:  # request threads share the cache
        _user_vectors[user_id] = (history.newest_event_id, model.trained_at, vector)
        _user_vectors.move_to_end(user_id)
        while len(_user_vectors) > _USER_VECTOR_CACHE:
            _user_vectors.popitem(last=False)
    return vector, history


# ---------------------------------------------------------------- training


def train_recommender(
    *,
    session: Session,
    model_dir: Path,
    params: AlsParams | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
) -> ItemModel | None:
    """Read events, train ALS, compute item statistics, save the artefact. None when there
    is nothing to learn from yet."""
    params = params or AlsParams()
    now = now or utcnow()
    started = time.perf_counter()
    # Impressions carry no preference: filtered in SQL. Recency is decided in SQL too, so
    # no datetime is built per row (two million events read in seconds, not a minute).
    query = select(
        FeedEvent.user_id,
        FeedEvent.video_id,
        FeedEvent.kind,
        FeedEvent.completion_pct,
        (FeedEvent.created_at >= now - TRENDING_WINDOW).label("recent"),
    ).where(FeedEvent.kind != EventKind.IMPRESSION)
    if since is not None:
        query = query.where(FeedEvent.created_at >= since)
    users: dict[str, int] = {}
    items: dict[str, int] = {}
    u_idx: list[int] = []
    i_idx: list[int] = []
    kinds: list[str] = []
    completions: list[int] = []
    recent: list[bool] = []
    result = session.execute(query.execution_options(yield_per=100_000))
    for user_id, video_id, kind, completion, is_recent in result:
        u_idx.append(users.setdefault(user_id, len(users)))
        i_idx.append(items.setdefault(video_id, len(items)))
        kinds.append(kind)
        completions.append(completion or 0)
        recent.append(bool(is_recent))
    kind_array = np.asarray(kinds)
    weight_of = {k: interaction_weight(k) for k in set(kinds)}
    base = np.fromiter((weight_of[k] for k in kinds), dtype=np.float32, count=len(kinds))
    watch = kind_array == EventKind.WATCH.value
    completion_array = np.clip(np.asarray(completions, dtype=np.float32), 0, 100) / 100
    wa = base + np.where(watch, 2.0 * completion_array, 0.0).astype(np.float32)
    keep = wa > 0
    if not keep.any():
        return None
    ua = np.asarray(u_idx, dtype=np.int64)[keep]
    ia = np.asarray(i_idx, dtype=np.int64)[keep]
    wa = wa[keep]
    intent = np.isin(kind_array[keep], list(PURCHASE_INTENT_KINDS))
    recent_array = np.asarray(recent, dtype=bool)[keep]
    read_s = time.perf_counter() - started
    matrix = interaction_matrix(ua, ia, wa, (len(users), len(items)))
    user_factors, item_factors = train_als(matrix, params)
    log.info(
        "recommender trained",
        extra={
            "events": int(keep.sum()),
            "read_s": round(read_s, 2),
            "als_s": round(time.perf_counter() - started - read_s, 2),
        },
    )
    popularity, trending, purchase_rate = item_statistics(
        ia, wa, intent, recent_array, ua, len(items)
    )
    model = ItemModel(
        video_ids=list(items),
        factors=item_factors,
        popularity=popularity,
        trending=trending,
        purchase_rate=purchase_rate,
        params=params,
        user_ids=list(users),
        user_factors=user_factors,
    )
    model.save(model_dir)
    return model


# ---------------------------------------------------------------- the For You page


@dataclass(frozen=True)
class ProductCard:
    product_id: str
    title: str
    price: Money
    compare_at: Money | None
    sku_id: str | None
    in_stock_skus: int
    affiliate_user_id: str | None = None  # the creator credited for sales from this video


@dataclass
class FeedItem:
    video_id: str
    media_url: str
    content_type: str
    poster_url: str
    caption: str
    duration_ms: int
    author_user_id: str
    author_name: str
    products: list[ProductCard]
    reason: str  # "for_you" | "trending" | "fresh" | "following" | "new" (exploration)
    sponsored: bool = False


@dataclass
class FeedPage:
    items: list[FeedItem]
    next_cursor: str
    personalised: bool


class SponsoredSlots(Protocol):
    """Fills the slot after every ``every_n`` organic items (sponsored posts plug in here;
    a filler may also define ``every_n_for(session=, market_code=)`` to vary it by market).

    Return a video id to show as "Sponsored" at that slot, or None to leave it organic.
    The organic page is ranked first; a filler never displaces the ranking's order."""

    every_n: int

    def fill(
        self, *, session: Session, user_id: str | None, market_code: str, organic: Sequence[str]
    ) -> str | None: ...


_sponsored: list[SponsoredSlots] = []


def register_sponsored_slots(filler: SponsoredSlots | None) -> None:
    _sponsored.clear()
    if filler is not None:
        _sponsored.append(filler)


@dataclass
class Cursor:
    page: int = 0
    served: list[str] = field(default_factory=list)

    def encode(self) -> str:
        raw = json.dumps({"p": self.page, "s": self.served[-60:]}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None) -> Cursor:
        if not value:
            return cls()
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            data = json.loads(raw)
            page = int(data["p"])
            served = [str(s) for s in data["s"]][:60]
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise InvalidInput("the feed cursor is not valid; start again without it") from exc
        return cls(page=max(0, page), served=served)


@dataclass
class _Trending:
    at: float
    ids: list[str]


_trending_cache: dict[str, _Trending] = {}
TRENDING_TTL_S = 60.0


def _trending_without_model(session: Session, market_code: str) -> list[str]:
    """Cold start before any training: the market's most engaged videos of the window."""
    cached = _trending_cache.get(market_code)
    if cached and time.monotonic() - cached.at < TRENDING_TTL_S:
        return cached.ids
    since = utcnow() - TRENDING_WINDOW
    ids = list(
        session.scalars(
            select(FeedEvent.video_id)
            .join(Video, Video.id == FeedEvent.video_id)
            .where(
                FeedEvent.created_at >= since,
                FeedEvent.kind != EventKind.IMPRESSION,
                Video.market_code == market_code,
            )
            .group_by(FeedEvent.video_id)
            .order_by(func.count().desc(), FeedEvent.video_id)
            .limit(300)
        )
    )
    _trending_cache[market_code] = _Trending(time.monotonic(), ids)
    return ids


def feed_page(
    *,
    session: Session,
    user_id: str | None,
    market_code: str,
    cursor: str | None,
    model_dir: Path,
    weights: RankerWeights | None = None,
    limit: int = PAGE_SIZE,
) -> FeedPage:
    """Compose one page: candidates, re-ranking, diversity, exploration slots."""
    weights = weights or RankerWeights()
    state = Cursor.decode(cursor)
    model = current_model(model_dir)
    vector: FloatArray | None = None
    history = History({}, set(), 0)
    if user_id is not None:
        if model is not None:
            vector, history = user_vector(session=session, model=model, user_id=user_id)
        else:
            history = shopper_history(session=session, user_id=user_id)
    exclude = history.seen | set(state.served)

    sources: dict[str, str] = {}

    def add(ids: Sequence[str], reason: str) -> None:
        for vid in ids:
            if vid not in exclude and vid not in sources:
                sources[vid] = reason

    if model is not None and vector is not None:
        scores = model.factors @ vector
        excluded_idx = [model.index[v] for v in exclude if v in model.index]
        add([model.video_ids[i] for i in top_k(scores, 200, excluded_idx)], "for_you")
    if model is not None:
        trending_ids: list[str] = []
        for i in model.trending_order:
            vid = model.video_ids[int(i)]
            if vid not in exclude:
                trending_ids.append(vid)
                if len(trending_ids) >= 120:
                    break
        add(trending_ids, "trending")
    else:
        add(_trending_without_model(session, market_code), "trending")
    fresh = list(
        session.scalars(
            select(Video.id)
            .where(
                Video.market_code == market_code,
                Video.status == VideoStatus.PUBLISHED,
                Video.created_at >= utcnow() - timedelta(days=FRESH_DAYS),
            )
            .order_by(Video.created_at.desc())
            .limit(80)
        )
    )
    followed: set[str] = set()
    if user_id is not None:
        followed = set(
            session.scalars(
                select(Video.id)
                .join(CreatorFollow, CreatorFollow.creator_user_id == Video.author_user_id)
                .where(
                    CreatorFollow.follower_user_id == user_id,
                    Video.status == VideoStatus.PUBLISHED,
                )
                .order_by(Video.created_at.desc())
                .limit(60)
            )
        )
        add(sorted(followed), "following")
    add(fresh, "fresh")
    if len(sources) < limit * 2:  # a tiny or exhausted market: anything published
        add(
            list(
                session.scalars(
                    select(Video.id)
                    .where(Video.market_code == market_code, Video.status == VideoStatus.PUBLISHED)
                    .order_by(Video.created_at.desc())
                    .limit(limit * 5)
                )
            ),
            "fresh",
        )

    meta = _candidate_meta(session, list(sources), market_code)
    candidates = [v for v in sources if v in meta]
    ranked = _rank(candidates, model, vector, followed, weights)
    product_of = {v: meta[v][1] for v in candidates}
    creator_of = {v: meta[v][0] for v in candidates}
    previous = state.served[-1] if state.served else None
    page_ids = diversify(
        ranked, product_of=product_of, creator_of=creator_of, limit=limit, previous=previous
    )
    page_ids = _explore(
        page_ids,
        new=[
            v
            for v in candidates
            if sources[v] == "fresh" and (model is None or v not in model.index)
        ],
        product_of=product_of,
        creator_of=creator_of,
        slots=weights.explore_slots,
        rng=random.Random(f"{user_id}:{state.page}"),
        sources=sources,
        limit=limit,
    )
    page_ids = _with_sponsored(session, page_ids, user_id, market_code, sources)
    items = hydrate(session=session, video_ids=page_ids, reasons=sources)
    next_cursor = Cursor(page=state.page + 1, served=state.served + page_ids)
    return FeedPage(items, next_cursor.encode(), vector is not None)


@dataclass(frozen=True)
class _Meta:
    at: float
    author: str
    product: str | None
    published: bool
    market: str


_meta_cache: dict[str, _Meta] = {}
_meta_lock = threading.Lock()
META_TTL_S = 120.0  # a removed video may stay a candidate this long; hydrate re-checks
_META_CACHE_MAX = 500_000


def _candidate_meta(
    session: Session, ids: list[str], market_code: str
) -> dict[str, tuple[str, str | None]]:
    """video id -> (creator user id, first tagged product id) for published videos of the
    market. Cached in-process for a short while: the same popular candidates recur in
    almost every shopper's page."""
    now = time.monotonic()
    found: dict[str, _Meta] = {}
    missing: list[str] = []
    for vid in ids:
        meta = _meta_cache.get(vid)
        if meta is not None and now - meta.at < META_TTL_S:
            found[vid] = meta
        else:
            missing.append(vid)
    for start in range(0, len(missing), 500):
        chunk = missing[start : start + 500]
        # Filter status and market here, not in SQL: with them in the WHERE clause SQLite
        # prefers the (market, status, created_at) index and scans the market's videos.
        rows = session.execute(
            select(
                Video.id,
                Video.author_user_id,
                Video.status,
                Video.market_code,
                VideoProductTag.product_id,
            )
            .outerjoin(
                VideoProductTag,
                (VideoProductTag.video_id == Video.id) & (VideoProductTag.position == 0),
            )
            .where(Video.id.in_(chunk))
        ).all()
        fetched = {
            vid: _Meta(now, author, product, status == VideoStatus.PUBLISHED, market)
            for vid, author, status, market, product in rows
        }
        found.update(fetched)
        with _meta_lock:
            if len(_meta_cache) > _META_CACHE_MAX:
                _meta_cache.clear()
            _meta_cache.update(fetched)
    return {
        vid: (m.author, m.product)
        for vid, m in found.items()
        if m.published and m.market == market_code
    }


def _rank(
    candidates: list[str],
    model: ItemModel | None,
    vector: FloatArray | None,
    followed: set[str],
    weights: RankerWeights,
) -> list[str]:
    if not candidates:
        return []
    n = len(candidates)
    affinity = np.zeros(n, dtype=np.float32)
    popularity = np.zeros(n, dtype=np.float32)
    trending = np.zeros(n, dtype=np.float32)
    purchase = np.zeros(n, dtype=np.float32)
    if model is not None:
        idx = np.array([model.index.get(v, -1) for v in candidates])
        known = idx >= 0
        kidx = idx[known]
        if vector is not None:
            affinity[known] = model.factors[kidx] @ vector
        popularity[known] = model.popularity[kidx]
        trending[known] = model.trending[kidx]
        purchase[known] = model.purchase_rate[kidx]
    features = CandidateFeatures(
        affinity=affinity,
        popularity=popularity,
        trending=trending,
        purchase_rate=purchase,
        own_history=np.zeros(n, dtype=np.float32),
        followed=np.array([1.0 if v in followed else 0.0 for v in candidates], dtype=np.float32),
    )
    score = rerank(features, weights)
    order = np.argsort(-score, kind="stable")
    return [candidates[int(i)] for i in order]


def _explore(
    page: list[str],
    *,
    new: list[str],
    product_of: Mapping[str, str | None],
    creator_of: Mapping[str, str | None],
    slots: Sequence[int],
    rng: random.Random,
    sources: dict[str, str],
    limit: int,
) -> list[str]:
    """Give a few fixed slots of each page to videos the model has not learned yet (epsilon
    slots), so new posts get the impressions that let them be learned. A new video goes
    only where it repeats neither neighbour's product nor creator."""
    pool = [v for v in new if v not in page]
    rng.shuffle(pool)
    out = list(page)
    for slot in slots:
        if slot > len(out):
            break
        for cand in list(pool):
            before = out[slot - 1] if slot > 0 else None
            after = out[slot] if slot < len(out) else None
            if any(
                n is not None
                and (
                    (product_of.get(n) is not None and product_of.get(n) == product_of.get(cand))
                    or creator_of.get(n) == creator_of.get(cand)
                )
                for n in (before, after)
            ):
                continue
            out.insert(slot, cand)
            pool.remove(cand)
            sources[cand] = "new"
            break
    return out[:limit]


def _with_sponsored(
    session: Session,
    page: list[str],
    user_id: str | None,
    market_code: str,
    sources: dict[str, str],
) -> list[str]:
    if not _sponsored:
        return page
    filler = _sponsored[0]
    per_market = getattr(filler, "every_n_for", None)  # optional: the interval as market data
    every_n = per_market(session=session, market_code=market_code) if per_market else filler.every_n
    out: list[str] = []
    for i, vid in enumerate(page, start=1):
        out.append(vid)
        if every_n > 0 and i % every_n == 0:
            ad = filler.fill(session=session, user_id=user_id, market_code=market_code, organic=out)
            if ad is not None and ad not in out:
                out.append(ad)
                sources[ad] = "sponsored"
    return out


def hydrate(
    *, session: Session, video_ids: Sequence[str], reasons: dict[str, str]
) -> list[FeedItem]:
    """Load what the page shows for these videos, in order. Plain column reads (no ORM
    objects): this runs on every feed request."""
    if not video_ids:
        return []
    videos: dict[str, Any] = {}
    tags: dict[str, list[tuple[int, str, str | None]]] = {}
    for row in session.execute(
        select(
            Video.id,
            Video.author_user_id,
            Video.seller_id,
            Video.caption,
            Video.media_key,
            Video.content_type,
            Video.duration_ms,
            Video.poster_key,
            Video.status,
            VideoProductTag.position,
            VideoProductTag.product_id,
            VideoProductTag.affiliate_user_id,
        )
        .outerjoin(VideoProductTag, VideoProductTag.video_id == Video.id)
        .where(Video.id.in_(list(video_ids)))
    ):
        videos[row.id] = row
        if row.product_id is not None:
            tags.setdefault(row.id, []).append(
                (row.position, row.product_id, row.affiliate_user_id)
            )
    product_ids = {product for entries in tags.values() for _, product, _ in entries}
    cards: dict[str, ProductCard] = {}
    if product_ids:
        cheapest: dict[str, Any] = {}
        skus_per_product: dict[str, int] = {}
        for product_row in session.execute(
            select(
                Product.id,
                Product.title,
                Product.status,
                Product.moderation_status,
                Product.currency,
                Sku.id.label("sku_id"),
                Sku.price_amount,
                Sku.compare_at_amount,
            )
            .join(Sku, Sku.product_id == Product.id)
            .where(Product.id.in_(product_ids), Sku.is_active.is_(True))
        ):
            if (
                product_row.status != ProductStatus.ACTIVE
                or product_row.moderation_status != ModerationStatus.PUBLISHED
            ):
                continue
            pid = product_row.id
            skus_per_product[pid] = skus_per_product.get(pid, 0) + 1
            best = cheapest.get(pid)
            if best is None or product_row.price_amount < best.price_amount:
                cheapest[pid] = product_row
        for product_id, row in cheapest.items():
            price = Money(row.price_amount, row.currency)
            compare_at = (
                Money(row.compare_at_amount, row.currency)
                if row.compare_at_amount and row.compare_at_amount > row.price_amount
                else None
            )
            cards[product_id] = ProductCard(
                product_id=product_id,
                title=row.title,
                price=price,
                compare_at=compare_at,
                sku_id=row.sku_id,
                in_stock_skus=skus_per_product[product_id],
            )
    author_rows = session.execute(
        select(User.id, User.handle).where(User.id.in_({v.author_user_id for v in videos.values()}))
    ).all()
    authors: dict[str, str | None] = {row[0]: row[1] for row in author_rows}
    seller_names = _seller_names(session, {v.seller_id for v in videos.values() if v.seller_id})
    items = []
    for vid in video_ids:
        video = videos.get(vid)
        if video is None or video.status != VideoStatus.PUBLISHED:
            continue
        shown = [
            replace(cards[product], affiliate_user_id=affiliate)
            for _, product, affiliate in sorted(tags.get(vid, []))
            if product in cards
        ]
        handle = authors.get(video.author_user_id)
        author_name = (
            seller_names.get(video.seller_id or "")
            or (f"@{handle}" if handle else "")
            or "reelshop creator"
        )
        items.append(
            FeedItem(
                video_id=video.id,
                media_url=media_url(video.media_key),
                content_type=video.content_type,
                poster_url=media_url(video.poster_key),
                caption=video.caption,
                duration_ms=video.duration_ms,
                author_user_id=video.author_user_id,
                author_name=author_name,
                products=shown,
                reason=reasons.get(vid, "fresh"),
                sponsored=reasons.get(vid) == "sponsored",
            )
        )
    return items


def _seller_names(session: Session, seller_ids: set[str]) -> dict[str, str]:
    out = {}
    for seller_id in seller_ids:
        try:
            out[seller_id] = sellers.get_seller(session=session, seller_id=seller_id).display_name
        except ProblemError:
            continue
    return out


def clear_caches() -> None:
    """Forget every in-process cache (tests; after restoring a database)."""
    with _meta_lock:
        _meta_cache.clear()
    with _user_vectors_lock:
        _user_vectors.clear()
    _trending_cache.clear()
