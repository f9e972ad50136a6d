"""Shop search: keyword and semantic retrieval fused by reciprocal rank, with facets.

A query runs a constant number of SQL statements whatever it matches:

1. the index counter (``search_index_state.seq``), to know whether this process's
   in-memory copy of the index is current (rows changed since are loaded then);
2. the keyword index (FTS5 ``bm25`` or PostgreSQL ``ts_rank``) for the typo-expanded
   query, best 500 matches (a second, looser OR query only when the AND query finds
   nothing);
3. the display rows of the one page asked for.

Filters, facet counts, the semantic neighbours (a numpy dot product over the
normalised embedding matrix) and sorting happen in memory on column arrays.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from threadpoolctl import ThreadpoolController

from reelshop.catalog.embeddings import DIM, Embedder, from_blob, get_embedder
from reelshop.catalog.search_index import vocabulary_of, words
from reelshop.catalog.search_models import (
    ProductEmbedding,
    ProductSearchDoc,
    SearchIndexState,
    SearchTerm,
)
from reelshop.money import Money

SortOrder = Literal["relevance", "price_asc", "price_desc", "newest", "best_selling"]
SORT_ORDERS: tuple[str, ...] = ("relevance", "price_asc", "price_desc", "newest", "best_selling")
Mode = Literal["hybrid", "keyword", "semantic"]

KEYWORD_LIMIT = 500
SEMANTIC_K = 100
# Past REDUCE_ABOVE documents the scan runs in two stages: a 96-dimension projection
# (the vectors' principal subspace) picks 1,000 candidates, exact cosines rank them.
REDUCE_ABOVE = 20_000
REDUCED_DIM = 96
COARSE_CANDIDATES = 1_000
SEMANTIC_MIN_SIMILARITY = 0.40
RRF_K = 60
# An OR query over many words scores a large share of the catalog. In hybrid mode the
# semantic side already covers queries whose words never all meet in one product.
LOOSEN_IN_HYBRID = False
KEYWORD_WEIGHT = 1.0
SEMANTIC_WEIGHT = 1.0
# Price facet edges in minor units of the market currency (USD): under $10, $10-25, ...
PRICE_EDGES = (1000, 2500, 5000, 10000)
MARKET_CURRENCY = "USD"

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    category: str | None = None
    brand: str | None = None
    min_price: Money | None = None
    max_price: Money | None = None
    ships_from: str | None = None
    rating_min: float | None = None
    sort: SortOrder = "relevance"
    page: int = 1
    per_page: int = 20
    mode: Mode = "hybrid"


@dataclass(frozen=True)
class SearchHit:
    product_id: str
    title: str
    price: Money | None
    compare_at: Money | None
    thumb_key: str | None
    seller_id: str
    seller_name: str
    ships_from: str
    brand_name: str
    category_path: str
    rating: float | None
    rating_count: int | None
    units_sold: int | None


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class PriceBucket:
    min_price: Money | None
    max_price: Money | None
    count: int


@dataclass
class SearchResult:
    items: list[SearchHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    price_buckets: list[PriceBucket] = field(default_factory=list)
    corrected: dict[str, list[str]] = field(default_factory=dict)  # typed word -> used words

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


# --- the in-memory index ----------------------------------------------------------------


class _Codes:
    """Interns strings as small integers for the facet columns."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.labels: list[str] = []
        self._index: dict[str, int] = {}

    def code(self, value: str, label: str = "") -> int:
        found = self._index.get(value)
        if found is None:
            found = len(self.values)
            self._index[value] = found
            self.values.append(value)
            self.labels.append(label or value)
        elif label:
            self.labels[found] = label
        return found


