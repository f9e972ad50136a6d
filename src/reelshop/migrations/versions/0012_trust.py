"""trust

Revision ID: 0012_trust
Revises: 0011_logistics
Create Date: 2026-11-25 02:01:33.079143

The brand registry, listing risk assessments, shopper reports, the moderation queue,
strikes and appeals; and products.moderation_status (existing listings stay published).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_trust"
down_revision: str | None = "0011_logistics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trust_brand_images",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=True),
        sa.Column("phash", sa.String(length=16), nullable=False),
        sa.Column("variant_hashes", sa.JSON(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_trust_brand_images_brand_id_brands")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_brand_images")),
    )
    with op.batch_alter_table("trust_brand_images", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trust_brand_images_brand_id"), ["brand_id"], unique=False
        )

    op.create_table(
        "trust_brand_price_ranges",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("product_line", sa.String(length=120), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("min_amount", sa.Integer(), nullable=False),
        sa.Column("max_amount", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_trust_brand_price_ranges_brand_id_brands")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_brand_price_ranges")),
    )
    with op.batch_alter_table("trust_brand_price_ranges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trust_brand_price_ranges_brand_id"), ["brand_id"], unique=False
        )

    op.create_table(
        "trust_brand_owners",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("verified_by", sa.String(length=40), nullable=True),
        sa.Column("verification_note", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_trust_brand_owners_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_trust_brand_owners_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["verified_by"], ["users.id"], name=op.f("fk_trust_brand_owners_verified_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_brand_owners")),
        sa.UniqueConstraint("brand_id", "user_id", name="uq_trust_brand_owners"),
    )
    with op.batch_alter_table("trust_brand_owners", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trust_brand_owners_brand_id"), ["brand_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_trust_brand_owners_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "trust_brand_registrations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("trademark_number", sa.String(length=40), nullable=False),
        sa.Column("trademark_classes", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_trust_brand_registrations_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_trust_brand_registrations_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_brand_registrations")),
        sa.UniqueConstraint("brand_id", name=op.f("uq_trust_brand_registrations_brand_id")),
    )
    op.create_table(
        "trust_brand_authorisations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("document_key", sa.String(length=200), nullable=True),
        sa.Column("document_name", sa.String(length=120), nullable=True),
        sa.Column("document_type", sa.String(length=40), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_trust_brand_authorisations_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_trust_brand_authorisations_decided_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["seller_profiles.id"],
            name=op.f("fk_trust_brand_authorisations_seller_id_seller_profiles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_brand_authorisations")),
        sa.UniqueConstraint("brand_id", "seller_id", name="uq_trust_brand_authorisations"),
    )
    with op.batch_alter_table("trust_brand_authorisations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trust_brand_authorisations_brand_id"), ["brand_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_trust_brand_authorisations_seller_id"), ["seller_id"], unique=False
        )

    op.create_table(
        "trust_strikes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("ref", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.String(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("suspended_seller", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_trust_strikes_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["seller_profiles.id"],
            name=op.f("fk_trust_strikes_seller_id_seller_profiles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_strikes")),
        sa.UniqueConstraint("ref", name=op.f("uq_trust_strikes_ref")),
    )
    with op.batch_alter_table("trust_strikes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trust_strikes_seller_id"), ["seller_id"], unique=False)

    op.create_table(
        "trust_infringement_complaints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("filed_by", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=True),
        sa.Column("video_id", sa.String(length=40), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_trust_infringement_complaints_brand_id_brands"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_trust_infringement_complaints_decided_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["filed_by"], ["users.id"], name=op.f("fk_trust_infringement_complaints_filed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_trust_infringement_complaints_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_infringement_complaints")),
    )
    with op.batch_alter_table("trust_infringement_complaints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trust_infringement_complaints_brand_id"), ["brand_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_trust_infringement_complaints_status"), ["status"], unique=False
        )

    op.create_table(
        "trust_listing_assessments",
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_trust_listing_assessments_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_trust_listing_assessments_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_trust_listing_assessments")),
    )
    op.create_table(
        "trust_listing_reports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("reporter_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_trust_listing_reports_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["users.id"], name=op.f("fk_trust_listing_reports_reporter_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_listing_reports")),
        sa.UniqueConstraint("product_id", "reporter_id", "kind", name="uq_trust_listing_reports"),
    )
    with op.batch_alter_table("trust_listing_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trust_listing_reports_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "trust_moderation_cases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("open_product_id", sa.String(length=40), nullable=True),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("risk_score", sa.Integer(), nullable=False),
        sa.Column("gmv_exposure_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_trust_moderation_cases_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_trust_moderation_cases_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["seller_profiles.id"],
            name=op.f("fk_trust_moderation_cases_seller_id_seller_profiles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_moderation_cases")),
        sa.UniqueConstraint(
            "open_product_id", name=op.f("uq_trust_moderation_cases_open_product_id")
        ),
    )
    with op.batch_alter_table("trust_moderation_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trust_moderation_cases_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            "ix_trust_moderation_cases_queue", ["status", "risk_score"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_trust_moderation_cases_seller_id"), ["seller_id"], unique=False
        )

    op.create_table(
        "trust_strike_appeals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("strike_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_trust_strike_appeals_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["seller_profiles.id"],
            name=op.f("fk_trust_strike_appeals_seller_id_seller_profiles"),
        ),
        sa.ForeignKeyConstraint(
            ["strike_id"],
            ["trust_strikes.id"],
            name=op.f("fk_trust_strike_appeals_strike_id_trust_strikes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_strike_appeals")),
        sa.UniqueConstraint("strike_id", name=op.f("uq_trust_strike_appeals_strike_id")),
    )
    with op.batch_alter_table("trust_strike_appeals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trust_strike_appeals_seller_id"), ["seller_id"], unique=False
        )

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "moderation_status",
                sa.String(length=16),
                server_default="published",
                nullable=False,
            )
        )
        batch_op.create_index(
            batch_op.f("ix_products_moderation_status"), ["moderation_status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_moderation_status"))
        batch_op.drop_column("moderation_status")

    with op.batch_alter_table("trust_strike_appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_strike_appeals_seller_id"))

    op.drop_table("trust_strike_appeals")
    with op.batch_alter_table("trust_moderation_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_moderation_cases_seller_id"))
        batch_op.drop_index("ix_trust_moderation_cases_queue")
        batch_op.drop_index(batch_op.f("ix_trust_moderation_cases_product_id"))

    op.drop_table("trust_moderation_cases")
    with op.batch_alter_table("trust_listing_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_listing_reports_product_id"))

    op.drop_table("trust_listing_reports")
    op.drop_table("trust_listing_assessments")
    with op.batch_alter_table("trust_infringement_complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_infringement_complaints_status"))
        batch_op.drop_index(batch_op.f("ix_trust_infringement_complaints_brand_id"))

    op.drop_table("trust_infringement_complaints")
    with op.batch_alter_table("trust_strikes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_strikes_seller_id"))

    op.drop_table("trust_strikes")
    with op.batch_alter_table("trust_brand_authorisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_brand_authorisations_seller_id"))
        batch_op.drop_index(batch_op.f("ix_trust_brand_authorisations_brand_id"))

    op.drop_table("trust_brand_authorisations")
    op.drop_table("trust_brand_registrations")
    with op.batch_alter_table("trust_brand_owners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_brand_owners_user_id"))
        batch_op.drop_index(batch_op.f("ix_trust_brand_owners_brand_id"))

    op.drop_table("trust_brand_owners")
    with op.batch_alter_table("trust_brand_price_ranges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_brand_price_ranges_brand_id"))

    op.drop_table("trust_brand_price_ranges")
    with op.batch_alter_table("trust_brand_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_brand_images_brand_id"))

    op.drop_table("trust_brand_images")
