"""Search latency over HTTP at 100,000 products, next to a plain SELECT ... LIMIT 20.

Seeds the catalog with the seed's bulk path (accounts, sellers, catalog at the
"large" product count), indexes it (keyword index, vocabulary, embeddings: by default
the model embeds each product kind once, see ``KindEmbedder``; ``--model-embeddings``
embeds every product, which takes half an hour on a busy two-core machine), starts
the real server (``reelshop serve`` under uvicorn) and sends
search requests one after another from a keep-alive client: distinct queries, so the
server's query-embedding cache does not help, a third of them with a filter or a
sort. In the same run it times ``SELECT id, title FROM products WHERE status =
'active' LIMIT 20`` on the same database.

    .venv/bin/python benchmarks/search_latency.py --backend sqlite|postgres [--reuse]

PostgreSQL can be filled from a seeded SQLite run (``--from-sqlite PATH``).
The last line of output is one JSON object with keys backend, products, p50_ms,
p95_ms, p99_ms and baseline_p95_ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_db

HERE = Path(__file__).parent
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/reelshop_bench_search"
SEED_STEPS = ("accounts", "sellers", "catalog", "search_index")


def seed(
    url: str, *, backend: str, reuse: bool, products: int, fast_embeddings: bool
) -> tuple[int, dict[str, float]]:
    """Seed what is missing (all of it unless ``reuse``); returns (products, seconds/step)."""
    from faker import Faker
    from sqlalchemy import func, select

    from reelshop.catalog import seed as catalog_seed
    from reelshop.catalog.models import Product
    from reelshop.catalog.search_index import reindex_all
    from reelshop.catalog.search_models import ProductSearchDoc
    from reelshop.config import get_settings
    from reelshop.db import make_engine, make_session_factory, unit_of_work
    from reelshop.migrate import upgrade
    from reelshop.security import keys
    from reelshop.seed import SEED_STEPS as ALL_STEPS
    from reelshop.seed import Scale, SeedContext

    if not reuse:
        if backend == "sqlite":
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        else:
            bench_db.fresh_postgres(url)
    upgrade(url)
    keys.configure(get_settings())
    engine = make_engine(url)
    factory = make_session_factory(engine)
    timings: dict[str, float] = {}
    with factory() as session:
        existing = int(session.scalar(select(func.count()).select_from(Product)) or 0)
        indexed = int(session.scalar(select(func.count()).select_from(ProductSearchDoc)) or 0)
    if existing == 0:
        # The large scale's product count, with few shoppers: this measures search.
        catalog_seed.PRODUCTS_PER_SCALE["bench"] = products
        scale = Scale("bench", shoppers=50, sellers=2_000, creators=5)
        ctx = SeedContext(scale=scale, rng=random.Random(20261124), fake=Faker("en_US"))
        ctx.fake.seed_instance(20261124)
        steps = dict(ALL_STEPS)
        for name in SEED_STEPS[:-1]:
            started = time.perf_counter()
            with unit_of_work(factory) as session:
                steps[name](session, ctx)
            timings[name] = time.perf_counter() - started
            print(f"  seed {name}: {timings[name]:.1f} s", flush=True)
    if indexed == 0:
        started = time.perf_counter()
        embedder = KindEmbedder() if fast_embeddings else None

        def run_batch(step: Any) -> int:
            with unit_of_work(factory) as session:
                return int(step(session))

        reindex_all(run_batch, batch_size=2_000, embedder=embedder)  # type: ignore[arg-type]
        timings["search_index"] = time.perf_counter() - started
        print(f"  seed search_index: {timings['search_index']:.1f} s", flush=True)
    with factory() as session:
        count = int(session.scalar(select(func.count()).select_from(Product)) or 0)
    engine.dispose()
    if backend == "sqlite":  # fold the seed's write-ahead log into the database file
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return count, timings


class KindEmbedder:
    """The benchmark's fast path for 100,000 embeddings on a busy two-core machine: every
    product of one kind (its template noun) gets the real model's vector of that noun
    and category, turned a little by a per-title deterministic offset and normalised.

    What a search costs does not depend on the vectors' values, only on their number
    (one matrix-vector product over all of them); the relevance benchmark uses the real
    per-product embeddings.
    """

    def __init__(self) -> None:
        from reelshop.catalog.embeddings import Embedder
        from reelshop.catalog.seed import TEMPLATES

        self.model = Embedder(threads=2)
        kinds = sorted({n for t in TEMPLATES.values() for n in t.nouns}, key=len, reverse=True)
        self.kinds = kinds
        self.vectors = dict(zip(kinds, self.model.encode(kinds), strict=True))

    def encode(self, texts: list[str], *, batch_size: int = 64) -> Any:
        import hashlib

        import numpy as np

        out = np.zeros((len(texts), 384), dtype=np.float32)
        unknown = []
        for i, body in enumerate(texts):
            kind = next((k for k in self.kinds if k in body), None)
            if kind is None:
                unknown.append(i)
                continue
            seed = int.from_bytes(hashlib.sha256(body.encode()).digest()[:8], "little")
            noise = np.random.default_rng(seed).normal(0.0, 0.02, 384).astype(np.float32)
            vector = self.vectors[kind] + noise
            out[i] = vector / np.linalg.norm(vector)
        if unknown:
            out[unknown] = self.model.encode([texts[i] for i in unknown])
        return out


COPIED_TABLES = (
    "users",
    "seller_profiles",
    "categories",
    "brands",
    "stock_locations",
    "products",
    "skus",
    "product_images",
    "stock_levels",
    "product_search_docs",
    "product_embeddings",
    "search_terms",
)


def copy_from_sqlite(source: str, url: str) -> tuple[int, float]:
    """PostgreSQL's fast path: copy an already seeded SQLite benchmark database (the same
    marketplace, embeddings included) instead of computing 100,000 embeddings again, then
    build the tsvector index in SQL."""
    from sqlalchemy import func, select, text

    import reelshop.models  # noqa: F401 - every table on the metadata
    from reelshop.catalog.models import Product
    from reelshop.config import get_settings
    from reelshop.db import Base, make_engine
    from reelshop.migrate import upgrade
    from reelshop.security import keys

    started = time.perf_counter()
    bench_db.fresh_postgres(url)
    upgrade(url)
    keys.configure(get_settings())
    src, dst = make_engine(source), make_engine(url)
    with src.connect() as reader, dst.begin() as writer:
        for name in COPIED_TABLES:
            table = Base.metadata.tables[name]
            result = reader.execution_options(yield_per=5_000).execute(select(table))
            copied = 0
            for chunk in result.partitions():
                writer.execute(table.insert(), [dict(row._mapping) for row in chunk])
                copied += len(chunk)
            print(f"  copied {name}: {copied}", flush=True)
        seq = reader.execute(text("SELECT seq FROM search_index_state WHERE id = 1")).scalar()
        writer.execute(text("UPDATE search_index_state SET seq = :s WHERE id = 1"), {"s": seq})
        writer.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('product_search_docs', 'doc_no'),"
                " (SELECT max(doc_no) FROM product_search_docs))"
            )
        )
        writer.execute(
            text(
                "INSERT INTO product_search_tsv (doc_no, document) SELECT doc_no,"
                " setweight(to_tsvector('english', title), 'A')"
                " || setweight(to_tsvector('english', brand_name || ' ' || category_names"
                " || ' ' || tags_text), 'B')"
                " || setweight(to_tsvector('english', description), 'C')"
                " FROM product_search_docs WHERE searchable"
            )
        )
        count = int(writer.execute(select(func.count()).select_from(Product)).scalar() or 0)
    with dst.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    src.dispose()
    dst.dispose()
    return count, time.perf_counter() - started


def _queries(count: int, rng: random.Random) -> list[dict[str, str]]:
    from reelshop.catalog.seed import BRANDS, TEMPLATES
    from reelshop.catalog.service import slugify

    nouns = [n for t in TEMPLATES.values() for n in t.nouns]
    features = [f for t in TEMPLATES.values() for f in t.features]
    brands = [b for names in BRANDS.values() for b in names]
    sorts = ["price_asc", "price_desc", "newest", "best_selling"]
    seen: set[str] = set()
    out: list[dict[str, str]] = []
    while len(out) < count:
        noun = rng.choice(nouns)
        words = noun.lower().split()
        shape = rng.random()
        if shape < 0.3:
            text = " ".join(rng.sample(words, k=min(len(words), rng.randint(1, 2))))
        elif shape < 0.55:
            text = f"{noun.lower()} {rng.choice(features).lower()}"
        elif shape < 0.7:
            word = rng.choice(words)
            if len(word) > 4:  # a typo: drop one letter
                i = rng.randrange(1, len(word) - 1)
                word = word[:i] + word[i + 1 :]
            text = " ".join([word, *rng.sample(words, k=min(1, len(words)))])
        elif shape < 0.85:
            text = f"{rng.choice(brands).lower()} {words[-1]}"
        else:
            text = f"{rng.choice(['cheap', 'best', 'gift', 'small', 'new'])} {' '.join(words[-2:])}"
        if text in seen:
            continue
        seen.add(text)
        params = {"q": text}
        extra = rng.random()
        if extra < 0.12:
            params["sort"] = rng.choice(sorts)
        elif extra < 0.22:
            params["max_price"] = str(rng.choice([15, 25, 50, 100]))
        elif extra < 0.30:
            params["ships_from"] = rng.choice(["CN", "US"])
        elif extra < 0.35:
            params["brand"] = slugify(rng.choice(brands))
        out.append(params)
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_http(
    port: int, queries: list[dict[str, str]], warmup: list[dict[str, str]], server_pid: int
) -> Any:
    import httpx

    url = f"http://127.0.0.1:{port}/api/v1/search"
    with httpx.Client(timeout=30.0) as client:
        deadline = time.time() + 180
        while True:
            try:
                if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.time() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.3)
        started = time.perf_counter()
        first = client.get(url, params={"q": "warm up"})  # loads the index into memory
        load_s = time.perf_counter() - started
        first.raise_for_status()
        for params in warmup:
            client.get(url, params=params).raise_for_status()
        timings = []
        totals = []
        cpu_before = _cpu_seconds(server_pid)
        for params in queries:
            started = time.perf_counter()
            response = client.get(url, params=params)
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            totals.append(response.json()["total"])
        cpu_ms = (_cpu_seconds(server_pid) - cpu_before) * 1000 / len(queries)
    return timings, load_s, totals, cpu_ms


def measure_baseline(url: str, rounds: int) -> list[float]:
    from sqlalchemy import text

    from reelshop.db import make_engine

    engine = make_engine(url)
    timings = []
    with engine.connect() as conn:
        sql = text("SELECT id, title FROM products WHERE status = 'active' LIMIT 20")
        for _ in range(50):
            conn.execute(sql).all()
        for _ in range(rounds):
            started = time.perf_counter()
            conn.execute(sql).all()
            timings.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--pg-url", default=os.environ.get("REELSHOP_BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument(
        "--from-sqlite",
        type=Path,
        default=None,
        help="postgres: copy this seeded SQLite benchmark database instead of seeding",
    )
    parser.add_argument(
        "--model-embeddings",
        action="store_true",
        help="embed every product with the model (slow) instead of once per product kind",
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.gettempdir()) / f"reelshop-bench-search-{args.backend}"
    url = bench_db.configure(args.backend, workdir, args.pg_url, "search.db")

    if args.backend == "postgres" and args.from_sqlite and not args.reuse:
        products, seconds = copy_from_sqlite(f"sqlite:///{args.from_sqlite}", url)
        print(f"copied {products} products from {args.from_sqlite} in {seconds:.0f} s")
        timings: dict[str, float] = {}
    else:
        products, timings = seed(
            url,
            backend=args.backend,
            reuse=args.reuse,
            products=args.products,
            fast_embeddings=not args.model_embeddings,
        )
    if "search_index" in timings:
        print(
            f"search_index step: {products / timings['search_index']:.0f} products/s"
            " (keyword index, vocabulary and embeddings)"
        )
    rng = random.Random(7)
    all_queries = _queries(args.requests + 100, rng)
    warmup, queries = all_queries[:100], all_queries[100:]

    port = _free_port()
    env = {**os.environ, "REELSHOP_HOST": "127.0.0.1", "REELSHOP_PORT": str(port)}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "reelshop"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        load_before = os.getloadavg()[0]
        http_ms, load_s, totals, cpu_ms = measure_http(port, queries, warmup, server.pid)
        load_after = os.getloadavg()[0]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    baseline_ms = measure_baseline(url, len(queries))

    print(
        f"{args.backend}: {products} products; first search (index load) {load_s:.2f} s;"
        f" {len(http_ms)} searches, median {statistics.median(totals):.0f} matches"
    )
    p50, p95, p99 = (_percentile(http_ms, p) for p in (50, 95, 99))
    print(
        f"server CPU per search {cpu_ms:.2f} ms; machine load average {load_before:.1f}"
        f" before, {load_after:.1f} after ({os.cpu_count()} cores)"
    )
    print(
        f"search over HTTP  p50 {p50:.2f} ms  p95 {p95:.2f} ms  p99 {p99:.2f} ms"
        f"  max {max(http_ms):.2f} ms"
    )
    print(
        f"plain SELECT LIMIT 20 (no HTTP)  p50 {_percentile(baseline_ms, 50):.3f} ms"
        f"  p95 {_percentile(baseline_ms, 95):.3f} ms"
    )
    print(
        json.dumps(
            {
                "backend": args.backend,
                "products": products,
                "p50_ms": round(_percentile(http_ms, 50), 2),
                "p95_ms": round(_percentile(http_ms, 95), 2),
                "p99_ms": round(_percentile(http_ms, 99), 2),
                "baseline_p95_ms": round(_percentile(baseline_ms, 95), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
