"""analytics

Revision ID: 0018_analytics
Revises: 0011_logistics
Create Date: 2026-11-25 02:20:00

The targets analytics measures against: the platform's yearly GMV target and sellers'
monthly sales targets. Events are Parquet files, not tables. Seller ids are plain
strings, as in the other branches.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_analytics"
down_revision: str | None = "0011_logistics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_gmv_targets",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("market_code", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("baseline_amount", sa.BigInteger(), nullable=False),
        sa.Column("target_amount", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "baseline_amount >= 0", name=op.f("ck_analytics_gmv_targets_baseline_not_negative")
        ),
        sa.CheckConstraint(
            "target_amount > 0", name=op.f("ck_analytics_gmv_targets_target_positive")
        ),
        sa.CheckConstraint(
            "year BETWEEN 2000 AND 2200", name=op.f("ck_analytics_gmv_targets_year_range")
        ),
        sa.PrimaryKeyConstraint("year", "market_code", name=op.f("pk_analytics_gmv_targets")),
    )
    op.create_table(
        "analytics_seller_targets",
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gmv_target_amount", sa.BigInteger(), nullable=False),
        sa.Column("units_target", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "gmv_target_amount >= 0", name=op.f("ck_analytics_seller_targets_gmv_not_negative")
        ),
        sa.CheckConstraint(
            "month BETWEEN 1 AND 12", name=op.f("ck_analytics_seller_targets_month_range")
        ),
        sa.CheckConstraint(
            "units_target >= 0", name=op.f("ck_analytics_seller_targets_units_not_negative")
        ),
        sa.PrimaryKeyConstraint(
            "seller_id", "year", "month", name=op.f("pk_analytics_seller_targets")
        ),
    )


def downgrade() -> None:
    op.drop_table("analytics_seller_targets")
    op.drop_table("analytics_gmv_targets")