_DOC_COLUMNS = (
    ProductSearchDoc.doc_no,
    ProductSearchDoc.searchable,
    ProductSearchDoc.seq,
    ProductSearchDoc.title,
    ProductSearchDoc.brand_name,
    ProductSearchDoc.brand_slug,
    ProductSearchDoc.category_path,
    ProductSearchDoc.category_name,
    ProductSearchDoc.category_names,
    ProductSearchDoc.tags_text,
    ProductSearchDoc.ships_from,
    ProductSearchDoc.currency,
    ProductSearchDoc.min_price_amount,
    ProductSearchDoc.rating,
    ProductSearchDoc.units_sold,
    ProductSearchDoc.published_at,
    ProductEmbedding.vector,
)


class SearchIndex:
    """One process's copy of the searchable documents' facet columns and vectors."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seq = -1
        self._reset()

    def _reset(self) -> None:
        self.seq = -1
        self.row_of: dict[int, int] = {}
        self.doc_nos: IntArray = np.zeros(0, dtype=np.int64)
        self.live = np.zeros(0, dtype=bool)
        self.vectors = np.zeros((0, DIM), dtype=np.float32)
        self.category: IntArray = np.zeros(0, dtype=np.int64)
        self.brand: IntArray = np.zeros(0, dtype=np.int64)
        self.ships_from: IntArray = np.zeros(0, dtype=np.int64)
        self.price: IntArray = np.zeros(0, dtype=np.int64)  # -1: no price
        self.rating: FloatArray = np.zeros(0, dtype=np.float64)  # nan: not rated
        self.units_sold: IntArray = np.zeros(0, dtype=np.int64)
        self.published: FloatArray = np.zeros(0, dtype=np.float64)
        self.categories = _Codes()
        self.brands = _Codes()
        self.countries = _Codes()
        self.vocabulary: dict[str, int] = {}
        self.projection: npt.NDArray[np.float32] | None = None
        self.reduced: npt.NDArray[np.float32] | None = None

    def __len__(self) -> int:
        return int(self.live.sum())

    def refresh(self, session: Session) -> None:
        seq = session.scalar(select(SearchIndexState.seq).where(SearchIndexState.id == 1)) or 0
        if seq == self.seq:
            return
        with self._lock:
            if seq == self.seq:
                return
            first_load = self.seq < 0 or seq < self.seq  # a fresh process, or a wiped index
            if first_load:
                self._reset()
            changed = select(*_DOC_COLUMNS).outerjoin(
                ProductEmbedding, ProductEmbedding.product_id == ProductSearchDoc.product_id
            )
            if not first_load:
                changed = changed.where(ProductSearchDoc.seq > self.seq)
            rows = session.execute(changed).all()
            if first_load:
                terms = select(SearchTerm.term, SearchTerm.doc_count).where(
                    SearchTerm.doc_count > 0
                )
                self.vocabulary = {t: int(n) for t, n in session.execute(terms)}
            touched = self._apply(rows, count_vocabulary=not first_load)
            self._reduce(touched)
            newest = max((int(r.seq) for r in rows), default=seq)
            self.seq = max(seq, newest)

    def _reduce(self, touched: list[int]) -> None:
        n = len(self.doc_nos)
        if n < REDUCE_ABOVE:
            self.projection = self.reduced = None
            return
        if self.projection is None:
            sample = self.vectors[np.random.default_rng(0).choice(n, min(n, 20_000), replace=False)]
            _values, vectors = np.linalg.eigh(sample.T @ sample)
            self.projection = np.ascontiguousarray(vectors[:, -REDUCED_DIM:], dtype=np.float32)
            self.reduced = None
        if self.reduced is None or len(self.reduced) != n:
            self.reduced = np.ascontiguousarray(self.vectors @ self.projection)
        elif touched:
            self.reduced[touched] = self.vectors[touched] @ self.projection

    def _apply(self, rows: Sequence[Any], *, count_vocabulary: bool) -> list[int]:
        new = [r for r in rows if r.doc_no not in self.row_of]
        if new:
            n = len(new)
            base = len(self.doc_nos)
            self.doc_nos = np.concatenate([self.doc_nos, np.zeros(n, dtype=np.int64)])
            self.live = np.concatenate([self.live, np.zeros(n, dtype=bool)])
            self.vectors = np.concatenate([self.vectors, np.zeros((n, DIM), dtype=np.float32)])
            for name in ("category", "brand", "ships_from", "price", "units_sold"):
                setattr(self, name, np.concatenate([getattr(self, name), np.zeros(n, np.int64)]))
            for name in ("rating", "published"):
                setattr(self, name, np.concatenate([getattr(self, name), np.zeros(n)]))
            for offset, row in enumerate(new):
                self.row_of[row.doc_no] = base + offset
        for row in rows:
            i = self.row_of[row.doc_no]
            self.doc_nos[i] = row.doc_no
            self.live[i] = bool(row.searchable) and row.currency == MARKET_CURRENCY
            if row.vector is not None:
                self.vectors[i] = from_blob(row.vector)
            self.category[i] = self.categories.code(row.category_path, row.category_name)
            self.brand[i] = self.brands.code(row.brand_slug, row.brand_name)
            self.ships_from[i] = self.countries.code(row.ships_from)
            self.price[i] = -1 if row.min_price_amount is None else row.min_price_amount
            self.rating[i] = np.nan if row.rating is None else row.rating
            self.units_sold[i] = row.units_sold or 0
            published: datetime | None = row.published_at
            self.published[i] = published.timestamp() if published else 0.0
            if count_vocabulary and row.searchable:
                for term in vocabulary_of(row._asdict()):
                    self.vocabulary[term] = self.vocabulary.get(term, 0) + 1
        return [self.row_of[row.doc_no] for row in rows]


_INDEXES: weakref.WeakKeyDictionary[Any, SearchIndex] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def get_index(session: Session) -> SearchIndex:
    """This process's index for the session's database, brought up to date."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    pool = engine.pool  # shared by an engine and its execution-option copies
    with _INDEXES_LOCK:
        index = _INDEXES.get(pool)
        if index is None:
            index = _INDEXES[pool] = SearchIndex()
    index.refresh(session)
    return index


