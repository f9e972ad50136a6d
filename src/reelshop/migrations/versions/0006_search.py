"""search index: documents, embeddings, vocabulary; FTS5 (SQLite) or tsvector (PostgreSQL)

Revision ID: 0006_search
Revises: 0002_catalog_inventory
Create Date: 2026-11-24 23:44:46.597636
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_search"
down_revision: str | None = "0002_catalog_inventory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_index_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_index_state")),
    )
    op.create_table(
        "search_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("doc_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_search_terms")),
    )
    op.create_table(
        "product_embeddings",
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_embeddings_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_embeddings")),
    )
    op.create_table(
        "product_search_docs",
        sa.Column("doc_no", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("searchable", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("brand_name", sa.String(length=120), nullable=False),
        sa.Column("brand_slug", sa.String(length=120), nullable=False),
        sa.Column("category_id", sa.String(length=40), nullable=False),
        sa.Column("category_path", sa.String(length=400), nullable=False),
        sa.Column("category_name", sa.String(length=120), nullable=False),
        sa.Column("category_names", sa.String(length=600), nullable=False),
        sa.Column("tags_text", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("seller_name", sa.String(length=120), nullable=False),
        sa.Column("ships_from", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("min_price_amount", sa.BigInteger(), nullable=True),
        sa.Column("max_price_amount", sa.BigInteger(), nullable=True),
        sa.Column("compare_at_amount", sa.BigInteger(), nullable=True),
        sa.Column("thumb_key", sa.String(length=200), nullable=True),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("rating_count", sa.Integer(), nullable=True),
        sa.Column("units_sold", sa.BigInteger(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_search_docs_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("doc_no", name=op.f("pk_product_search_docs")),
        sa.UniqueConstraint("product_id", name=op.f("uq_product_search_docs_product_id")),
    )
    with op.batch_alter_table("product_search_docs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_search_docs_seller_id"), ["seller_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_product_search_docs_seq"), ["seq"], unique=False)

    op.execute("INSERT INTO search_index_state (id, seq) VALUES (1, 0)")

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # External content: the text lives in product_search_docs; the indexer issues the
        # FTS5 'delete' command with a row's old text before changing or hiding it.
        op.execute(
            "CREATE VIRTUAL TABLE product_search_fts USING fts5("
            "title, brand_name, category_names, tags_text, description, "
            "content='product_search_docs', content_rowid='doc_no', "
            "tokenize='porter unicode61 remove_diacritics 2', prefix='2 3')"
        )
    elif dialect == "postgresql":
        # Weights: A title, B brand and category, C tags and description.
        op.execute(
            "CREATE TABLE product_search_tsv ("
            "doc_no integer PRIMARY KEY REFERENCES product_search_docs (doc_no) ON DELETE CASCADE,"
            " document tsvector NOT NULL)"
        )
        op.execute(
            "CREATE INDEX product_search_tsv_document ON product_search_tsv USING gin (document)"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS product_search_fts")
    elif dialect == "postgresql":
        op.execute("DROP TABLE IF EXISTS product_search_tsv")
    with op.batch_alter_table("product_search_docs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_search_docs_seq"))
        batch_op.drop_index(batch_op.f("ix_product_search_docs_seller_id"))

    op.drop_table("product_search_docs")
    op.drop_table("product_embeddings")
    op.drop_table("search_terms")
    op.drop_table("search_index_state")
