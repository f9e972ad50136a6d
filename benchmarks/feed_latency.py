"""Feed latency at marketplace scale: 100,000 videos, 50,000 shoppers, 2,000,000 interactions.

Builds a scratch SQLite database (or ``--database-url``), bulk-loads synthetic videos,
products and interactions with taste structure, trains ALS through the same service
function the worker job runs (``train_s``: reading the events, training, saving), starts a
real uvicorn server (``reelshop serve``) and measures over HTTP the time of a 20-item
personalised feed page for shoppers with history. In the same run it measures the
fold-in of a shopper's newest history (the real-time update) and a raw numpy top-k over
the same item matrix, for comparison. Targets: feed p99 < 30 ms, fold-in p99 < 5 ms.

``--scale small`` (10,000 videos, 5,000 shoppers, 200,000 interactions) runs in under a
minute. Last line: one JSON object with keys videos, shoppers, interactions, feed_p50_ms,
feed_p99_ms, foldin_p99_ms, numpy_topk_p99_ms, train_s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import insert

SCALES = {
    "small": {"videos": 10_000, "shoppers": 5_000, "interactions": 200_000},
    "full": {"videos": 100_000, "shoppers": 50_000, "interactions": 2_000_000},
}
PROBE_SHOPPERS = 100  # real accounts with API tokens; the rest exist only in the events
CATEGORIES = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)), 3)


def build(
    database_url: str, data_dir: Path, scale: dict[str, int], rng: np.random.Generator
) -> list[str]:
    """Load the marketplace; returns the API tokens of the probe shoppers."""
    os.environ["REELSHOP_DATABASE_URL"] = database_url
    os.environ["REELSHOP_DATA_DIR"] = str(data_dir)
    from reelshop.accounts import service as accounts
    from reelshop.accounts.models import Role, User
    from reelshop.catalog.models import Category, Product, Sku
    from reelshop.config import get_settings
    from reelshop.db import make_engine, make_session_factory, utcnow
    from reelshop.feed.models import FeedEvent, Video, VideoProductTag
    from reelshop.ids import new_id
    from reelshop.migrate import upgrade
    from reelshop.security import keys
    from reelshop.security.passwords import hash_password
    from reelshop.sellers.models import SellerProfile

    settings = get_settings()
    keys.configure(settings)
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    n_videos, n_shoppers, n_events = scale["videos"], scale["shoppers"], scale["interactions"]
    t0 = time.perf_counter()
    shared_hash = hash_password("benchmark-password-not-used")
    now = utcnow()
    with factory() as session:

        def users(role: Role, count: int, prefix: str) -> list[str]:
            rows = [
                {
                    "id": new_id("usr"),
                    "email_hash": keys.email_lookup_hash(f"{prefix}{i}@bench.dev"),
                    "email": f"{prefix}{i}@bench.dev",
                    "name": f"Bench {prefix} {i}",
                    "phone": None,
                    "handle": f"{prefix}{i}" if role is Role.CREATOR else None,
                    "password_hash": shared_hash,
                    "role": role.value,
                    "staff_permissions": [],
                    "market_code": "US",
                    "locale": "en_US",
                    "is_active": True,
                    "session_version": 1,
                }
                for i in range(count)
            ]
            session.execute(insert(User), rows)
            return [r["id"] for r in rows]

        creators = users(Role.CREATOR, 2_000, "creator")
        seller_users = users(Role.SELLER, 200, "seller")
        probes = users(Role.SHOPPER, PROBE_SHOPPERS, "shopper")
        sellers = [
            {
                "id": new_id("sel"),
                "user_id": u,
                "display_name": f"Seller {i}",
                "legal_name": f"Seller {i} Ltd",
                "country": "CN",
                "ships_from_country": "CN",
                "timezone": "Asia/Shanghai",
                "currency": "USD",
                "categories": ["home"],
                "market_codes": ["US"],
                "status": "approved",
            }
            for i, u in enumerate(seller_users)
        ]
        session.execute(insert(SellerProfile), sellers)
        cats = [
            {
                "id": new_id("cat"),
                "slug": f"bench-{c}",
                "name": f"Bench {c}",
                "path": f"bench-{c}",
                "position": c,
            }
            for c in range(CATEGORIES)
        ]
        session.execute(insert(Category), cats)
        n_products = max(1_000, n_videos // 5)
        product_cat = rng.integers(0, CATEGORIES, n_products)
        products = [
            {
                "id": new_id("prd"),
                "seller_id": sellers[i % len(sellers)]["id"],
                "handle": f"p{i}",
                "title": f"Product {i}",
                "description": "",
                "category_id": cats[int(product_cat[i])]["id"],
                "tags": [],
                "option_names": [],
                "status": "active",
                "currency": "USD",
            }
            for i in range(n_products)
        ]
        skus = [
            {
                "id": new_id("sku"),
                "product_id": p["id"],
                "code": f"S{i}",
                "option_values": {},
                "price_amount": int(rng.integers(299, 9999)),
                "position": 0,
                "is_active": True,
            }
            for i, p in enumerate(products)
        ]
        for start in range(0, n_products, 5_000):
            session.execute(insert(Product), products[start : start + 5_000])
            session.execute(insert(Sku), skus[start : start + 5_000])
        video_product = rng.integers(0, n_products, n_videos)
        video_cat = product_cat[video_product]
        video_ids = [new_id("vid") for _ in range(n_videos)]
        ages = rng.exponential(24 * 10, n_videos)
        for start in range(0, n_videos, 10_000):
            session.execute(
                insert(Video),
                [
                    {
                        "id": video_ids[i],
                        "author_user_id": creators[i % len(creators)],
                        "market_code": "US",
                        "caption": f"Video {i}",
                        "media_key": "videos/aa/obj_b.mp4",
                        "content_type": "video/mp4",
                        "size_bytes": 1,
                        "duration_ms": 8000,
                        "poster_key": "videos/aa/obj_b.jpg",
                        "status": "published",
                        "created_at": now - timedelta(hours=float(ages[i])),
                    }
                    for i in range(start, min(n_videos, start + 10_000))
                ],
            )
            session.execute(
                insert(VideoProductTag),
                [
                    {
                        "video_id": video_ids[i],
                        "product_id": products[int(video_product[i])]["id"],
                        "position": 0,
                    }
                    for i in range(start, min(n_videos, start + 10_000))
                ],
            )
        session.commit()
        print(f"catalogue loaded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

        # Interactions: each shopper prefers 3 categories; videos have Zipf appeal.
        shopper_ids = probes + [new_id("usr") for _ in range(n_shoppers - len(probes))]
        taste = rng.integers(0, CATEGORIES, (n_shoppers, 3))
        by_cat = [np.flatnonzero(video_cat == c) for c in range(CATEGORIES)]
        appeal = 1.0 / np.arange(1, n_videos + 1) ** 0.7
        rng.shuffle(appeal)
        cat_p = [appeal[idx] / appeal[idx].sum() for idx in by_cat]
        per_shopper = rng.multinomial(n_events, np.full(n_shoppers, 1 / n_shoppers))
        kinds = np.array(
            ["impression", "watch", "like", "product_card_click", "add_to_cart", "purchase"]
        )
        kind_p = np.array([0.45, 0.40, 0.07, 0.05, 0.02, 0.01])
        t1 = time.perf_counter()
        shopper_of = np.repeat(np.arange(n_shoppers), per_shopper)
        event_cat = taste[shopper_of, rng.integers(0, 3, n_events)]
        event_video = np.zeros(n_events, dtype=np.int64)
        for c in range(CATEGORIES):
            mask = event_cat == c
            cdf = np.cumsum(cat_p[c])
            picks = np.searchsorted(cdf, rng.random(int(mask.sum())) * cdf[-1])
            event_video[mask] = by_cat[c][np.minimum(picks, len(cdf) - 1)]
        event_kind = kinds[rng.choice(len(kinds), size=n_events, p=kind_p)]
        completion = rng.integers(20, 101, n_events)
        seconds_ago = rng.uniform(0, 30 * 86400, n_events).astype("timedelta64[s]")
        stamps = np.datetime64(now.replace(tzinfo=None), "us") - seconds_ago
        created = [t.replace("T", " ") for t in np.datetime_as_string(stamps, unit="us")]
        is_watch = event_kind == "watch"
        rows = [
            (
                shopper_ids[int(shopper_of[j])],
                video_ids[int(event_video[j])],
                str(event_kind[j]),
                int(completion[j]) * 80 if is_watch[j] else None,
                int(completion[j]) if is_watch[j] else None,
                None,
                created[j],
            )
            for j in range(n_events)
        ]
        session.commit()
        columns = "user_id, video_id, kind, watch_ms, completion_pct, product_id, created_at"
        if database_url.startswith("sqlite"):
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("BEGIN")
                cursor.executemany(
                    f"INSERT INTO feed_events ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows
                )
                cursor.execute("COMMIT")
            finally:
                raw.close()
        else:
            keys_ = columns.split(", ")
            for start in range(0, n_events, 50_000):
                batch = [dict(zip(keys_, r, strict=True)) for r in rows[start : start + 50_000]]
                for b in batch:
                    b["created_at"] = now - timedelta(seconds=1)
                session.execute(insert(FeedEvent), batch)
            session.commit()
        written = len(rows)
        print(f"{written} interactions loaded in {time.perf_counter() - t1:.1f} s", file=sys.stderr)

        tokens = []
        for uid in probes:
            user = session.get(User, uid)
            assert user is not None
            tokens.append(
                accounts.create_api_token(session=session, user=user, name="bench").secret
            )
        session.commit()

    engine.dispose()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "tokens.json").write_text(json.dumps(tokens))
    return tokens


def train(database_url: str, data_dir: Path) -> float:
    """The worker job's work, timed: read the events, train ALS, save the model."""
    from reelshop.db import make_engine, make_session_factory
    from reelshop.feed import service as feed
    from reelshop.feed.recommender import AlsParams

    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        started = time.perf_counter()
        model = feed.train_recommender(
            session=session,
            model_dir=data_dir / "recommender",
            params=AlsParams(factors=64, iterations=10),
        )
        train_s = time.perf_counter() - started
    engine.dispose()
    assert model is not None
    print(
        f"trained on {len(model.user_ids)} shoppers x {len(model.video_ids)} videos in "
        f"{train_s:.1f} s",
        file=sys.stderr,
    )
    return train_s


