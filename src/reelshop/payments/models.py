"""Payments, the double-entry ledger, escrow holds, payouts, and the simulated processor's
own state.

Checkout and order ids are plain indexed strings, not foreign keys: the checkout tables
come from a separate migration branch.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reelshop.db import Base, CreatedAtMixin, utcnow
from reelshop.ids import new_id

# BIGINT on PostgreSQL, INTEGER (the rowid alias, so it autoincrements) on SQLite.
AutoId = BigInteger().with_variant(Integer(), "sqlite")


class PaymentStatus(StrEnum):
    PENDING = "pending"  # created, provider not yet answered
    REQUIRES_ACTION = "requires_action"  # shopper must complete a 3-D Secure challenge
    AUTHORISED = "authorised"  # funds held on the card
    CAPTURE_REQUESTED = "capture_requested"  # capture asked for, confirmation by webhook
    CAPTURED = "captured"  # money taken: the checkout is paid
    FAILED = "failed"  # declined, challenge failed or capture failed
    VOIDED = "voided"  # authorisation cancelled before capture


LIVE_PAYMENT_STATUSES = (
    PaymentStatus.PENDING,
    PaymentStatus.REQUIRES_ACTION,
    PaymentStatus.AUTHORISED,
    PaymentStatus.CAPTURE_REQUESTED,
    PaymentStatus.CAPTURED,
)


class Payment(CreatedAtMixin, Base):
    """One attempt to take a checkout's total from the shopper through a provider."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded_amount >= 0", name="refunded_not_negative"),
        CheckConstraint("refunded_amount <= amount", name="refunded_within_amount"),
        UniqueConstraint("provider", "provider_ref", name="uq_payments_provider_ref"),
        # At most one payment per checkout that is not failed or voided: a second
        # concurrent attempt (another idempotency key, another tab) is refused here.
        Index(
            "uq_payments_live_checkout",
            "checkout_id",
            unique=True,
            sqlite_where=text("status NOT IN ('failed', 'voided')"),
            postgresql_where=text("status NOT IN ('failed', 'voided')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("pay"))
    checkout_id: Mapped[str] = mapped_column(String(40), index=True)
    shopper_id: Mapped[str] = mapped_column(String(40), index=True)
    provider: Mapped[str] = mapped_column(String(24))
    provider_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24), default=PaymentStatus.PENDING)
    action_url: Mapped[str | None] = mapped_column(String(300), default=None)
    failure_code: Mapped[str | None] = mapped_column(String(40), default=None)
    failure_message: Mapped[str | None] = mapped_column(String(300), default=None)
    refunded_amount: Mapped[int] = mapped_column(default=0)
    captured_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Refund(CreatedAtMixin, Base):
    __tablename__ = "payment_refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("rfd"))
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200))
    provider_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    after_settlement: Mapped[bool] = mapped_column(default=False)
    actor_id: Mapped[str | None] = mapped_column(String(40), default=None)


class ReceivedWebhook(Base):
    """Every provider event we accepted, once: the unique key is the deduplication."""

    __tablename__ = "payment_webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_payment_webhook_event"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(24))
    event_id: Mapped[str] = mapped_column(String(80))
    event_type: Mapped[str] = mapped_column(String(60))
    provider_ref: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    outcome: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountKind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    REVENUE = "revenue"
    EXPENSE = "expense"


