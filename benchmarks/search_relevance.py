"""Search relevance: NDCG@10 of keyword-only, semantic-only and hybrid ranking.

Seeds the deterministic demo marketplace (``reelshop seed``, scale small: some 3,000
products, indexed by the "search_index" seed step) into a scratch database, resolves
the labelled queries of ``benchmarks/data/search_queries.json`` to graded product ids
by the catalog generator's attributes, and scores the first page of each ranking.

    .venv/bin/python benchmarks/search_relevance.py [--backend sqlite|postgres] [--reuse]

The last line of output is one JSON object:
``{"ndcg10_keyword": ..., "ndcg10_semantic": ..., "ndcg10_hybrid": ...}``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import bench_db

HERE = Path(__file__).parent
QUERIES = HERE / "data" / "search_queries.json"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/reelshop_bench_relevance"


def seed(url: str, *, reuse: bool, backend: str) -> float:
    from reelshop.config import get_settings
    from reelshop.db import make_engine, make_session_factory
    from reelshop.migrate import upgrade
    from reelshop.security import keys
    from reelshop.seed import is_seeded, run_seed

    if backend == "sqlite" and not reuse:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    if backend == "postgres" and not reuse:
        bench_db.fresh_postgres(url)
    upgrade(url)
    keys.configure(get_settings())
    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with factory() as session:
        seeded = is_seeded(session)
    if not seeded:
        run_seed(factory, scale="small", on_step=lambda name, i, n: print(f"  seed: {name}"))
    engine.dispose()
    return time.perf_counter() - started


def labels(session: Any, queries: list[dict[str, Any]]) -> list[dict[str, int]]:
    """Graded relevant product ids per query, from generator attributes of searchable
    products (active, approved seller, a sellable SKU)."""
    from sqlalchemy import select

    from reelshop.catalog.models import Category, Product, Sku
    from reelshop.sellers.models import SellerProfile

    rows = session.execute(
        select(Product.id, Product.title, Category.path)
        .join(Category, Category.id == Product.category_id)
        .join(SellerProfile, SellerProfile.id == Product.seller_id)
        .where(Product.status == "active", SellerProfile.status == "approved")
        .where(Product.id.in_(select(Sku.product_id).where(Sku.is_active.is_(True))))
    ).all()
    out = []
    for query in queries:
        grades: dict[str, int] = {}
        for product_id, title, path in rows:
            lowered = title.lower()
            for rule in query["relevant"]:
                if "noun" in rule and not any(n.lower() in lowered for n in rule["noun"]):
                    continue
                if "feature" in rule and rule["feature"].lower() not in lowered:
                    continue
                if "category" in rule and not (
                    path == rule["category"] or path.startswith(rule["category"] + "/")
                ):
                    continue
                grades[product_id] = max(grades.get(product_id, 0), int(rule["grade"]))
        out.append(grades)
    return out


def ndcg_at_10(ranked: list[str], grades: dict[str, int]) -> float:
    def dcg(gains: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:10]))

    ideal = dcg(sorted(grades.values(), reverse=True))
    if ideal == 0:
        return 0.0
    return dcg([grades.get(pid, 0) for pid in ranked]) / ideal


def evaluate(session: Any, queries: list[dict[str, Any]], graded: list[dict[str, int]]) -> Any:
    from reelshop.catalog import search as shop_search

    scores: dict[str, list[float]] = defaultdict(list)
    by_kind: dict[tuple[str, str], list[float]] = defaultdict(list)
    for query, grades in zip(queries, graded, strict=True):
        for mode in ("keyword", "semantic", "hybrid"):
            result = shop_search.search(
                session=session,
                query=shop_search.SearchQuery(q=query["query"], mode=mode, per_page=10),
            )
            value = ndcg_at_10([h.product_id for h in result.items], grades)
            scores[mode].append(value)
            by_kind[(query["kind"], mode)].append(value)
    return scores, by_kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "reelshop-bench-relevance"
    )
    parser.add_argument("--pg-url", default=os.environ.get("REELSHOP_BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--rrf-k", type=int, default=None)
    parser.add_argument("--keyword-weight", type=float, default=None)
    parser.add_argument("--semantic-weight", type=float, default=None)
    parser.add_argument("--min-similarity", type=float, default=None)
    parser.add_argument("--loosen-in-hybrid", action="store_true", default=None)
    args = parser.parse_args()

    url = bench_db.configure(args.backend, args.workdir, args.pg_url, "relevance.db")
    sys.path.insert(0, str(HERE.parent / "src"))
    from reelshop.catalog import search as shop_search
    from reelshop.db import make_engine, make_session_factory

    for name, value in (
        ("RRF_K", args.rrf_k),
        ("KEYWORD_WEIGHT", args.keyword_weight),
        ("SEMANTIC_WEIGHT", args.semantic_weight),
        ("SEMANTIC_MIN_SIMILARITY", args.min_similarity),
        ("LOOSEN_IN_HYBRID", args.loosen_in_hybrid),
    ):
        if value is not None:
            setattr(shop_search, name, value)

    seconds = seed(url, reuse=args.reuse, backend=args.backend)
    queries = json.loads(QUERIES.read_text())["queries"]
    engine = make_engine(url)
    with make_session_factory(engine, deferred=True)() as session:
        graded = labels(session, queries)
        searchable = len(shop_search.get_index(session))
        scores, by_kind = evaluate(session, queries, graded)
    engine.dispose()

    unlabelled = sum(1 for g in graded if not g)
    print(f"backend {args.backend}: {searchable} searchable products (seeded in {seconds:.0f} s)")
    print(f"{len(queries)} queries, {unlabelled} without a relevant product in this catalog")
    kinds = sorted({k for k, _ in by_kind})
    print(f"{'kind':<12}{'n':>4}{'keyword':>10}{'semantic':>10}{'hybrid':>10}")
    for kind in kinds:
        cells = [
            sum(by_kind[(kind, m)]) / len(by_kind[(kind, m)])
            for m in ("keyword", "semantic", "hybrid")
        ]
        print(
            f"{kind:<12}{len(by_kind[(kind, 'hybrid')]):>4}" + "".join(f"{c:>10.3f}" for c in cells)
        )
    means = {m: round(sum(v) / len(v), 4) for m, v in scores.items()}
    print(
        json.dumps(
            {
                "ndcg10_keyword": means["keyword"],
                "ndcg10_semantic": means["semantic"],
                "ndcg10_hybrid": means["hybrid"],
            }
        )
    )


if __name__ == "__main__":
    main()
