"""security hardening

Revision ID: 0017_security_hardening
Revises: 0011_logistics

TOTP second factors with hashed recovery codes and pending log-in tickets, envelope
data keys per market (wrapped by the master keys from settings), and the fixed-window
counters of the rate limiter.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_security_hardening"
down_revision: str | None = "0011_logistics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "totp_factors",
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_totp_factors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_totp_factors")),
    )
    op.create_table(
        "totp_recovery_codes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_totp_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totp_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_totp_recovery_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_totp_recovery_codes_user_id"), "totp_recovery_codes", ["user_id"], unique=False
    )
    op.create_table(
        "pending_second_factors",
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_pending_second_factors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_hash", name=op.f("pk_pending_second_factors")),
    )
    op.create_index(
        op.f("ix_pending_second_factors_user_id"),
        "pending_second_factors",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "field_data_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("market_code", sa.String(length=8), nullable=False),
        sa.Column("master_key_id", sa.String(length=40), nullable=False),
        sa.Column("wrapped_key", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_data_keys")),
    )
    op.create_index(
        op.f("ix_field_data_keys_market_code"), "field_data_keys", ["market_code"], unique=False
    )
    op.create_index(op.f("ix_field_data_keys_state"), "field_data_keys", ["state"], unique=False)
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_counters")),
    )


def downgrade() -> None:
    op.drop_table("rate_counters")
    op.drop_index(op.f("ix_field_data_keys_state"), table_name="field_data_keys")
    op.drop_index(op.f("ix_field_data_keys_market_code"), table_name="field_data_keys")
    op.drop_table("field_data_keys")
    op.drop_index(op.f("ix_pending_second_factors_user_id"), table_name="pending_second_factors")
    op.drop_table("pending_second_factors")
    op.drop_index(op.f("ix_totp_recovery_codes_user_id"), table_name="totp_recovery_codes")
    op.drop_table("totp_recovery_codes")
    op.drop_table("totp_factors")