# --- typo tolerance ---------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def _edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return deletes | transposes | replaces | inserts


@dataclass(frozen=True)
class TermGroup:
    """One typed word and the indexed words it may stand for."""

    typed: str
    alternatives: tuple[str, ...]
    prefix: bool  # also match words starting with ``typed`` (the word being typed)


def expand_query(q: str, vocabulary: dict[str, int]) -> list[TermGroup]:
    tokens = words(q)[:12]
    groups: list[TermGroup] = []
    for position, token in enumerate(tokens):
        last = position == len(tokens) - 1
        if token in vocabulary or len(token) < 4 or token.isdigit():
            groups.append(TermGroup(token, (token,), prefix=last and len(token) >= 3))
            continue
        candidates = [w for w in _edits1(token) if w in vocabulary]
        candidates.sort(key=lambda w: (-vocabulary[w], w))
        alternatives = (token, *candidates[:4])
        groups.append(TermGroup(token, alternatives, prefix=last or not candidates))
    return groups


def _fts5_query(groups: Sequence[TermGroup], joiner: str) -> str:
    parts = []
    for group in groups:
        terms = [f'"{t}"' for t in group.alternatives]
        if group.prefix:
            terms.append(f'"{group.typed}"*')
        parts.append("(" + " OR ".join(terms) + ")")
    return f" {joiner} ".join(parts)


def _tsquery(groups: Sequence[TermGroup], joiner: str) -> str:
    parts = []
    for group in groups:
        terms = list(group.alternatives)
        if group.prefix:
            terms.append(f"{group.typed}:*")
        parts.append("(" + " | ".join(terms) + ")")
    return f" {joiner} ".join(parts)


