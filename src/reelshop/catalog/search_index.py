"""Keeps the search index in step with the catalog.

For each product the indexer writes one ``product_search_docs`` row, the keyword
index entry (FTS5 on SQLite, a weighted tsvector on PostgreSQL), the vocabulary
counts used for typo tolerance, and the product's embedding (recomputed only when
its text changed). Only active products of approved sellers with a sellable SKU are
searchable; any other product keeps a row marked unsearchable so processes that
hold the index in memory learn that it left.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, selectinload

from reelshop.catalog.embeddings import MODEL_ID, Embedder, text_hash, to_blob
from reelshop.catalog.models import Brand, Category, Product
from reelshop.catalog.search_models import (
    ProductEmbedding,
    ProductSearchDoc,
    SearchIndexState,
    SearchTerm,
)
from reelshop.db import insert_on_conflict, utcnow
from reelshop.sellers.models import SellerProfile, SellerStatus

WORD = re.compile(r"[^\W_]+", re.UNICODE)
HTML_TAG = re.compile(r"<[^>]{0,500}>")
MAX_DESCRIPTION = 4000
FTS_COLUMNS = ("title", "brand_name", "category_names", "tags_text", "description")


def words(value: str) -> list[str]:
    """Lower-case word tokens, as the vocabulary and the query parser see them."""
    return [w for w in WORD.findall(value.lower()) if 2 <= len(w) <= 40]


def slugify(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:120]


def vocabulary_of(doc: ProductSearchDoc | dict[str, Any]) -> set[str]:
    """Words a shopper may mistype: title, brand, category names and tags."""
    get = doc.get if isinstance(doc, dict) else lambda key: getattr(doc, key, None)
    parts = [get("title") or "", get("brand_name") or "", get("category_names") or ""]
    parts.append(get("tags_text") or "")
    return {w for part in parts for w in words(part)}


def embedding_text(doc: ProductSearchDoc) -> str:
    """What the sentence model reads: the product's name and where it sits in the shop."""
    parts = [doc.title, doc.brand_name, doc.category_names.replace(" / ", ", ")]
    if doc.tags_text:
        parts.append(doc.tags_text)
    return ". ".join(p for p in parts if p)


@dataclass
class CatalogMaps:
    """Categories and brands by id, loaded once per reindex run."""

    categories: dict[str, Category]
    names_by_slug: dict[str, str]
    brands: dict[str, Brand]

    @classmethod
    def load(cls, session: Session) -> CatalogMaps:
        categories = {c.id: c for c in session.scalars(select(Category))}
        return cls(
            categories=categories,
            names_by_slug={c.slug: c.name for c in categories.values()},
            brands={b.id: b for b in session.scalars(select(Brand))},
        )


def _next_seq(session: Session) -> int:
    """Bump the index counter. On PostgreSQL the row lock also serialises index writers,
    so the vocabulary upserts of two writers never deadlock."""
    seq = session.execute(
        update(SearchIndexState)
        .where(SearchIndexState.id == 1)
        .values(seq=SearchIndexState.seq + 1)
        .returning(SearchIndexState.seq)
    ).scalar_one_or_none()
    if seq is None:  # the migration seeds the row; recreate it if someone emptied the table
        session.add(SearchIndexState(id=1, seq=1))
        session.flush()
        return 1
    return int(seq)


def _plain_description(value: str) -> str:
    return " ".join(HTML_TAG.sub(" ", value).split())[:MAX_DESCRIPTION]


def _fill(
    doc: ProductSearchDoc, product: Product, seller: SellerProfile | None, maps: CatalogMaps
) -> None:
    category = maps.categories.get(product.category_id)
    path = category.path if category else ""
    brand = maps.brands.get(product.brand_id) if product.brand_id else None
    brand_name = brand.name if brand else (product.brand_text or "")
    skus = [s for s in product.skus if s.is_active]
    cheapest = min(skus, key=lambda s: (s.price_amount, s.position)) if skus else None
    thumb = next((i.thumb_key for i in product.images if i.thumb_key), None)

    doc.seller_id = product.seller_id
    doc.title = product.title[:255]
    doc.brand_name = brand_name[:120]
    doc.brand_slug = (brand.slug if brand else slugify(brand_name))[:120]
    doc.category_id = product.category_id
    doc.category_path = path
    doc.category_name = category.name if category else ""
    doc.category_names = " / ".join(maps.names_by_slug.get(s, s) for s in path.split("/") if s)
    doc.tags_text = " ".join(product.tags or [])
    doc.description = _plain_description(product.description or "")
    doc.seller_name = seller.display_name if seller else ""
    doc.ships_from = seller.ships_from_country if seller else ""
    doc.currency = product.currency
    doc.min_price_amount = cheapest.price_amount if cheapest else None
    doc.max_price_amount = max(s.price_amount for s in skus) if skus else None
    compare_at = cheapest.compare_at_amount if cheapest else None
    doc.compare_at_amount = (
        compare_at if compare_at and cheapest and compare_at > cheapest.price_amount else None
    )
    doc.thumb_key = thumb
    doc.published_at = product.published_at or product.created_at
    doc.searchable = bool(
        product.on_sale and seller is not None and seller.status == SellerStatus.APPROVED and skus
    )