class LedgerAccount(Base):
    """One account in one currency, with its running balance (debits minus credits).

    The balance is a guarded cache of the journal lines, updated in the same
    transaction as each posting; ``reelshop ledger verify`` recomputes it from the lines.
    Payouts take from it with a conditional UPDATE, so two payout runs cannot both pay
    the same money.
    """

    __tablename__ = "ledger_accounts"

    code: Mapped[str] = mapped_column(String(120), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


class EntryKind(StrEnum):
    CAPTURE = "capture"
    SETTLEMENT = "settlement"
    REFUND = "refund"
    PAYOUT = "payout"
    PAYOUT_SENT = "payout_sent"
    RECEIVABLE_OFFSET = "receivable_offset"
    CORRECTION = "correction"


class JournalEntry(CreatedAtMixin, Base):
    """A balanced movement of money. Append-only: a mistake is corrected by a new entry.

    ``ref`` is unique and names the business fact the entry records ("capture:ord_…"),
    so recording the same fact twice fails at the database.
    """

    __tablename__ = "journal_entries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("jnl"))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    ref: Mapped[str] = mapped_column(String(120), unique=True)
    order_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    seller_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    payout_id: Mapped[str | None] = mapped_column(String(40), default=None)
    memo: Mapped[str] = mapped_column(String(300), default="")

    lines: Mapped[list[JournalLine]] = relationship(
        back_populates="entry", order_by="JournalLine.id"
    )


class JournalLine(Base):
    """Debit (positive) or credit (negative) of one account, in minor units."""

    __tablename__ = "journal_lines"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_journal_lines_account", "account", "currency"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")


class HoldStatus(StrEnum):
    HELD = "held"
    SETTLED = "settled"


class EscrowHold(CreatedAtMixin, Base):
    """An order whose money the platform holds until delivery plus the market's hold."""

    __tablename__ = "escrow_holds"

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    checkout_id: Mapped[str] = mapped_column(String(40), index=True)
    seller_id: Mapped[str] = mapped_column(String(40), index=True)
    market_code: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=HoldStatus.HELD, index=True)
    settled_at: Mapped[datetime | None] = mapped_column(default=None)


class MarketFinancePolicy(Base):
    """Per-market money rules as data; markets without a row use the code defaults."""

    __tablename__ = "market_finance_policies"

    market_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    settlement_hold_days: Mapped[int] = mapped_column(default=7)
    default_commission_bp: Mapped[int] = mapped_column(default=800)
    default_creator_commission_bp: Mapped[int] = mapped_column(default=1000)


class CommissionRate(Base):
    """Platform commission in basis points for a category in a market."""

    __tablename__ = "commission_rates"
    __table_args__ = (
        UniqueConstraint("market_code", "category_id", name="uq_commission_rates_market_category"),
        CheckConstraint("rate_bp >= 0 AND rate_bp <= 10000", name="rate_in_range"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    market_code: Mapped[str] = mapped_column(String(2))
    category_id: Mapped[str] = mapped_column(String(40))
    rate_bp: Mapped[int]


class PayoutStatus(StrEnum):
    IN_TRANSIT = "in_transit"
    PAID = "paid"


class Payout(CreatedAtMixin, Base):
    __tablename__ = "payouts"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("po"))
    seller_id: Mapped[str] = mapped_column(String(40), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=PayoutStatus.IN_TRANSIT)
    # The seller-payable lines this payout's statement covers: (after, through].
    statement_after_line_id: Mapped[int] = mapped_column(BigInteger, default=0)
    statement_through_line_id: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(default=None)


class SimulatedChargeStatus(StrEnum):
    REQUIRES_ACTION = "requires_action"
    AUTHORISED = "authorised"
    CAPTURED = "captured"
    DECLINED = "declined"
    VOIDED = "voided"


class SimulatedCharge(CreatedAtMixin, Base):
    """The simulated processor's side of a payment (what a real processor keeps)."""

    __tablename__ = "simulated_charges"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("sim"))
    # Our payment id, the processor-side idempotency key: authorising twice returns one charge.
    merchant_reference: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    card_last4: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(24))
    decline_code: Mapped[str | None] = mapped_column(String(40), default=None)
    captured_amount: Mapped[int] = mapped_column(default=0)
    refunded_amount: Mapped[int] = mapped_column(default=0)


class SimulatedWebhook(CreatedAtMixin, Base):
    """The simulated processor's outgoing webhook queue, drained by a worker job."""

    __tablename__ = "simulated_webhooks"
    __table_args__ = (Index("ix_simulated_webhooks_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status: Mapped[int | None] = mapped_column(default=None)