def measure_foldin_and_topk(
    data_dir: Path, rng: np.random.Generator, rounds: int
) -> tuple[list[float], list[float]]:
    from reelshop.feed.recommender import ItemModel, top_k

    model = ItemModel.load(data_dir / "recommender" / "model.npz")
    n = len(model.video_ids)
    foldin, topk = [], []
    for _ in range(rounds):
        history = {
            model.video_ids[int(i)]: float(rng.uniform(1, 10)) for i in rng.integers(0, n, 60)
        }
        t = time.perf_counter()
        vector = model.fold_in(history)
        foldin.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        top_k(model.factors @ vector, 200)
        topk.append((time.perf_counter() - t) * 1000)
    return foldin, topk


def measure_http(database_url: str, data_dir: Path, tokens: list[str], rounds: int) -> list[float]:
    port = _free_port()
    env = {
        **os.environ,
        "REELSHOP_DATABASE_URL": database_url,
        "REELSHOP_DATA_DIR": str(data_dir),
        "REELSHOP_LOG_LEVEL": "WARNING",
        "OPENBLAS_NUM_THREADS": "1",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "reelshop"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(100):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                raise RuntimeError("the server did not start")
            for token in tokens[:20]:  # warm-up: model load, connection pools
                client.get("/api/v1/feed", headers={"Authorization": f"Bearer {token}"})
            times, composed = [], []
            for r in range(rounds):
                headers = {"Authorization": f"Bearer {tokens[r % len(tokens)]}"}
                t = time.perf_counter()
                response = client.get("/api/v1/feed", headers=headers)
                times.append((time.perf_counter() - t) * 1000)
                timing = response.headers.get("server-timing", "feed;dur=0")
                composed.append(float(timing.split("dur=")[1]))
                body = response.json()
                assert response.status_code == 200 and len(body["items"]) == 20, response.text
                assert body["personalised"], "probe shoppers have history"
            print(
                f"feed page composed in the route: p50 {_pct(composed, 50)} ms, "
                f"p99 {_pct(composed, 99)} ms (Server-Timing)",
                file=sys.stderr,
            )
            return times
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--database-url", default=None, help="default: a scratch SQLite file")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--workdir", default=None, help="keep the database and model here")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --workdir: reuse a database built by an earlier run",
    )
    args = parser.parse_args()
    scale = SCALES[args.scale]
    rounds = args.rounds or (300 if args.scale == "small" else 1_000)
    rng = np.random.default_rng(20261124)
    with tempfile.TemporaryDirectory(prefix="reelshop-feed-bench-") as scratch:
        tmp = args.workdir or scratch
        Path(tmp).mkdir(parents=True, exist_ok=True)
        data_dir = Path(tmp) / "data"
        database_url = args.database_url or f"sqlite:///{tmp}/bench.db"
        saved = data_dir / "tokens.json"
        if args.reuse and saved.exists():
            tokens = json.loads(saved.read_text())
            os.environ["REELSHOP_DATABASE_URL"] = database_url
            os.environ["REELSHOP_DATA_DIR"] = str(data_dir)
        else:
            tokens = build(database_url, data_dir, scale, rng)
        train_s = train(database_url, data_dir)
        foldin, topk = measure_foldin_and_topk(data_dir, rng, rounds)
        feed_ms = measure_http(database_url, data_dir, tokens, rounds)
    print(
        f"feed page over HTTP: p50 {_pct(feed_ms, 50)} ms, p99 {_pct(feed_ms, 99)} ms; "
        f"fold-in p50 {_pct(foldin, 50)} / p99 {_pct(foldin, 99)} ms; "
        f"numpy top-k p50 {_pct(topk, 50)} / p99 {_pct(topk, 99)} ms; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        file=sys.stderr,
    )
    print(
        json.dumps(
            {
                "videos": scale["videos"],
                "shoppers": scale["shoppers"],
                "interactions": scale["interactions"],
                "feed_p50_ms": _pct(feed_ms, 50),
                "feed_p99_ms": _pct(feed_ms, 99),
                "foldin_p99_ms": _pct(foldin, 99),
                "numpy_topk_p99_ms": _pct(topk, 99),
                "train_s": round(train_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
