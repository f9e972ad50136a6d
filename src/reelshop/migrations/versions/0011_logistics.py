"""logistics

Revision ID: 0011_logistics
Revises: 0007_checkout
Create Date: 2026-11-25 01:11:33.880214

Parcels and their tracking events, dead-lettered carrier events, ship-by deadlines and
the simulated carrier's webhook queue. Seller ids are plain strings (sellers is
another branch); orders are checkout's, the branch this one stands on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_logistics"
down_revision: str | None = "0007_checkout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "logistics_dead_letters",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("tracking_number", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_dead_letters")),
        sa.UniqueConstraint("carrier", "event_id", name="uq_logistics_dead_letters_carrier_event"),
    )
    op.create_table(
        "simulated_carrier_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("tracking_number", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("send_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulated_carrier_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_simulated_carrier_events_event_id")),
    )
    with op.batch_alter_table("simulated_carrier_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_simulated_carrier_events_send_after"), ["send_after"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_simulated_carrier_events_tracking_number"),
            ["tracking_number"],
            unique=False,
        )

    op.create_table(
        "ship_by_deadlines",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ship_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handling_days", sa.Integer(), nullable=False),
        sa.Column("seller_timezone", sa.String(length=64), nullable=False),
        sa.Column("platform_fulfilled", sa.Boolean(), nullable=False),
        sa.Column("first_transit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late_dispatch_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_ship_by_deadlines_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_ship_by_deadlines")),
    )
    with op.batch_alter_table("ship_by_deadlines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ship_by_deadlines_open", ["late_dispatch_at", "ship_by"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ship_by_deadlines_seller_id"), ["seller_id"], unique=False
        )

    op.create_table(
        "shipments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("tracking_number", sa.String(length=40), nullable=False),
        sa.Column("lane", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("weight_grams", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("label_purchased", sa.Boolean(), nullable=False),
        sa.Column("label_cost_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_transit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("weight_grams > 0", name=op.f("ck_shipments_weight_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_shipments_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("carrier", "tracking_number", name="uq_shipments_carrier_tracking"),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipments_seller_id"), ["seller_id"], unique=False)

    op.create_table(
        "tracking_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("message", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=120), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_tracking_events_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
        sa.UniqueConstraint("carrier", "event_id", name="uq_tracking_events_carrier_event"),
    )
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_events_shipment_id"), ["shipment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_events_shipment_id"))

    op.drop_table("tracking_events")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_seller_id"))
        batch_op.drop_index(batch_op.f("ix_shipments_order_id"))

    op.drop_table("shipments")
    with op.batch_alter_table("ship_by_deadlines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ship_by_deadlines_seller_id"))
        batch_op.drop_index("ix_ship_by_deadlines_open")

    op.drop_table("ship_by_deadlines")
    with op.batch_alter_table("simulated_carrier_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_simulated_carrier_events_tracking_number"))
        batch_op.drop_index(batch_op.f("ix_simulated_carrier_events_send_after"))

    op.drop_table("simulated_carrier_events")
    op.drop_table("logistics_dead_letters")
