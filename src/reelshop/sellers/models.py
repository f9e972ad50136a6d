from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reelshop.db import Base, CreatedAtMixin
from reelshop.ids import new_id
from reelshop.security.fields import Encrypted


class SellerStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class SellerProfile(CreatedAtMixin, Base):
    """The shop a seller account runs: what shoppers see, and what vetting approved."""

    __tablename__ = "seller_profiles"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("sel"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    legal_name: Mapped[str] = mapped_column(Encrypted("seller_profiles.legal_name"))
    registration_number: Mapped[str | None] = mapped_column(
        Encrypted("seller_profiles.registration_number"), default=None
    )
    country: Mapped[str] = mapped_column(String(2))  # where the business is registered
    ships_from_country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    market_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=SellerStatus.PENDING, index=True)
    # Trust signals shoppers see; filled in by reviews and delivery performance later.
    rating_average: Mapped[float | None] = mapped_column(default=None)
    rating_count: Mapped[int] = mapped_column(default=0, server_default="0")
    on_time_rate: Mapped[float | None] = mapped_column(default=None)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    INFO_REQUESTED = "info_requested"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"
    REJECTED = "rejected"


REVIEWABLE = (ApplicationStatus.SUBMITTED, ApplicationStatus.RESUBMITTED)


class DocumentKind(StrEnum):
    BUSINESS_LICENCE = "business_licence"
    IDENTITY = "identity"
    BRAND_AUTHORISATION = "brand_authorisation"


class SellerInvitation(CreatedAtMixin, Base):
    """A staff invitation to apply in an invite-only market: single use, expiring.

    Only the SHA-256 of the token is kept; the token itself is shown once to staff.
    """

    __tablename__ = "seller_invitations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("inv"))
    email_hash: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(Encrypted("seller_invitations.email"))
    business_name: Mapped[str] = mapped_column(String(160))
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class SellerApplication(CreatedAtMixin, Base):
    """A business asking to sell: its details, documents and where vetting stands."""

    __tablename__ = "seller_applications"
    __table_args__ = (Index("ix_seller_applications_queue", "status", "submitted_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("apl"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), unique=True)
    invitation_id: Mapped[str | None] = mapped_column(
        ForeignKey("seller_invitations.id"), unique=True, default=None
    )
    display_name: Mapped[str] = mapped_column(String(120))
    legal_name: Mapped[str] = mapped_column(Encrypted("seller_applications.legal_name"))
    registration_number: Mapped[str] = mapped_column(
        Encrypted("seller_applications.registration_number")
    )
    country: Mapped[str] = mapped_column(String(2), index=True)
    ships_from_country: Mapped[str] = mapped_column(String(2))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    market_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=ApplicationStatus.SUBMITTED)
    # When it last entered the queue: the queue is served oldest first by this.
    submitted_at: Mapped[datetime]
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("seller_profiles.id"), default=None)

    documents: Mapped[list[SellerDocument]] = relationship(
        back_populates="application", order_by="SellerDocument.created_at"
    )
    decisions: Mapped[list[ApplicationDecision]] = relationship(
        back_populates="application", order_by="ApplicationDecision.created_at"
    )


class SellerDocument(CreatedAtMixin, Base):
    """An uploaded KYC document. The bytes are sealed in storage; name and key are sealed here."""

    __tablename__ = "seller_documents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("doc"))
    application_id: Mapped[str] = mapped_column(
        ForeignKey("seller_applications.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(Encrypted("seller_documents.filename"))
    storage_key: Mapped[str] = mapped_column(Encrypted("seller_documents.storage_key"))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))

    application: Mapped[SellerApplication] = relationship(back_populates="documents")


class ApplicationDecision(CreatedAtMixin, Base):
    """One step in an application's history: who did what, when, and why."""

    __tablename__ = "seller_application_decisions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("dec"))
    application_id: Mapped[str] = mapped_column(
        ForeignKey("seller_applications.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(String(16))  # an ApplicationStatus value
    note: Mapped[str | None] = mapped_column(Text, default=None)
    market_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)

    application: Mapped[SellerApplication] = relationship(back_populates="decisions")