def keyword_matches(
    session: Session, groups: Sequence[TermGroup], *, loosen: bool = True
) -> list[int]:
    """Document numbers, best first, from the database's full-text index: every word
    must match; with ``loosen``, any word may when that finds nothing."""
    if not groups:
        return []
    sqlite = session.get_bind().dialect.name == "sqlite"
    for joiner in ("AND", "OR") if loosen else ("AND",):
        if sqlite:
            rows = session.execute(
                text(
                    "SELECT rowid FROM product_search_fts WHERE product_search_fts MATCH :q"
                    " ORDER BY bm25(product_search_fts, 10.0, 4.0, 4.0, 3.0, 1.0) LIMIT :n"
                ),
                {"q": _fts5_query(groups, joiner), "n": KEYWORD_LIMIT},
            ).all()
        else:
            rows = session.execute(
                text(
                    "SELECT doc_no FROM product_search_tsv,"
                    " to_tsquery('english', :q) AS query WHERE document @@ query"
                    " ORDER BY ts_rank(document, query) DESC, doc_no LIMIT :n"
                ),
                {"q": _tsquery(groups, "&" if joiner == "AND" else "|"), "n": KEYWORD_LIMIT},
            ).all()
        if rows or len(groups) == 1:
            return [int(r[0]) for r in rows]
    return []


# --- the query --------------------------------------------------------------------------


def _category_codes(index: SearchIndex, category: str) -> list[int]:
    key = category.strip().strip("/").lower()
    codes = []
    for code, path in enumerate(index.categories.values):
        segments = path.split("/")
        if path == key or path.startswith(key + "/") or key in segments:
            codes.append(code)
    return codes


def _filter_mask(index: SearchIndex, query: SearchQuery) -> npt.NDArray[np.bool_]:
    mask = index.live.copy()
    if query.category:
        mask &= np.isin(index.category, _category_codes(index, query.category))
    if query.brand:
        wanted = query.brand.strip().lower()
        codes = [c for c, slug in enumerate(index.brands.values) if slug == wanted]
        mask &= np.isin(index.brand, codes)
    if query.ships_from:
        codes = [c for c, v in enumerate(index.countries.values) if v == query.ships_from]
        mask &= np.isin(index.ships_from, codes)
    if query.min_price is not None:
        mask &= index.price >= query.min_price.amount
    if query.max_price is not None:
        mask &= (index.price >= 0) & (index.price <= query.max_price.amount)
    if query.rating_min is not None:
        with np.errstate(invalid="ignore"):
            mask &= np.nan_to_num(index.rating, nan=-1.0) >= query.rating_min
    return mask


@lru_cache(maxsize=1)
def _retrieval_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="semantic-search")


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def semantic_rows(
    index: SearchIndex, vector: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_]
) -> tuple[IntArray, FloatArray]:
    """Rows of the nearest documents passing ``mask`` and the similarity threshold."""
    if not mask.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    # One BLAS thread: the product is memory-bound, and a second thread only adds
    # contention with the other requests and the server on a small machine.
    with _blas().limit(limits=1, user_api="blas"):
        if index.reduced is not None and index.projection is not None:
            coarse = index.reduced @ (vector @ index.projection)
            coarse[~mask] = -np.inf
            c = min(COARSE_CANDIDATES, len(coarse))
            candidates = np.argpartition(-coarse, c - 1)[:c]
            candidates = candidates[mask[candidates]]
            exact = index.vectors[candidates] @ vector
        else:
            exact = index.vectors @ vector
            exact[~mask] = -2.0
            candidates = np.arange(len(exact))
    k = min(SEMANTIC_K, len(exact))
    if k == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    best = np.argpartition(-exact, k - 1)[:k]
    best = best[np.argsort(-exact[best], kind="stable")]
    top = candidates[best]
    scores = exact[best]
    keep = scores >= SEMANTIC_MIN_SIMILARITY
    return top[keep].astype(np.int64), scores[keep].astype(np.float64)