def _fts_values(doc: ProductSearchDoc | dict[str, Any]) -> dict[str, Any]:
    get = doc.get if isinstance(doc, dict) else lambda key: getattr(doc, key, None)
    return {"doc_no": get("doc_no"), **{c: get(c) or "" for c in FTS_COLUMNS}}


_FTS_DELETE = text(
    "INSERT INTO product_search_fts(product_search_fts, rowid, title, brand_name,"
    " category_names, tags_text, description)"
    " VALUES ('delete', :doc_no, :title, :brand_name, :category_names, :tags_text, :description)"
)
_FTS_INSERT = text(
    "INSERT INTO product_search_fts(rowid, title, brand_name, category_names, tags_text,"
    " description) VALUES (:doc_no, :title, :brand_name, :category_names, :tags_text,"
    " :description)"
)
_TSV_UPSERT = text(
    "INSERT INTO product_search_tsv (doc_no, document) VALUES (:doc_no,"
    " setweight(to_tsvector('english', :title), 'A')"
    " || setweight(to_tsvector('english', :brand_name || ' ' || :category_names"
    " || ' ' || :tags_text), 'B')"
    " || setweight(to_tsvector('english', :description), 'C'))"
    " ON CONFLICT (doc_no) DO UPDATE SET document = EXCLUDED.document"
)
_TSV_DELETE = text("DELETE FROM product_search_tsv WHERE doc_no = :doc_no")


def _apply_vocabulary(session: Session, delta: Counter[str]) -> None:
    changes = sorted((t[:64], n) for t, n in delta.items() if n)
    if not changes:
        return
    for start in range(0, len(changes), 500):
        rows = [{"term": t, "doc_count": n} for t, n in changes[start : start + 500]]
        stmt = insert_on_conflict(session, SearchTerm).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[SearchTerm.term],
            set_={"doc_count": SearchTerm.doc_count + stmt.excluded.doc_count},
        )
        session.execute(stmt)


def index_products(
    *,
    session: Session,
    product_ids: Iterable[str],
    embedder: Embedder | None = None,
    maps: CatalogMaps | None = None,
    vector_cache: dict[str, bytes] | None = None,
) -> int:
    """(Re)index these products; returns how many are searchable now.

    ``embedder`` None uses the process's shared model. ``vector_cache`` (text hash to
    vector) lets a bulk run embed each distinct text once.
    """
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return 0
    seq = _next_seq(session)
    maps = maps or CatalogMaps.load(session)
    products = session.scalars(
        select(Product)
        .where(Product.id.in_(ids))
        .options(selectinload(Product.skus), selectinload(Product.images))
    ).all()
    seller_ids = {p.seller_id for p in products}
    sellers = {
        s.id: s
        for s in session.scalars(select(SellerProfile).where(SellerProfile.id.in_(seller_ids)))
    }
    existing = {
        d.product_id: d
        for d in session.scalars(
            select(ProductSearchDoc).where(ProductSearchDoc.product_id.in_(ids))
        )
    }
    hashes = dict(
        session.execute(
            select(ProductEmbedding.product_id, ProductEmbedding.text_hash).where(
                ProductEmbedding.product_id.in_(ids)
            )
        ).all()
    )
    dialect = session.get_bind().dialect.name
    vocabulary: Counter[str] = Counter()
    fts_deletes: list[dict[str, Any]] = []
    docs: list[ProductSearchDoc] = []
    for product in products:
        doc = existing.get(product.id)
        if doc is None:
            doc = ProductSearchDoc(product_id=product.id)
            session.add(doc)
        elif doc.searchable:
            vocabulary.subtract(vocabulary_of(doc))
            if dialect == "sqlite":
                fts_deletes.append(_fts_values(doc))
        _fill(doc, product, sellers.get(product.seller_id), maps)
        doc.seq = seq
        doc.indexed_at = utcnow()
        if doc.searchable:
            vocabulary.update(vocabulary_of(doc))
        docs.append(doc)
    if fts_deletes:
        session.execute(_FTS_DELETE, fts_deletes)
    session.flush()  # doc_no for new rows

    live = [_fts_values(d) for d in docs if d.searchable]
    gone = [{"doc_no": d.doc_no} for d in docs if not d.searchable]
    if dialect == "sqlite":
        if live:
            session.execute(_FTS_INSERT, live)
    else:
        if live:
            session.execute(_TSV_UPSERT, live)
        if gone:
            session.execute(_TSV_DELETE, gone)
    _apply_vocabulary(session, vocabulary)
    _store_embeddings(session, docs, hashes, embedder, vector_cache)
    return len(live)


