"""fulfilment, customs and seller performance

Revision ID: 0015_fulfilment_performance
Revises: 0011_logistics
Create Date: 2026-11-25 02:35:00

Platform fulfilment (policies, fee bands, inbound shipments, platform-fulfilled orders,
fee charges), customs (rules, duty rates by HS chapter, parcel declarations, landed-cost
estimates) and seller performance (policies, daily snapshots). The US reference rows
are inserted here: they are data, changed by new rows or migrations, not by code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_fulfilment_performance"
down_revision: str | None = "0011_logistics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

US_PERFORMANCE_METRICS = {
    "late_dispatch": {
        "good": 100,
        "bad": 800,
        "limit": 400,
        "weight": 3,
        "higher_is_better": False,
    },
    "valid_tracking": {
        "good": 9900,
        "bad": 9000,
        "limit": 9500,
        "weight": 2,
        "higher_is_better": True,
    },
    "cancellation": {"good": 50, "bad": 500, "limit": 250, "weight": 2, "higher_is_better": False},
    "on_time_delivery": {
        "good": 9700,
        "bad": 8000,
        "limit": 9000,
        "weight": 2,
        "higher_is_better": True,
    },
    "claims": {"good": 50, "bad": 500, "limit": 200, "weight": 2, "higher_is_better": False},
    "negative_reviews": {
        "good": 200,
        "bad": 1500,
        "limit": 1000,
        "weight": 1,
        "higher_is_better": False,
    },
    "rating": {"good": 480, "bad": 300, "limit": 350, "weight": 1, "higher_is_better": True},
}
# Duty by HS chapter, basis points of the declared value (illustrative round figures).
US_DUTY_BY_CHAPTER = [
    ("33", 0, "Cosmetics and toiletries"),
    ("39", 530, "Plastics and articles thereof"),
    ("42", 800, "Bags, leather goods"),
    ("61", 1600, "Knitted apparel"),
    ("62", 1200, "Woven apparel"),
    ("64", 1000, "Footwear"),
    ("71", 550, "Jewellery"),
    ("85", 200, "Electrical equipment"),
    ("94", 300, "Furniture, lamps"),
    ("95", 0, "Toys and games"),
]
# Per-unit fees by billable weight in ounces (None: the open band, plus per pound).
US_FEE_BANDS = [
    (4, 306, 0),
    (8, 335, 0),
    (12, 372, 0),
    (16, 415, 0),
    (32, 499, 0),
    (48, 570, 0),
    (None, 570, 40),
]


def upgrade() -> None:
    op.create_table(
        "seller_performance_snapshots",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_orders", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("rating_average", sa.Double(), nullable=True),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("standing", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_performance_snapshots")),
        sa.UniqueConstraint("seller_id", "day", name="uq_seller_performance_snapshots_day"),
    )
    op.create_index(
        "ix_seller_performance_snapshots_seller_day",
        "seller_performance_snapshots",
        ["seller_id", "day"],
        unique=False,
    )
    op.create_table(
        "customs_duty_rates",
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("hs_chapter", sa.String(length=2), nullable=False),
        sa.Column("duty_bp", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=120), nullable=False),
        sa.CheckConstraint("duty_bp >= 0", name=op.f("ck_customs_duty_rates_duty_not_negative")),
        sa.ForeignKeyConstraint(
            ["market_code"],
            ["markets.code"],
            name=op.f("fk_customs_duty_rates_market_code_markets"),
        ),
        sa.PrimaryKeyConstraint("market_code", "hs_chapter", name=op.f("pk_customs_duty_rates")),
    )
    op.create_table(
        "customs_rules",
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("de_minimis_amount", sa.Integer(), nullable=False),
        sa.Column("default_duty_bp", sa.Integer(), nullable=False),
        sa.Column("processing_fee_amount", sa.Integer(), nullable=False),
        sa.Column("brokerage_fee_amount", sa.Integer(), nullable=False),
        sa.Column("source_note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["market_code"], ["markets.code"], name=op.f("fk_customs_rules_market_code_markets")
        ),
        sa.PrimaryKeyConstraint("market_code", name=op.f("pk_customs_rules")),
    )
    op.create_table(
        "fulfilment_fee_bands",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("up_to_oz", sa.Integer(), nullable=True),
        sa.Column("fee_amount", sa.Integer(), nullable=False),
        sa.Column("extra_per_lb_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint(
            "fee_amount >= 0", name=op.f("ck_fulfilment_fee_bands_fee_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["market_code"],
            ["markets.code"],
            name=op.f("fk_fulfilment_fee_bands_market_code_markets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilment_fee_bands")),
    )
    op.create_index(
        op.f("ix_fulfilment_fee_bands_market_code"),
        "fulfilment_fee_bands",
        ["market_code"],
        unique=False,
    )
    op.create_table(
        "fulfilment_policies",
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("handling_days", sa.Integer(), nullable=False),
        sa.Column("dim_divisor", sa.Integer(), nullable=False),
        sa.Column("warehouse_timezone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["market_code"],
            ["markets.code"],
            name=op.f("fk_fulfilment_policies_market_code_markets"),
        ),
        sa.PrimaryKeyConstraint("market_code", name=op.f("pk_fulfilment_policies")),
    )
    op.create_table(
        "performance_policies",
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("min_delivered_orders", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("warning_below", sa.Double(), nullable=False),
        sa.Column("restricted_below", sa.Double(), nullable=False),
        sa.Column("suspended_below", sa.Double(), nullable=False),
        sa.Column("restricted_daily_order_cap", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["market_code"],
            ["markets.code"],
            name=op.f("fk_performance_policies_market_code_markets"),
        ),
        sa.PrimaryKeyConstraint("market_code", name=op.f("pk_performance_policies")),
    )
    op.create_table(
        "fulfilment_fee_charges",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("journal_ref", sa.String(length=120), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fulfilment_fee_charges_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_fulfilment_fee_charges")),
        sa.UniqueConstraint("journal_ref", name=op.f("uq_fulfilment_fee_charges_journal_ref")),
    )
    op.create_index(
        op.f("ix_fulfilment_fee_charges_seller_id"),
        "fulfilment_fee_charges",
        ["seller_id"],
        unique=False,
    )
    op.create_table(
        "inbound_shipments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("location_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by", sa.String(length=40), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_locations.id"],
            name=op.f("fk_inbound_shipments_location_id_stock_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["seller_profiles.id"],
            name=op.f("fk_inbound_shipments_seller_id_seller_profiles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_shipments")),
    )
    op.create_index(
        op.f("ix_inbound_shipments_seller_id"), "inbound_shipments", ["seller_id"], unique=False
    )
    op.create_index(
        "ix_inbound_shipments_status", "inbound_shipments", ["status", "created_at"], unique=False
    )
    op.create_table(
        "landed_cost_estimates",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("market_code", sa.String(length=2), nullable=False),
        sa.Column("origin_country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("declared_value_amount", sa.Integer(), nullable=False),
        sa.Column("duty_amount", sa.Integer(), nullable=False),
        sa.Column("fees_amount", sa.Integer(), nullable=False),
        sa.Column("de_minimis_applied", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_landed_cost_estimates_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_landed_cost_estimates")),
    )
    op.create_table(
        "platform_fulfilled_orders",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("location_id", sa.String(length=40), nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=True),
        sa.Column("shipped_by", sa.String(length=40), nullable=True),
        sa.Column("picked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_locations.id"],
            name=op.f("fk_platform_fulfilled_orders_location_id_stock_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_platform_fulfilled_orders_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_platform_fulfilled_orders")),
    )
    op.create_index(
        op.f("ix_platform_fulfilled_orders_seller_id"),
        "platform_fulfilled_orders",
        ["seller_id"],
        unique=False,
    )
    op.create_table(
        "customs_declarations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("origin_country", sa.String(length=2), nullable=False),
        sa.Column("destination_country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("declared_value_amount", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_customs_declarations_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_customs_declarations_shipment_id_shipments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customs_declarations")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_customs_declarations_shipment_id")),
    )
    op.create_index(
        op.f("ix_customs_declarations_order_id"), "customs_declarations", ["order_id"], unique=False
    )
    op.create_table(
        "inbound_shipment_lines",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("inbound_id", sa.String(length=40), nullable=False),
        sa.Column("sku_id", sa.String(length=40), nullable=False),
        sa.Column("announced_quantity", sa.Integer(), nullable=False),
        sa.Column("received_quantity", sa.Integer(), nullable=True),
        sa.Column("damaged_quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "announced_quantity > 0", name=op.f("ck_inbound_shipment_lines_announced_positive")
        ),
        sa.CheckConstraint(
            "damaged_quantity >= 0", name=op.f("ck_inbound_shipment_lines_damaged_not_negative")
        ),
        sa.CheckConstraint(
            "received_quantity IS NULL OR received_quantity >= 0",
            name=op.f("ck_inbound_shipment_lines_received_ok"),
        ),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inbound_shipments.id"],
            name=op.f("fk_inbound_shipment_lines_inbound_id_inbound_shipments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["skus.id"], name=op.f("fk_inbound_shipment_lines_sku_id_skus")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_shipment_lines")),
        sa.UniqueConstraint("inbound_id", "sku_id", name="uq_inbound_shipment_lines_sku"),
    )
    op.create_index(
        op.f("ix_inbound_shipment_lines_inbound_id"),
        "inbound_shipment_lines",
        ["inbound_id"],
        unique=False,
    )
    op.bulk_insert(
        sa.table(
            "fulfilment_policies",
            sa.column("market_code", sa.String),
            sa.column("currency", sa.String),
            sa.column("handling_days", sa.Integer),
            sa.column("dim_divisor", sa.Integer),
            sa.column("warehouse_timezone", sa.String),
        ),
        [
            {
                "market_code": "US",
                "currency": "USD",
                "handling_days": 1,
                "dim_divisor": 166,
                "warehouse_timezone": "America/Chicago",
            }
        ],
    )
    op.bulk_insert(
        sa.table(
            "fulfilment_fee_bands",
            sa.column("market_code", sa.String),
            sa.column("up_to_oz", sa.Integer),
            sa.column("fee_amount", sa.Integer),
            sa.column("extra_per_lb_amount", sa.Integer),
            sa.column("currency", sa.String),
        ),
        [
            {
                "market_code": "US",
                "up_to_oz": up_to,
                "fee_amount": fee,
                "extra_per_lb_amount": extra,
                "currency": "USD",
            }
            for up_to, fee, extra in US_FEE_BANDS
        ],
    )
    op.bulk_insert(
        sa.table(
            "customs_rules",
            sa.column("market_code", sa.String),
            sa.column("currency", sa.String),
            sa.column("de_minimis_amount", sa.Integer),
            sa.column("default_duty_bp", sa.Integer),
            sa.column("processing_fee_amount", sa.Integer),
            sa.column("brokerage_fee_amount", sa.Integer),
            sa.column("source_note", sa.String),
        ),
        [
            {
                "market_code": "US",
                "currency": "USD",
                "de_minimis_amount": 80_000,
                "default_duty_bp": 500,
                "processing_fee_amount": 269,
                "brokerage_fee_amount": 500,
                "source_note": "Section 321 de minimis of USD 800 per shipment; duty rates are "
                "round illustrative figures per HS chapter, not the tariff schedule.",
            }
        ],
    )
    op.bulk_insert(
        sa.table(
            "customs_duty_rates",
            sa.column("market_code", sa.String),
            sa.column("hs_chapter", sa.String),
            sa.column("duty_bp", sa.Integer),
            sa.column("description", sa.String),
        ),
        [
            {"market_code": "US", "hs_chapter": ch, "duty_bp": bp, "description": text}
            for ch, bp, text in US_DUTY_BY_CHAPTER
        ],
    )
    op.bulk_insert(
        sa.table(
            "performance_policies",
            sa.column("market_code", sa.String),
            sa.column("window_days", sa.Integer),
            sa.column("min_delivered_orders", sa.Integer),
            sa.column("metrics", sa.JSON),
            sa.column("warning_below", sa.Float),
            sa.column("restricted_below", sa.Float),
            sa.column("suspended_below", sa.Float),
            sa.column("restricted_daily_order_cap", sa.Integer),
        ),
        [
            {
                "market_code": "US",
                "window_days": 90,
                "min_delivered_orders": 30,
                "metrics": US_PERFORMANCE_METRICS,
                "warning_below": 4.0,
                "restricted_below": 3.0,
                "suspended_below": 2.0,
                "restricted_daily_order_cap": 50,
            }
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_inbound_shipment_lines_inbound_id"), table_name="inbound_shipment_lines")
    op.drop_table("inbound_shipment_lines")
    op.drop_index(op.f("ix_customs_declarations_order_id"), table_name="customs_declarations")
    op.drop_table("customs_declarations")
    op.drop_index(
        op.f("ix_platform_fulfilled_orders_seller_id"), table_name="platform_fulfilled_orders"
    )
    op.drop_table("platform_fulfilled_orders")
    op.drop_table("landed_cost_estimates")
    op.drop_index("ix_inbound_shipments_status", table_name="inbound_shipments")
    op.drop_index(op.f("ix_inbound_shipments_seller_id"), table_name="inbound_shipments")
    op.drop_table("inbound_shipments")
    op.drop_index(op.f("ix_fulfilment_fee_charges_seller_id"), table_name="fulfilment_fee_charges")
    op.drop_table("fulfilment_fee_charges")
    op.drop_table("performance_policies")
    op.drop_table("fulfilment_policies")
    op.drop_index(op.f("ix_fulfilment_fee_bands_market_code"), table_name="fulfilment_fee_bands")
    op.drop_table("fulfilment_fee_bands")
    op.drop_table("customs_rules")
    op.drop_table("customs_duty_rates")
    op.drop_index(
        "ix_seller_performance_snapshots_seller_day", table_name="seller_performance_snapshots"
    )
    op.drop_table("seller_performance_snapshots")