def fuse(
    keyword: Sequence[int],
    semantic: Sequence[int],
    *,
    keyword_weight: float = KEYWORD_WEIGHT,
    semantic_weight: float = SEMANTIC_WEIGHT,
    k: int = RRF_K,
) -> dict[int, float]:
    """Reciprocal-rank fusion: each list adds weight / (k + rank) for the items it holds."""
    scores: dict[int, float] = {}
    for rank, row in enumerate(keyword, start=1):
        scores[row] = scores.get(row, 0.0) + keyword_weight / (k + rank)
    for rank, row in enumerate(semantic, start=1):
        scores[row] = scores.get(row, 0.0) + semantic_weight / (k + rank)
    return scores


def _order(
    index: SearchIndex, rows: IntArray, relevance: FloatArray | None, sort: SortOrder
) -> IntArray:
    if len(rows) == 0:
        return rows
    tiebreak = -index.doc_nos[rows].astype(np.float64)
    if sort == "relevance" and relevance is not None:
        keys: tuple[Any, ...] = (tiebreak, -relevance)
    elif sort in ("price_asc", "price_desc"):
        price = index.price[rows].astype(np.float64)
        price = np.where(price < 0, np.inf if sort == "price_asc" else -np.inf, price)
        keys = (tiebreak, price if sort == "price_asc" else -price)
    elif sort == "newest":
        keys = (tiebreak, -index.published[rows])
    else:  # best selling, and relevance of an empty query
        keys = (tiebreak, -index.published[rows], -index.units_sold[rows].astype(np.float64))
    return rows[np.lexsort(keys)]


def _facets(index: SearchIndex, rows: IntArray) -> dict[str, list[FacetValue]]:
    out: dict[str, list[FacetValue]] = {}
    for name, column, codes in (
        ("category", index.category, index.categories),
        ("brand", index.brand, index.brands),
        ("ships_from", index.ships_from, index.countries),
    ):
        counts: Sequence[int] = (
            np.bincount(column[rows], minlength=len(codes.values)).tolist() if len(rows) else []
        )
        values = [
            FacetValue(codes.values[c], codes.labels[c], int(n))
            for c, n in enumerate(counts)
            if n and codes.values[c]
        ]
        values.sort(key=lambda f: (-f.count, f.label))
        out[name] = values[:30]
    rated = np.nan_to_num(index.rating[rows], nan=-1.0)
    out["rating"] = [
        FacetValue(str(stars), f"{stars}★ & up", int((rated >= stars).sum())) for stars in (4, 3)
    ]
    return out


def _price_buckets(index: SearchIndex, rows: IntArray) -> list[PriceBucket]:
    prices = index.price[rows]
    prices = prices[prices >= 0]
    edges = (0, *PRICE_EDGES)
    buckets = []
    for low, high in zip(edges, (*PRICE_EDGES, None), strict=True):
        in_bucket = prices >= low if high is None else (prices >= low) & (prices < high)
        buckets.append(
            PriceBucket(
                Money(low, MARKET_CURRENCY) if low else None,
                Money(high, MARKET_CURRENCY) if high is not None else None,
                int(in_bucket.sum()),
            )
        )
    return buckets


_HIT_COLUMNS = (
    ProductSearchDoc.doc_no,
    ProductSearchDoc.product_id,
    ProductSearchDoc.title,
    ProductSearchDoc.min_price_amount,
    ProductSearchDoc.compare_at_amount,
    ProductSearchDoc.currency,
    ProductSearchDoc.thumb_key,
    ProductSearchDoc.seller_id,
    ProductSearchDoc.seller_name,
    ProductSearchDoc.ships_from,
    ProductSearchDoc.brand_name,
    ProductSearchDoc.category_path,
    ProductSearchDoc.rating,
    ProductSearchDoc.rating_count,
    ProductSearchDoc.units_sold,
)