def _store_embeddings(
    session: Session,
    docs: Sequence[ProductSearchDoc],
    hashes: dict[str, str],
    embedder: Embedder | None,
    vector_cache: dict[str, bytes] | None,
) -> None:
    cache = vector_cache if vector_cache is not None else {}
    wanted: list[tuple[ProductSearchDoc, str, str]] = []
    for doc in docs:
        if not doc.searchable:
            continue
        body = embedding_text(doc)
        digest = text_hash(body)
        if hashes.get(doc.product_id) != digest:
            wanted.append((doc, body, digest))
    if not wanted:
        return
    missing = list({digest: body for _, body, digest in wanted if digest not in cache}.items())
    if missing:
        if embedder is None:
            from reelshop.catalog.embeddings import get_embedder

            embedder = get_embedder()
        vectors = embedder.encode([body for _, body in missing])
        for (digest, _), vector in zip(missing, vectors, strict=True):
            cache[digest] = to_blob(vector)
    now = utcnow()
    rows = [
        {
            "product_id": doc.product_id,
            "model": MODEL_ID,
            "text_hash": digest,
            "vector": cache[digest],
            "updated_at": now,
        }
        for doc, _, digest in wanted
    ]
    stmt = insert_on_conflict(session, ProductEmbedding)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ProductEmbedding.product_id],
        set_={
            "model": stmt.excluded.model,
            "text_hash": stmt.excluded.text_hash,
            "vector": stmt.excluded.vector,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    session.execute(stmt, rows)


def product_ids_in_order(session: Session, *, after: str | None, limit: int) -> list[str]:
    query = select(Product.id).order_by(Product.id).limit(limit)
    if after is not None:
        query = query.where(Product.id > after)
    return list(session.scalars(query))


def seller_product_ids(*, session: Session, seller_id: str) -> list[str]:
    return list(session.scalars(select(Product.id).where(Product.seller_id == seller_id)))


def reindex_all(
    run_batch: Callable[[Callable[[Session], int]], int],
    *,
    batch_size: int = 500,
    embedder: Embedder | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Index every product, ``batch_size`` at a time; returns (products, searchable).

    ``run_batch`` runs one batch inside a unit of work of the caller's choosing (its
    own transaction per batch for the CLI, the seed step's one session for the seed).
    """
    state: dict[str, Any] = {"after": None, "total": None, "done": 0, "live": 0}
    cache: dict[str, bytes] = {}
    maps_box: list[CatalogMaps] = []

    def one_batch(session: Session) -> int:
        if state["total"] is None:
            state["total"] = int(session.scalar(select(func.count()).select_from(Product)) or 0)
        if not maps_box:
            maps_box.append(CatalogMaps.load(session))
        ids = product_ids_in_order(session, after=state["after"], limit=batch_size)
        if not ids:
            return 0
        state["live"] += index_products(
            session=session,
            product_ids=ids,
            embedder=embedder,
            maps=maps_box[0],
            vector_cache=cache,
        )
        state["after"] = ids[-1]
        state["done"] += len(ids)
        return len(ids)

    while run_batch(one_batch):
        if on_progress:
            on_progress(state["done"], state["total"] or 0)
        if len(cache) > 200_000:
            cache.clear()
    return int(state["done"]), int(state["live"])


def seed_search_index(session: Session, ctx: Any) -> None:
    """The seed step "search_index": index the seeded catalog inside the seed's session."""
    from reelshop.catalog.embeddings import Embedder

    def run_batch(step: Callable[[Session], int]) -> int:
        indexed = step(session)
        session.flush()
        session.expunge_all()  # keep the identity map small over a large catalog
        return indexed

    done, live = reindex_all(run_batch, batch_size=1000, embedder=Embedder(threads=2))
    ctx.extra["search_indexed"] = (done, live)
