"""Tables of the shop's search index.

``product_search_docs`` holds one row per indexed product: the text the keyword index
reads (SQLite's FTS5 table uses it as external content), and denormalised facts for
facets and sorting that other capabilities fill in later (rating, units sold).
The keyword indexes themselves (FTS5 on SQLite, a tsvector side table on PostgreSQL)
are made with raw SQL in migration 0006_search and are not mapped here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base, utcnow

# Index structures created with raw SQL; migration autogenerate must not drop them.
RAW_SQL_TABLE_PREFIXES = ("product_search_fts", "product_search_tsv")


class ProductSearchDoc(Base):
    __tablename__ = "product_search_docs"

    # The integer key FTS5 and the in-memory vector matrix address documents by.
    doc_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), unique=True
    )
    seller_id: Mapped[str] = mapped_column(String(40), index=True)
    searchable: Mapped[bool] = mapped_column(default=False)
    # Value of search_index_state.seq when this row last changed: processes holding the
    # index in memory load only rows newer than what they have.
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    title: Mapped[str] = mapped_column(String(255))
    brand_name: Mapped[str] = mapped_column(String(120), default="")
    brand_slug: Mapped[str] = mapped_column(String(120), default="")
    category_id: Mapped[str] = mapped_column(String(40))
    category_path: Mapped[str] = mapped_column(String(400))
    category_name: Mapped[str] = mapped_column(String(120))
    category_names: Mapped[str] = mapped_column(String(600), default="")  # root to leaf
    tags_text: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    seller_name: Mapped[str] = mapped_column(String(120))
    ships_from: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    min_price_amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    max_price_amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    compare_at_amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    thumb_key: Mapped[str | None] = mapped_column(String(200), default=None)
    # Filled by later capabilities (reviews, orders); the indexer keeps what is there.
    rating: Mapped[float | None] = mapped_column(Float, default=None)
    rating_count: Mapped[int | None] = mapped_column(Integer, default=None)
    units_sold: Mapped[int | None] = mapped_column(BigInteger, default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProductEmbedding(Base):
    """A product's sentence embedding: float32 little-endian, L2-normalised."""

    __tablename__ = "product_embeddings"

    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(64))
    text_hash: Mapped[str] = mapped_column(String(64))  # recompute only when the text changed
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchTerm(Base):
    """The vocabulary of indexed words, for typo-tolerant query expansion."""

    __tablename__ = "search_terms"

    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    doc_count: Mapped[int] = mapped_column(Integer, default=0)


class SearchIndexState(Base):
    """One row: a counter bumped by every index write (row-locked, so writes are ordered)."""

    __tablename__ = "search_index_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
