"""The recommender's maths, free of the database: ALS training, fold-in, top-k, re-ranking.

Implicit feedback (Hu, Koren & Volinsky): each (shopper, video) pair has a preference
``p = 1`` when the shopper interacted and a confidence ``c = alpha * r`` where ``r`` is
the summed interaction weight (:data:`EVENT_WEIGHTS`). The ``implicit`` library learns
user factors X and item factors Y by alternating least squares.

Real time: a shopper's vector is recomputed from their newest history against the
current item factors by solving the ALS normal equation for one user (fold-in):

    (YᵀY + λI + Yᵀ(Cu - I)Y) x = Yᵀ Cu p(u)

Only the rows of Y the shopper touched enter the sum, so it costs O(n·k² + k³) for n
recent interactions and k factors: well under a millisecond for n = 100, k = 64.

Ranking: candidates from ALS (exact top-k over all item vectors), trending and fresh
videos and followed creators; :func:`rerank` scores each candidate with a linear
blend of standardised features (documented and tuned in ``docs/feed.md``), then
:func:`diversify` forbids the same product or creator twice in a row.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

# How much one event says about a shopper's taste. A watch counts by how much of the
# video was watched; an impression alone says nothing and is not a positive.
EVENT_WEIGHTS: Mapping[str, float] = {
    "impression": 0.0,
    "watch": 1.0,
    "like": 3.0,
    "share": 3.0,
    "product_card_click": 3.0,
    "add_to_cart": 6.0,
    "purchase": 10.0,
}
PURCHASE_INTENT_KINDS = frozenset({"product_card_click", "add_to_cart", "purchase"})


def interaction_weight(kind: str, completion_pct: int | None = None) -> float:
    base = EVENT_WEIGHTS.get(kind, 0.0)
    if kind == "watch":
        completion = max(0, min(100, completion_pct or 0)) / 100
        return base + 2.0 * completion
    return base


@dataclass(frozen=True)
class AlsParams:
    factors: int = 64
    regularization: float = 0.05
    alpha: float = 2.0
    iterations: int = 12
    seed: int = 7


@dataclass(frozen=True)
class RankerWeights:
    """Weights of the re-ranking blend; each feature is standardised over the candidates.

    score = als·z(affinity) + popularity·z(log popularity) + trending·z(log recent
            popularity) + purchase·z(purchase rate) + history·own_history + follow·followed
    """

    als: float = 1.0
    popularity: float = 0.5  # tuned on the seeded marketplace's validation split
    trending: float = 0.1
    purchase: float = 0.2
    history: float = 0.0
    follow: float = 0.5
    explore_slots: tuple[int, ...] = (4, 13)  # positions of a page given to new videos


def train_als(user_items: sparse.csr_matrix, params: AlsParams) -> tuple[FloatArray, FloatArray]:
    """Train ALS on a (users x items) matrix of interaction weights. Returns (X, Y).

    This is the entry point a Spark job mirrors past one machine: same input (user,
    item, weight) triples, same ``AlsParams`` (``pyspark.ml.recommendation.ALS`` with
    ``implicitPrefs=True, rank=factors, regParam=regularization, alpha=alpha,
    maxIter=iterations``), same output: two float32 factor matrices.
    """
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        model = AlternatingLeastSquares(
            factors=params.factors,
            regularization=params.regularization,
            alpha=params.alpha,
            iterations=params.iterations,
            random_state=params.seed,
            calculate_training_loss=False,
        )
        model.fit(user_items.tocsr().astype(np.float32), show_progress=False)
    return (
        np.ascontiguousarray(model.user_factors, dtype=np.float32),
        np.ascontiguousarray(model.item_factors, dtype=np.float32),
    )


def interaction_matrix(
    user_index: Sequence[int] | IntArray,
    item_index: Sequence[int] | IntArray,
    weights: Sequence[float] | FloatArray,
    shape: tuple[int, int],
) -> sparse.csr_matrix:
    """Sum weights per (user, item) into a CSR matrix (duplicates add up)."""
    matrix = sparse.coo_matrix(
        (np.asarray(weights, dtype=np.float32), (np.asarray(user_index), np.asarray(item_index))),
        shape=shape,
    ).tocsr()
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def gram(item_factors: FloatArray) -> npt.NDArray[np.float64]:
    y = item_factors.astype(np.float64)
    return y.T @ y


def fold_in(
    item_factors: FloatArray,
    item_gram: npt.NDArray[np.float64],
    items: Sequence[int] | IntArray,
    weights: Sequence[float] | FloatArray,
    *,
    regularization: float,
    alpha: float,
) -> FloatArray:
    """A fresh user vector from their (item, summed weight) history; zeros if empty."""
    k = item_factors.shape[1]
    if len(items) == 0:
        return np.zeros(k, dtype=np.float32)
    y = item_factors[np.asarray(items, dtype=np.int64)].astype(np.float64)
    confidence = alpha * np.asarray(weights, dtype=np.float64)
    a = item_gram + regularization * np.eye(k) + (y.T * (confidence - 1.0)) @ y
    b = y.T @ confidence
    return np.linalg.solve(a, b).astype(np.float32)


def top_k(scores: FloatArray, k: int, exclude: Iterable[int] = ()) -> IntArray:
    """Indices of the k best scores, best first (exact: argpartition then a small sort)."""
    scores = scores.copy()
    excluded = np.fromiter(exclude, dtype=np.int64)
    if excluded.size:
        scores[excluded] = -np.inf
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    order = part[np.argsort(-scores[part], kind="stable")]
    return order[np.isfinite(scores[order])].astype(np.int64)


def _z(values: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    v = values.astype(np.float64)
    std = v.std()
    if v.size == 0 or std < 1e-9:
        return np.zeros_like(v)
    out: npt.NDArray[np.float64] = (v - v.mean()) / std
    return out


@dataclass(frozen=True)
class CandidateFeatures:
    """Features of the candidates of one request, aligned by position."""

    affinity: FloatArray  # x·y; zero when the shopper has no vector yet
    popularity: FloatArray  # log1p(weighted interactions, all time)
    trending: FloatArray  # log1p(weighted interactions, recent window)
    purchase_rate: FloatArray  # smoothed purchase-intent events per viewer
    own_history: FloatArray  # the shopper's own weight on this item (repeat purchase)
    followed: FloatArray  # 1 when the creator is followed


def rerank(features: CandidateFeatures, weights: RankerWeights) -> npt.NDArray[np.float64]:
    """Predicted engagement and purchase blended into one score per candidate."""
    score = weights.als * _z(features.affinity)
    score += weights.popularity * _z(features.popularity)
    score += weights.trending * _z(features.trending)
    score += weights.purchase * _z(features.purchase_rate)
    score += weights.history * np.log1p(features.own_history.astype(np.float64))
    score += weights.follow * features.followed.astype(np.float64)
    return score


def diversify(
    ranked: Sequence[str],
    *,
    product_of: Mapping[str, str | None],
    creator_of: Mapping[str, str | None],
    limit: int,
    previous: str | None = None,
) -> list[str]:
    """Greedy: take the best remaining item whose product and creator both differ from the
    item just placed. Falls back to the best remaining only when nothing else is left."""
    remaining = list(ranked)
    out: list[str] = []
    last = previous
    while remaining and len(out) < limit:
        pick = 0
        if last is not None:
            lp, lc = product_of.get(last), creator_of.get(last)
            for i, cand in enumerate(remaining[:200]):
                cp, cc = product_of.get(cand), creator_of.get(cand)
                if (cp is None or cp != lp) and (cc is None or cc != lc):
                    pick = i
                    break
            else:
                pick = -1
            if pick == -1:
                break  # every remaining candidate would repeat: stop rather than repeat
        chosen = remaining.pop(pick)
        out.append(chosen)
        last = chosen
    return out


@dataclass
class ItemModel:
    """The trained item side, as the app serves it."""

    video_ids: list[str]
    factors: FloatArray
    popularity: FloatArray
    trending: FloatArray
    purchase_rate: FloatArray
    params: AlsParams
    trained_at: float = field(default_factory=time.time)
    user_ids: list[str] = field(default_factory=list)
    user_factors: FloatArray | None = None

    def __post_init__(self) -> None:
        self.index = {vid: i for i, vid in enumerate(self.video_ids)}
        self.user_index = {uid: i for i, uid in enumerate(self.user_ids)}
        self.gram = gram(self.factors)
        order = np.argsort(-self.trending, kind="stable")
        self.trending_order = order[self.trending[order] > 0]

    def fold_in(self, history: Mapping[str, float]) -> FloatArray:
        items = [self.index[v] for v in history if v in self.index]
        weights = [history[v] for v in history if v in self.index]
        return fold_in(
            self.factors,
            self.gram,
            items,
            weights,
            regularization=self.params.regularization,
            alpha=self.params.alpha,
        )

    def save(self, directory: Path) -> Path:
        """Write atomically: the app reloads when the file changes."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / "model.npz"
        tmp = directory / f".model-{os.getpid()}-{uuid.uuid4().hex}.npz"  # concurrent runs
        meta = {"params": asdict(self.params), "trained_at": self.trained_at}
        np.savez(
            tmp,
            video_ids=np.array(self.video_ids, dtype=object),
            user_ids=np.array(self.user_ids, dtype=object),
            factors=self.factors,
            user_factors=self.user_factors
            if self.user_factors is not None
            else np.zeros((0, self.factors.shape[1]), dtype=np.float32),
            popularity=self.popularity,
            trending=self.trending,
            purchase_rate=self.purchase_rate,
            meta=np.array(json.dumps(meta)),
        )
        tmp.replace(target)
        return target

    @classmethod
    def load(cls, path: Path) -> ItemModel:
        with np.load(path, allow_pickle=True) as data:
            meta = json.loads(str(data["meta"]))
            user_factors = data["user_factors"]
            return cls(
                video_ids=[str(v) for v in data["video_ids"]],
                factors=data["factors"].astype(np.float32),
                popularity=data["popularity"].astype(np.float32),
                trending=data["trending"].astype(np.float32),
                purchase_rate=data["purchase_rate"].astype(np.float32),
                params=AlsParams(**meta["params"]),
                trained_at=float(meta["trained_at"]),
                user_ids=[str(u) for u in data["user_ids"]],
                user_factors=user_factors.astype(np.float32) if len(user_factors) else None,
            )


def item_statistics(
    item_index: IntArray,
    weights: FloatArray,
    purchase_intent: npt.NDArray[np.bool_],
    recent: npt.NDArray[np.bool_],
    user_index: IntArray,
    n_items: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(popularity, trending, purchase_rate) per item from the raw event arrays."""
    popularity = np.log1p(np.bincount(item_index, weights=weights, minlength=n_items))
    trending = np.log1p(np.bincount(item_index[recent], weights=weights[recent], minlength=n_items))
    pairs = np.unique(
        item_index.astype(np.int64) * (int(user_index.max(initial=0)) + 1) + user_index
    )
    viewers = np.bincount(pairs // (int(user_index.max(initial=0)) + 1), minlength=n_items)
    intents = np.bincount(item_index[purchase_intent], minlength=n_items)
    purchase_rate = (intents + 0.5) / (viewers + 20.0)  # shrunk towards a small prior
    return (
        popularity.astype(np.float32),
        trending.astype(np.float32),
        purchase_rate.astype(np.float32),
    )
