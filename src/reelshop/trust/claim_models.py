"""Tables of buyer protection: claims on an order, their sealed evidence photos."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reelshop.db import Base, CreatedAtMixin, utcnow
from reelshop.ids import new_id
from reelshop.security.fields import Encrypted


class ClaimType(StrEnum):
    NOT_RECEIVED = "not_received"
    COUNTERFEIT = "counterfeit"
    NOT_AS_DESCRIBED = "not_as_described"
    DAMAGED = "damaged"


class ClaimStatus(StrEnum):
    AWAITING_SELLER = "awaiting_seller"  # the seller's response window is running
    AWAITING_STAFF = "awaiting_staff"  # the seller answered
    ESCALATED = "escalated"  # the window passed without an answer
    UPHELD = "upheld"
    REJECTED = "rejected"


OPEN_STATUSES = (ClaimStatus.AWAITING_SELLER, ClaimStatus.AWAITING_STAFF, ClaimStatus.ESCALATED)
DECIDED_STATUSES = (ClaimStatus.UPHELD, ClaimStatus.REJECTED)


class ClaimOutcome(StrEnum):
    UPHOLD_FULL = "uphold_full"
    UPHOLD_PARTIAL = "uphold_partial"
    REJECT = "reject"


class Claim(CreatedAtMixin, Base):
    __tablename__ = "claims"
    __table_args__ = (
        # A shopper claims each thing once per order; a decided claim is not reopened.
        UniqueConstraint("order_id", "claim_type", name="uq_claims_order_type"),
        Index("ix_claims_seller_status", "seller_id", "status"),
        Index("ix_claims_status_respond_by", "status", "respond_by"),
        CheckConstraint("refund_amount >= 0", name="refund_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("clm"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    shopper_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("seller_profiles.id"))
    # Which line the claim is about (None: the whole order, e.g. nothing arrived).
    order_line_id: Mapped[str | None] = mapped_column(ForeignKey("order_lines.id"), default=None)
    claim_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=ClaimStatus.AWAITING_SELLER)
    # What the shopper wrote may name people and places: sealed like other personal data.
    description: Mapped[str] = mapped_column(Encrypted("claims.description"))
    respond_by: Mapped[datetime]
    seller_response: Mapped[str | None] = mapped_column(
        Encrypted("claims.seller_response"), default=None
    )
    seller_responded_at: Mapped[datetime | None] = mapped_column(default=None)
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    currency: Mapped[str] = mapped_column(String(3))
    refund_amount: Mapped[int] = mapped_column(default=0)
    refund_id: Mapped[str | None] = mapped_column(String(40), default=None)
    decision_note: Mapped[str | None] = mapped_column(String(500), default=None)
    decided_by: Mapped[str | None] = mapped_column(String(40), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    evidence: Mapped[list[ClaimEvidence]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ClaimEvidence.created_at"
    )


class ClaimEvidence(CreatedAtMixin, Base):
    """A photo re-encoded by the image pipeline, then sealed (AES-GCM bound to its key)."""

    __tablename__ = "claim_evidence"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cev"))
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    uploaded_by: Mapped[str] = mapped_column(String(40))
    party: Mapped[str] = mapped_column(String(10))  # shopper | seller
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int]
    height: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))

    claim: Mapped[Claim] = relationship(back_populates="evidence")
