"""Tables of trust and safety: the brand registry, listing risk assessments, shopper
reports, the moderation queue, strikes and appeals.

Reviews and buyer-protection claims live in their own modules (``review_models``,
``claim_models``). Seller and product ids point along the dependency arrow (trust
stands on sellers and catalog), never the other way.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base, CreatedAtMixin, utcnow
from reelshop.ids import new_id


class BrandRegistration(CreatedAtMixin, Base):
    """A catalog brand registered by its owner: the marks and facts the risk rules use."""

    __tablename__ = "trust_brand_registrations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("brg"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id"), unique=True)
    # Common misspellings and other names of the mark ("Nikey", "Nke"); the brand's own
    # name comes from the catalog's brands row.
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    trademark_number: Mapped[str] = mapped_column(String(40))
    trademark_classes: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BrandOwner(CreatedAtMixin, Base):
    """A user whom staff verified as speaking for a brand. Being a brand owner is this
    record, not an account role: a brand's staff keep their shopper (or seller) account."""

    __tablename__ = "trust_brand_owners"
    __table_args__ = (UniqueConstraint("brand_id", "user_id", name="uq_trust_brand_owners"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("bow"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    verified_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    verification_note: Mapped[str] = mapped_column(Text, default="")


class BrandImage(CreatedAtMixin, Base):
    """An official product image: only its perceptual hashes are compared."""

    __tablename__ = "trust_brand_images"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("bim"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id"), index=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    storage_key: Mapped[str | None] = mapped_column(String(200), default=None)
    phash: Mapped[str] = mapped_column(String(16))  # 64-bit pHash of the whole image, hex
    # pHashes of centred crops (90 %, 80 %): a listing cropped from the official photo
    # matches one of them.
    variant_hashes: Mapped[list[str]] = mapped_column(JSON, default=list)


class BrandPriceRange(CreatedAtMixin, Base):
    """What a product line of the brand genuinely sells for, new."""

    __tablename__ = "trust_brand_price_ranges"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("bpr"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id"), index=True)
    product_line: Mapped[str] = mapped_column(String(120))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    currency: Mapped[str] = mapped_column(String(3))
    min_amount: Mapped[int]
    max_amount: Mapped[int]


class AuthorisationStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"


class BrandAuthorisation(CreatedAtMixin, Base):
    """A seller's right to sell a brand, asked for with a document, decided by the brand
    owner or staff. One row per brand and seller; a new request reuses it."""

    __tablename__ = "trust_brand_authorisations"
    __table_args__ = (
        UniqueConstraint("brand_id", "seller_id", name="uq_trust_brand_authorisations"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("bau"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id"), index=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("seller_profiles.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=AuthorisationStatus.REQUESTED)
    statement: Mapped[str] = mapped_column(Text, default="")
    document_key: Mapped[str | None] = mapped_column(String(200), default=None)
    document_name: Mapped[str | None] = mapped_column(String(120), default=None)
    document_type: Mapped[str | None] = mapped_column(String(40), default=None)
    document_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class ComplaintStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class InfringementComplaint(CreatedAtMixin, Base):
    """A brand owner's complaint against a listing or a video, tracked to a decision."""

    __tablename__ = "trust_infringement_complaints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("icp"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id"), index=True)
    filed_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id"), default=None)
    video_id: Mapped[str | None] = mapped_column(String(40), default=None)  # feed's, by id
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ComplaintStatus.OPEN, index=True)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class RiskDecision(StrEnum):
    PUBLISH = "publish"
    HOLD = "hold"
    BLOCK = "block"


class ListingAssessment(Base):
    """The latest counterfeit-risk assessment of a listing, with every signal's evidence."""

    __tablename__ = "trust_listing_assessments"

    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[int]
    decision: Mapped[str] = mapped_column(String(16))
    signals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    brand_id: Mapped[str | None] = mapped_column(ForeignKey("brands.id"), default=None)
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportKind(StrEnum):
    COUNTERFEIT = "counterfeit"
    PROHIBITED = "prohibited"
    MISLEADING = "misleading"


class ListingReport(CreatedAtMixin, Base):
    """A shopper's report of a listing; one per shopper, listing and kind."""

    __tablename__ = "trust_listing_reports"
    __table_args__ = (
        UniqueConstraint("product_id", "reporter_id", "kind", name="uq_trust_listing_reports"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("rpt"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    reporter_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)


class CaseStatus(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    APPROVED = "approved"
    TAKEN_DOWN = "taken_down"


OPEN_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.ESCALATED)


class ModerationCase(CreatedAtMixin, Base):
    """A listing waiting for (or decided by) a person.

    ``open_product_id`` equals ``product_id`` while the case is undecided and is None
    after: its unique index allows one undecided case per listing on both databases.
    """

    __tablename__ = "trust_moderation_cases"
    __table_args__ = (Index("ix_trust_moderation_cases_queue", "status", "risk_score"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("mcs"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    open_product_id: Mapped[str | None] = mapped_column(String(40), default=None, unique=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("seller_profiles.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN)
    source: Mapped[str] = mapped_column(String(16))  # risk | report | complaint | claim
    risk_score: Mapped[int] = mapped_column(default=0)
    gmv_exposure_amount: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Strike(CreatedAtMixin, Base):
    """One strike on a seller. ``ref`` (a case, claim or complaint id) makes it
    idempotent: the same reason never strikes twice."""

    __tablename__ = "trust_strikes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("stk"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("seller_profiles.id"), index=True)
    ref: Mapped[str] = mapped_column(String(80), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    suspended_seller: Mapped[bool] = mapped_column(default=False)


class AppealStatus(StrEnum):
    OPEN = "open"
    GRANTED = "granted"
    DENIED = "denied"


class StrikeAppeal(CreatedAtMixin, Base):
    """A seller's appeal of one strike; staff decide. Granting it lifts the strike and,
    when that leaves fewer than three, the suspension it caused."""

    __tablename__ = "trust_strike_appeals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("apl"))
    strike_id: Mapped[str] = mapped_column(ForeignKey("trust_strikes.id"), unique=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("seller_profiles.id"), index=True)
    statement: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=AppealStatus.OPEN)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")
