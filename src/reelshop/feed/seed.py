"""Seed step "feed": demo videos tagging the seeded products, follows, and a synthetic
interaction history with taste structure, then a first trained recommender.

No download: a small pool of real clips is generated with ffmpeg's ``gradients`` source
(with the category's name drawn on when a font is installed) and reused by many video
rows; without ffmpeg, rows get generated posters and play as stills. Shoppers prefer two
or three top-level categories; within a category a few videos are far more popular
than the rest (Zipf), as on any real feed.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from reelshop.catalog.models import Category, Product, ProductStatus
from reelshop.config import get_settings
from reelshop.db import utcnow
from reelshop.feed import media
from reelshop.feed import service as feed
from reelshop.feed.models import CreatorFollow, FeedEvent, Video, VideoProductTag
from reelshop.ids import new_id
from reelshop.sellers.models import SellerProfile
from reelshop.storage import get_storage, new_key

if TYPE_CHECKING:
    from reelshop.seed import SeedContext

log = logging.getLogger("reelshop.seed")

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
PALETTE = ["#ff2d55", "#5856d6", "#34c759", "#ff9500", "#007aff", "#af52de", "#00c7be"]
CAPTIONS = [
    "Obsessed with this {t}",
    "{t} — worth it?",
    "Unboxing the {t}",
    "3 ways to use this {t}",
    "Honest review: {t}",
    "This {t} sold out twice",
    "POV: you finally bought the {t}",
    "Under $30 finds: {t}",
]


@dataclass(frozen=True)
class PooledClip:
    media_key: str
    poster_key: str
    content_type: str
    size_bytes: int
    duration_ms: int


def _videos_for_scale(scale_name: str) -> int:
    return 2_400 if scale_name == "small" else 20_000


def _make_clip(label: str, colour: str, seconds: int) -> tuple[bytes, bytes] | None:
    ffmpeg = media._ffmpeg()
    if ffmpeg is None:
        return None
    text = label.replace("'", "").replace(":", " ")[:22]
    # A slowly moving two-colour gradient with the category's name and a bobbing
    # "tap the card" line: something a phone can play, made offline.
    source = f"gradients=s=360x640:r=15:c0={colour}:c1=0x1f1147:x0=0:y0=0:x1=360:y1=640:speed=0.02"
    draw = (
        ",drawbox=y=ih*0.38:w=iw:h=ih*0.16:color=black@0.35:t=fill,"
        f"drawtext=fontfile={FONT}:text='{text}':fontcolor=white:fontsize=34:"
        "x=(w-text_w)/2:y=h*0.43,"
        f"drawtext=fontfile={FONT}:text='tap the card to shop':fontcolor=white@0.85:"
        "fontsize=18:x=(w-text_w)/2:y=h*0.62+10*sin(t*3)"
        if FONT.exists()
        else ""
    )
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        poster = Path(tmp) / "poster.jpg"
        run = subprocess.run(  # noqa: S603 - fixed argv  # nosec B603
            [
                ffmpeg,
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"{source}{draw}",
                "-t",
                str(seconds),
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-movflags",
                "+faststart",
                str(clip),
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if run.returncode != 0:
            log.warning("ffmpeg could not make a demo clip: %s", run.stderr[-300:])
            return None
        subprocess.run(  # noqa: S603 - fixed argv  # nosec B603
            [
                ffmpeg,
                "-v",
                "error",
                "-y",
                "-ss",
                "1",
                "-i",
                str(clip),
                "-frames:v",
                "1",
                str(poster),
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        data = clip.read_bytes()
        still = poster.read_bytes() if poster.exists() else media.generated_poster(label)
        return data, still


def _clip_pool(labels: list[str]) -> dict[str, list[PooledClip]]:
    storage = get_storage()
    jobs = [(label, PALETTE[i % len(PALETTE)], 4 + i % 3) for i, label in enumerate(labels)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = list(pool.map(lambda j: _make_clip(*j), jobs))
    out: dict[str, list[PooledClip]] = {}
    for (label, _colour, seconds), result in zip(jobs, made, strict=True):
        poster_key = new_key("videos", ".jpg")
        if result is None:
            still = media.generated_poster(label, hue=(hash(label) % 360))
            storage.put(poster_key, still, content_type="image/jpeg")
            clip = PooledClip(poster_key, poster_key, "image/jpeg", len(still), seconds * 1000)
        else:
            data, still = result
            media_key = new_key("videos", ".mp4")
            storage.put(media_key, data, content_type="video/mp4")
            storage.put(poster_key, still, content_type="image/jpeg")
            clip = PooledClip(media_key, poster_key, "video/mp4", len(data), seconds * 1000)
        out.setdefault(label, []).append(clip)
    return out


def seed_feed(session: Session, ctx: SeedContext) -> None:
    rng = np.random.default_rng(ctx.rng.getrandbits(32))
    rows = session.execute(
        select(Product.id, Product.title, Product.seller_id, Category.path)
        .join(Category, Category.id == Product.category_id)
        .where(Product.status == ProductStatus.ACTIVE)
        .order_by(Product.id)
    ).all()
    if not rows:
        log.warning("no active products: the feed seed has nothing to tag")
        return
    seller_user = dict(session.execute(select(SellerProfile.id, SellerProfile.user_id)).all())
    by_category: dict[str, list[tuple[str, str, str]]] = {}
    for product_id, title, seller_id, path in rows:
        by_category.setdefault(path.split("/")[0], []).append((product_id, title, seller_id))
    categories = sorted(by_category)

    labels = [c.replace("-", " ").title() for c in categories]
    pool = _clip_pool(labels + [f"{label} haul" for label in labels[:2]])
    clips_for = {
        c: pool.get(label, []) + pool.get(f"{label} haul", [])
        for c, label in zip(categories, labels, strict=True)
    }

    now = utcnow()
    creators = list(ctx.creator_ids)
    n_videos = _videos_for_scale(ctx.scale.name)
    video_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    video_category: list[int] = []
    video_author: list[str] = []
    for i in range(n_videos):
        c = int(rng.integers(len(categories)))
        products = by_category[categories[c]]
        product_id, title, seller_id = products[int(rng.integers(len(products)))]
        by_creator = creators and rng.random() < 0.7
        author = (
            creators[int(rng.integers(len(creators)))] if by_creator else seller_user[seller_id]
        )
        if i < 40 and creators:
            author = creators[0]  # the demo creator has a body of work
        clip = clips_for[categories[c]][int(rng.integers(len(clips_for[categories[c]])))]
        age = timedelta(hours=float(rng.exponential(24 * 8)))
        video_id = new_id("vid")
        video_rows.append(
            {
                "id": video_id,
                "author_user_id": author,
                "seller_id": None if by_creator else seller_id,
                "market_code": "US",
                "caption": CAPTIONS[i % len(CAPTIONS)].format(t=title[:60]),
                "media_key": clip.media_key,
                "content_type": clip.content_type,
                "size_bytes": clip.size_bytes,
                "duration_ms": clip.duration_ms,
                "poster_key": clip.poster_key,
                "status": "published",
                "created_at": now - min(age, timedelta(days=60)),
            }
        )
        tag_rows.append(
            {
                "video_id": video_id,
                "product_id": product_id,
                "position": 0,
                "affiliate_user_id": author if by_creator else None,
            }
        )
        video_category.append(c)
        video_author.append(author)
    for start in range(0, len(video_rows), 2_000):
        session.execute(insert(Video), video_rows[start : start + 2_000])
    for start in range(0, len(tag_rows), 2_000):
        session.execute(insert(VideoProductTag), tag_rows[start : start + 2_000])

    _seed_follows(session, ctx, rng, creators)
    _seed_history(session, ctx, rng, video_rows, np.asarray(video_category), len(categories))
    session.flush()
    feed.train_recommender(session=session, model_dir=get_settings().data_dir / "recommender")
    ctx.extra["video_ids"] = [v["id"] for v in video_rows]


def _seed_follows(
    session: Session, ctx: SeedContext, rng: np.random.Generator, creators: list[str]
) -> None:
    if not creators:
        return
    follows = []
    for shopper in ctx.shopper_ids:
        k = int(rng.integers(0, 4))
        for creator in set(rng.choice(creators, size=k).tolist()) if k else ():
            follows.append({"follower_user_id": shopper, "creator_user_id": creator})
    if ctx.shopper_ids and creators:
        follows.append({"follower_user_id": ctx.shopper_ids[0], "creator_user_id": creators[0]})
    unique = {(f["follower_user_id"], f["creator_user_id"]): f for f in follows}
    if unique:
        session.execute(insert(CreatorFollow), list(unique.values()))


def _seed_history(
    session: Session,
    ctx: SeedContext,
    rng: np.random.Generator,
    videos: list[dict[str, Any]],
    video_category: np.ndarray[Any, Any],
    n_categories: int,
) -> None:
    """Sessions of scrolling: each shopper prefers 2-3 categories; watch time, likes,
    clicks, add-to-carts and purchases follow from whether a video matches that taste."""
    n = len(videos)
    ids = [v["id"] for v in videos]
    # Zipf-like popularity within the catalogue of videos.
    appeal = 1.0 / np.arange(1, n + 1) ** 0.8
    rng.shuffle(appeal)
    per_category = [np.flatnonzero(video_category == c) for c in range(n_categories)]
    cat_p = [appeal[idx] / appeal[idx].sum() if idx.size else idx for idx in per_category]
    all_p = appeal / appeal.sum()
    now = utcnow()
    views_per_shopper = 60 if ctx.scale.name == "small" else 25
    batch: list[dict[str, Any]] = []
    demo_shopper = ctx.shopper_ids[0] if ctx.shopper_ids else None
    for shopper in ctx.shopper_ids:
        k = int(rng.integers(2, 4))
        liked = rng.choice(n_categories, size=min(k, n_categories), replace=False)
        views = 25 if shopper == demo_shopper else int(rng.poisson(views_per_shopper)) + 5
        for _ in range(views):
            on_taste = rng.random() < 0.75
            if on_taste:
                c = int(liked[int(rng.integers(len(liked)))])
                if not per_category[c].size:
                    continue
                v = int(rng.choice(per_category[c], p=cat_p[c]))
            else:
                v = int(rng.choice(n, p=all_p))
            when = now - timedelta(hours=float(rng.uniform(0, 24 * 14)))
            duration = videos[v]["duration_ms"]
            match = int(video_category[v]) in liked
            completion = float(np.clip(rng.beta(5, 2) if match else rng.beta(1.2, 4), 0, 1))
            base = {
                "user_id": shopper,
                "video_id": ids[v],
                "created_at": when,
                "watch_ms": None,
                "completion_pct": None,
                "product_id": None,
            }
            batch.append({**base, "kind": "impression"})
            batch.append(
                {
                    **base,
                    "kind": "watch",
                    "watch_ms": int(duration * completion),
                    "completion_pct": int(completion * 100),
                }
            )
            engaged = match and completion > 0.6
            if engaged and rng.random() < 0.25:
                batch.append({**base, "kind": "like"})
            if engaged and rng.random() < 0.04:
                batch.append({**base, "kind": "share"})
            if engaged and rng.random() < 0.18:
                batch.append({**base, "kind": "product_card_click"})
                if rng.random() < 0.35:
                    batch.append({**base, "kind": "add_to_cart"})
                    if rng.random() < 0.5:
                        batch.append({**base, "kind": "purchase"})
        if len(batch) >= 20_000:
            session.execute(insert(FeedEvent), batch)
            batch = []
    if batch:
        session.execute(insert(FeedEvent), batch)
