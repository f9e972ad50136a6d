"""Dashboard queries over N analytics events against a plain DuckDB scan of the same files.

Generates N events (default 10,000,000) over the last 365 days into Parquet day
partitions, the layout the app writes, with numpy and pyarrow (vectorised, one day at a
time so memory stays flat). Then times, warm, median of three:

- the staff dashboard by month over the whole year (every event read: totals, previous
  period, series, market/category/seller-country breakdowns, funnel, year-to-date and
  trailing run-rate), through ``analytics.service.staff_dashboard``;
- the staff dashboard's default 30-day view and one seller's dashboard (printed);
- the baseline: ``SELECT count(*), sum(amount) FROM read_parquet(...)`` over every file.

Last line: {"events": N, "dashboard_ms": ..., "scan_ms": ...}.

    .venv/bin/python benchmarks/analytics.py [--events 1000000] [--dir /tmp/x] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

import reelshop.models  # noqa: F401 - every table, for the in-memory database
from reelshop.analytics import service
from reelshop.analytics.events import BEHAVIOUR, MONEY, SCHEMA, partition_dir, write_table
from reelshop.db import Base, make_engine, make_session_factory
from reelshop.sellers.models import SellerProfile

DAYS = 365
KINDS = ["impression", "video_view", "product_click", "add_to_cart", "checkout_start",
         "purchase", "refund"]  # fmt: skip
KIND_P = [0.80, 0.10, 0.05, 0.02, 0.0135, 0.0125, 0.004]
MARKETS = ["US", "GB", "DE"]
MARKET_P = [0.82, 0.12, 0.06]
COUNTRIES = ["CN", "US", "HK", "VN", "GB"]
CATEGORIES = ["electronics", "fashion", "beauty", "home", "sports", "toys", "pets", "food",
              "books", "garden", "auto", "baby"]  # fmt: skip


def _pool(prefix: str, n: int) -> pa.Array:
    return pc.binary_join_element_wise(
        pa.scalar(prefix), pa.array(np.arange(n)).cast(pa.string()), ""
    )


def generate(root: Path, n_events: int, *, today: date, seed: int = 7) -> int:
    rng = np.random.default_rng(seed)
    n_sellers, n_products, n_users, n_videos = 2_000, 50_000, 200_000, 100_000
    sellers = _pool("sel_bench_", n_sellers)
    products = _pool("prd_bench_", n_products)
    users = _pool("usr_bench_", n_users)
    videos = _pool("vid_bench_", n_videos)
    creators = _pool("usr_creator_", 5_000)
    product_seller = rng.integers(0, n_sellers, n_products)
    seller_country = pa.array(rng.choice(COUNTRIES, n_sellers, p=[0.55, 0.3, 0.05, 0.05, 0.05]))
    product_category = pa.array(rng.choice(CATEGORIES, n_products))
    product_price = rng.lognormal(7.8, 0.8, n_products).astype(np.int64) + 99
    popularity = 1.0 / np.arange(1, n_products + 1) ** 0.9
    popularity /= popularity.sum()
    growth = np.linspace(1.0, 2.2, DAYS)
    per_day = rng.multinomial(n_events, growth / growth.sum())
    written = 0
    for offset, n in enumerate(per_day):
        if n == 0:
            continue
        day = today - timedelta(days=DAYS - 1 - offset)
        kind_idx = rng.choice(len(KINDS), n, p=KIND_P)
        kind = pa.DictionaryArray.from_arrays(pa.array(kind_idx.astype(np.int32)), pa.array(KINDS))
        prod = rng.choice(n_products, n, p=popularity)
        seller = product_seller[prod]
        prod_idx, seller_idx = pa.array(prod), pa.array(seller)
        money = (kind_idx == 5) | (kind_idx == 6)
        units = rng.choice([1, 1, 1, 2, 3], n).astype(np.int32)
        amount = np.where(money, product_price[prod] * units + 499, 0)
        base = np.datetime64(datetime(day.year, day.month, day.day), "us")
        stamps = base + rng.integers(0, 86_400_000_000, n).astype("timedelta64[us]")
        has_video = rng.random(n) < 0.5
        video = pc.if_else(
            pa.array(has_video), pc.take(videos, pa.array(rng.integers(0, n_videos, n))), None
        )
        has_creator = has_video & (rng.random(n) < 0.4)
        creator = pc.if_else(
            pa.array(has_creator), pc.take(creators, pa.array(rng.integers(0, 5_000, n))), None
        )
        money_mask = pa.array(money)
        columns: dict[str, Any] = {
            "event_id": _pool(f"bench:{day:%Y%m%d}:", n),
            "kind": kind.cast(pa.string()),
            "occurred_at": pa.array(stamps).cast(pa.timestamp("us", tz="UTC")),
            "user_id": pc.take(users, pa.array(rng.integers(0, n_users, n))),
            "video_id": video,
            "creator_id": creator,
            "product_id": pc.take(products, prod_idx),
            "seller_id": pc.take(sellers, seller_idx),
            "category": pc.take(product_category, prod_idx),
            "seller_country": pc.take(seller_country, seller_idx),
            "market": pa.array(rng.choice(MARKETS, n, p=MARKET_P)),
            "order_id": pc.if_else(money_mask, _pool(f"ord_bench_{day:%Y%m%d}_", n), None),
            "currency": pc.if_else(money_mask, pa.scalar("USD"), None),
            "amount": pc.if_else(money_mask, pa.array(amount), None),
            "commission": pc.if_else(pa.array(kind_idx == 5), pa.array(amount * 8 // 100), None),
            "units": pc.if_else(pa.array(kind_idx >= 3), pa.array(units), None),
            "watch_ms": pc.if_else(
                pa.array(kind_idx == 1),
                pa.array(rng.integers(500, 30_000, n, dtype=np.int32)),
                None,
            ),
        }
        table = pa.Table.from_arrays([columns[f.name].cast(f.type) for f in SCHEMA], schema=SCHEMA)
        is_money = pa.array(money)
        for stream, part in (
            (MONEY, table.filter(is_money)),
            (BEHAVIOUR, table.filter(pc.invert(is_money))),
        ):
            folder = partition_dir(root, day.isoformat(), stream)
            folder.mkdir(parents=True, exist_ok=True)
            write_table(part, folder / "bench-000001.parquet")
        written += int(n)
    return written


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    fn()  # warm: file metadata in the page cache, DuckDB loaded
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    if args.events < 1:
        parser.error("--events is at least 1")
    root = args.dir or Path(tempfile.mkdtemp(prefix="reelshop-analytics-bench-"))
    today = datetime.now(UTC).date()
    try:
        started = time.perf_counter()
        n = generate(root, args.events, today=today)
        gen_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in root.rglob("*.parquet"))
        print(f"generated {n:,} events in {gen_s:.1f} s ({size / 1e6:.0f} MB Parquet, {DAYS} days)")

        engine = make_engine(f"sqlite:///{root / 'bench.db'}")
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        session: Session = factory()
        seller = SellerProfile(id="sel_bench_0", currency="USD", country="CN")

        def year_by_month() -> object:
            return service.staff_dashboard(session=session, root=root, grain="month", today=today)

        def thirty_days() -> object:
            return service.staff_dashboard(session=session, root=root, today=today)

        def seller_view() -> object:
            return service.seller_dashboard(session=session, root=root, seller=seller, today=today)

        files = [str(p) for p in root.rglob("*.parquet")]

        def scan() -> object:
            con = duckdb.connect()
            try:
                return con.execute(
                    "SELECT count(*), sum(amount) FROM read_parquet(?)", [files]
                ).fetchall()
            finally:
                con.close()

        dashboard_ms = timed(year_by_month)
        scan_ms = timed(scan)
        print(f"staff dashboard, 30 days by day: {timed(thirty_days):.0f} ms")
        print(f"seller dashboard (largest seller), 30 days: {timed(seller_view):.0f} ms")
        print(f"staff dashboard, 12 months by month (every event): {dashboard_ms:.0f} ms")
        print(f"plain scan, count(*) and sum(amount): {scan_ms:.0f} ms")
        session.close()
        engine.dispose()
        print(json.dumps({"events": n, "dashboard_ms": round(dashboard_ms, 1),
                          "scan_ms": round(scan_ms, 1)}))  # fmt: skip
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
