"""delivery promises, delay cases, automatic cancellations and notifications

Revision ID: 0014_delivery_promises
Revises: 0011_logistics
Create Date: 2026-11-25 02:20:00

In-app notifications (mailed through the outbox), the per-market delivery policy
(default windows, grace before automatic cancellation), cached transit-time
percentiles per carrier, lane and milestone, each order's and parcel's promised
window, delay cases, and automatic cancellations.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_delivery_promises"
down_revision: str | None = "0011_logistics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_user_read", "notifications", ["user_id", "read_at"], unique=False
    )

    op.create_table(
        "delivery_policies",
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("lane", sa.String(length=20), nullable=False),
        sa.Column("default_min_days", sa.Integer(), nullable=False),
        sa.Column("default_max_days", sa.Integer(), nullable=False),
        sa.Column("min_history", sa.Integer(), nullable=False),
        sa.Column("low_percentile", sa.Integer(), nullable=False),
        sa.Column("high_percentile", sa.Integer(), nullable=False),
        sa.Column("stall_hours", sa.Integer(), nullable=False),
        sa.Column("cancel_grace_days", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "default_min_days >= 0 AND default_max_days >= default_min_days",
            name=op.f("ck_delivery_policies_default_window"),
        ),
        sa.CheckConstraint(
            "low_percentile >= 0 AND high_percentile <= 100 AND low_percentile < high_percentile",
            name=op.f("ck_delivery_policies_percentile_pair"),
        ),
        sa.ForeignKeyConstraint(
            ["market_code"], ["markets.code"], name=op.f("fk_delivery_policies_market_code_markets")
        ),
        sa.PrimaryKeyConstraint("market_code", "lane", name=op.f("pk_delivery_policies")),
    )
    op.create_table(
        "transit_stats",
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("lane", sa.String(length=20), nullable=False),
        sa.Column("milestone", sa.String(length=40), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("remaining_h", sa.JSON(), nullable=False),
        sa.Column("gap_samples", sa.Integer(), nullable=False),
        sa.Column("gap_p95_h", sa.Float(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("carrier", "lane", "milestone", name=op.f("pk_transit_stats")),
    )
    op.create_table(
        "delivery_promises",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("lane", sa.String(length=20), nullable=False),
        sa.Column("earliest", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("current_earliest", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current_latest", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_delivery_promises_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_delivery_promises")),
    )
    op.create_table(
        "parcel_estimates",
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("milestone", sa.String(length=40), nullable=False),
        sa.Column("earliest", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_parcel_estimates_shipment_id_shipments"),
        ),
        sa.PrimaryKeyConstraint("shipment_id", name=op.f("pk_parcel_estimates")),
    )
    op.create_index(
        op.f("ix_parcel_estimates_order_id"), "parcel_estimates", ["order_id"], unique=False
    )
    op.create_table(
        "delay_cases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("lane", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("milestone", sa.String(length=40), nullable=False),
        sa.Column("open_key", sa.String(length=40), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("new_earliest", sa.DateTime(timezone=True), nullable=False),
        sa.Column("new_latest", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=20), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_delay_cases_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delay_cases")),
        sa.UniqueConstraint("open_key", name=op.f("uq_delay_cases_open_key")),
    )
    op.create_index(
        "ix_delay_cases_lane_carrier",
        "delay_cases",
        ["lane", "carrier", "resolved_at"],
        unique=False,
    )
    op.create_index(op.f("ix_delay_cases_order_id"), "delay_cases", ["order_id"], unique=False)
    op.create_index(
        op.f("ix_delay_cases_shipment_id"), "delay_cases", ["shipment_id"], unique=False
    )
    op.create_table(
        "auto_cancellations",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("ship_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancel_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refund_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("counts_against_seller", sa.Boolean(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_auto_cancellations_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_auto_cancellations")),
    )
    op.create_index(
        op.f("ix_auto_cancellations_seller_id"), "auto_cancellations", ["seller_id"], unique=False
    )
    policies = sa.table(
        "delivery_policies",
        sa.column("market_code", sa.String),
        sa.column("lane", sa.String),
        sa.column("default_min_days", sa.Integer),
        sa.column("default_max_days", sa.Integer),
        sa.column("min_history", sa.Integer),
        sa.column("low_percentile", sa.Integer),
        sa.column("high_percentile", sa.Integer),
        sa.column("stall_hours", sa.Integer),
        sa.column("cancel_grace_days", sa.Integer),
    )
    common = {
        "market_code": "US",
        "min_history": 30,
        "low_percentile": 5,
        "high_percentile": 95,
        "cancel_grace_days": 3,
    }
    op.bulk_insert(
        policies,
        [
            {
                **common,
                "lane": "domestic_us",
                "default_min_days": 2,
                "default_max_days": 6,
                "stall_hours": 72,
            },
            {
                **common,
                "lane": "cn_us",
                "default_min_days": 7,
                "default_max_days": 16,
                "stall_hours": 120,
            },
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_auto_cancellations_seller_id"), table_name="auto_cancellations")
    op.drop_table("auto_cancellations")
    op.drop_index(op.f("ix_delay_cases_shipment_id"), table_name="delay_cases")
    op.drop_index(op.f("ix_delay_cases_order_id"), table_name="delay_cases")
    op.drop_index("ix_delay_cases_lane_carrier", table_name="delay_cases")
    op.drop_table("delay_cases")
    op.drop_index(op.f("ix_parcel_estimates_order_id"), table_name="parcel_estimates")
    op.drop_table("parcel_estimates")
    op.drop_table("delivery_promises")
    op.drop_table("transit_stats")
    op.drop_table("delivery_policies")
    op.drop_index("ix_notifications_user_read", table_name="notifications")
    op.drop_table("notifications")
