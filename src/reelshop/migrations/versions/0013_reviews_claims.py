"""reviews and buyer-protection claims

Revision ID: 0013_reviews_claims
Revises: 0011_logistics
Create Date: 2026-11-25 02:03:30.130030

Reviews (one per order line), their re-encoded photos, the per-product rating
aggregate; claims on orders and their sealed evidence photos. The seller's rating
columns already exist on seller_profiles.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_reviews_claims"
down_revision: str | None = "0011_logistics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "product_ratings",
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("stars_1", sa.Integer(), nullable=False),
        sa.Column("stars_2", sa.Integer(), nullable=False),
        sa.Column("stars_3", sa.Integer(), nullable=False),
        sa.Column("stars_4", sa.Integer(), nullable=False),
        sa.Column("stars_5", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_ratings_product_id_products")
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_ratings")),
    )
    op.create_table(
        "claims",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("shopper_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("order_line_id", sa.String(length=40), nullable=True),
        sa.Column("claim_type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seller_response", sa.Text(), nullable=True),
        sa.Column("seller_responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refund_amount", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("refund_amount >= 0", name=op.f("ck_claims_refund_not_negative")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_claims_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"], name=op.f("fk_claims_order_line_id_order_lines")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["seller_profiles.id"], name=op.f("fk_claims_seller_id_seller_profiles")
        ),
        sa.ForeignKeyConstraint(
            ["shopper_id"], ["users.id"], name=op.f("fk_claims_shopper_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("order_id", "claim_type", name="uq_claims_order_type"),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claims_order_id"), ["order_id"], unique=False)
        batch_op.create_index("ix_claims_seller_status", ["seller_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_shopper_id"), ["shopper_id"], unique=False)
        batch_op.create_index("ix_claims_status_respond_by", ["status", "respond_by"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_line_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("reviewer_id", sa.String(length=40), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hold_reasons", sa.JSON(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=True),
        sa.Column("device_hash", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seller_answer", sa.Text(), nullable=True),
        sa.Column("seller_answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("moderated_by", sa.String(length=40), nullable=True),
        sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("moderation_note", sa.String(length=300), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_reviews_rating_range")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_reviews_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"], name=op.f("fk_reviews_order_line_id_order_lines")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_reviews_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_reviews_reviewer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["seller_profiles.id"], name=op.f("fk_reviews_seller_id_seller_profiles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("order_line_id", name=op.f("uq_reviews_order_line_id")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_address_hash"), ["address_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_device_hash"), ["device_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            "ix_reviews_product_status", ["product_id", "status", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reviews_reviewer_id"), ["reviewer_id"], unique=False)
        batch_op.create_index(
            "ix_reviews_seller_status", ["seller_id", "status", "created_at"], unique=False
        )

    op.create_table(
        "claim_evidence",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("claim_id", sa.String(length=40), nullable=False),
        sa.Column("uploaded_by", sa.String(length=40), nullable=False),
        sa.Column("party", sa.String(length=10), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.id"],
            name=op.f("fk_claim_evidence_claim_id_claims"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_evidence")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_claim_evidence_storage_key")),
    )
    with op.batch_alter_table("claim_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_evidence_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "review_photos",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("review_id", sa.String(length=40), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("thumb_key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_review_photos_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_photos")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_review_photos_storage_key")),
    )
    with op.batch_alter_table("review_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_photos_review_id"), ["review_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_photos_review_id"))

    op.drop_table("review_photos")
    with op.batch_alter_table("claim_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_evidence_claim_id"))

    op.drop_table("claim_evidence")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_seller_status")
        batch_op.drop_index(batch_op.f("ix_reviews_reviewer_id"))
        batch_op.drop_index("ix_reviews_product_status")
        batch_op.drop_index(batch_op.f("ix_reviews_order_id"))
        batch_op.drop_index(batch_op.f("ix_reviews_device_hash"))
        batch_op.drop_index(batch_op.f("ix_reviews_address_hash"))

    op.drop_table("reviews")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index("ix_claims_status_respond_by")
        batch_op.drop_index(batch_op.f("ix_claims_shopper_id"))
        batch_op.drop_index("ix_claims_seller_status")
        batch_op.drop_index(batch_op.f("ix_claims_order_id"))

    op.drop_table("claims")
    op.drop_table("product_ratings")