def _hits(session: Session, index: SearchIndex, rows: IntArray) -> list[SearchHit]:
    doc_nos = [int(index.doc_nos[r]) for r in rows]
    if not doc_nos:
        return []
    found = {
        d.doc_no: d
        for d in session.execute(select(*_HIT_COLUMNS).where(ProductSearchDoc.doc_no.in_(doc_nos)))
    }
    hits = []
    for doc_no in doc_nos:
        doc = found.get(doc_no)
        if doc is None:  # the product was deleted since this process loaded the index
            continue
        hits.append(
            SearchHit(
                product_id=doc.product_id,
                title=doc.title,
                price=Money(doc.min_price_amount, doc.currency)
                if doc.min_price_amount is not None
                else None,
                compare_at=Money(doc.compare_at_amount, doc.currency)
                if doc.compare_at_amount is not None
                else None,
                thumb_key=doc.thumb_key,
                seller_id=doc.seller_id,
                seller_name=doc.seller_name,
                ships_from=doc.ships_from,
                brand_name=doc.brand_name,
                category_path=doc.category_path,
                rating=doc.rating,
                rating_count=doc.rating_count,
                units_sold=doc.units_sold,
            )
        )
    return hits


@dataclass(frozen=True)
class Ranked:
    rows: IntArray
    relevance: FloatArray | None
    corrected: dict[str, list[str]]


def rank(
    session: Session,
    index: SearchIndex,
    query: SearchQuery,
    *,
    embedder: Embedder | None = None,
) -> Ranked:
    """Every matching row, filtered, with its relevance (None for an empty query)."""
    mask = _filter_mask(index, query)
    q = " ".join(query.q.split())
    if not q:
        return Ranked(np.flatnonzero(mask).astype(np.int64), None, {})
    groups = expand_query(q, index.vocabulary)
    corrected = {g.typed: list(g.alternatives[1:]) for g in groups if len(g.alternatives) > 1}
    model = embedder or get_embedder()

    def nearest() -> list[int]:
        sem_rows, _scores = semantic_rows(index, model.encode_query(q), mask)
        return [int(r) for r in sem_rows]

    # The model and numpy release the GIL: the semantic side runs beside the SQL.
    pending = _retrieval_pool().submit(nearest) if query.mode != "keyword" else None
    keyword: list[int] = []
    if query.mode in ("hybrid", "keyword") and groups:
        for doc_no in keyword_matches(session, groups, loosen=LOOSEN_IN_HYBRID or not pending):
            row = index.row_of.get(doc_no)
            if row is not None and mask[row]:
                keyword.append(row)
    semantic = pending.result() if pending is not None else []
    scores = fuse(
        keyword, semantic, keyword_weight=KEYWORD_WEIGHT, semantic_weight=SEMANTIC_WEIGHT, k=RRF_K
    )
    rows = np.fromiter(scores.keys(), dtype=np.int64, count=len(scores))
    relevance = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
    return Ranked(rows, relevance, corrected)


def search(
    *, session: Session, query: SearchQuery, embedder: Embedder | None = None
) -> SearchResult:
    index = get_index(session)
    ranked = rank(session, index, query, embedder=embedder)
    rows = ranked.rows
    sort: SortOrder = query.sort
    ordered = _order(index, rows, ranked.relevance, sort)
    start = (query.page - 1) * query.per_page
    page_rows = ordered[start : start + query.per_page]
    return SearchResult(
        items=_hits(session, index, page_rows),
        total=len(rows),
        page=query.page,
        per_page=query.per_page,
        facets=_facets(index, rows),
        price_buckets=_price_buckets(index, rows),
        corrected=ranked.corrected,
    )


def category_counts(*, session: Session) -> Counter[str]:
    """Searchable products per category path, every ancestor included."""
    index = get_index(session)
    counts: Counter[str] = Counter()
    live = np.bincount(index.category[index.live], minlength=len(index.categories.values))
    for code, n in enumerate(live):
        if not n:
            continue
        segments = index.categories.values[code].split("/")
        for depth in range(1, len(segments) + 1):
            counts["/".join(segments[:depth])] += int(n)
    return counts


def price_from_decimal(value: Decimal) -> Money:
    return Money.from_decimal(value, MARKET_CURRENCY)
