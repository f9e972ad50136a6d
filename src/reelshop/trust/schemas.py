"""API shapes of the brand registry, reports, moderation, strikes and appeals."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reelshop.trust.models import (
    BrandAuthorisation,
    BrandImage,
    BrandPriceRange,
    BrandRegistration,
    InfringementComplaint,
    ListingAssessment,
    ListingReport,
    ModerationCase,
    Strike,
    StrikeAppeal,
)

Note = Field(default="", max_length=2000)


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["counterfeit", "prohibited", "misleading"]
    reason: str = Field(min_length=1, max_length=1000)


class ReportOut(BaseModel):
    id: str
    product_id: str
    kind: str
    reason: str
    created_at: datetime

    @classmethod
    def of(cls, r: ListingReport) -> ReportOut:
        return cls(
            id=r.id, product_id=r.product_id, kind=r.kind, reason=r.reason, created_at=r.created_at
        )


class SignalOut(BaseModel):
    kind: str
    points: int
    summary: str
    evidence: dict[str, Any]


class AssessmentOut(BaseModel):
    score: int
    decision: str
    brand_id: str | None
    signals: list[SignalOut]
    assessed_at: datetime

    @classmethod
    def of(cls, a: ListingAssessment) -> AssessmentOut:
        return cls(
            score=a.score,
            decision=a.decision,
            brand_id=a.brand_id,
            signals=[SignalOut(**s) for s in a.signals],
            assessed_at=a.assessed_at,
        )


class CaseSummaryOut(BaseModel):
    id: str
    product_id: str
    product_title: str
    seller_id: str
    seller_name: str
    status: str
    source: str
    risk_score: int
    gmv_exposure_amount: int
    currency: str
    created_at: datetime


class CaseOut(BaseModel):
    id: str
    product_id: str
    seller_id: str
    status: str
    source: str
    risk_score: int
    gmv_exposure_amount: int
    currency: str
    moderation_status: str
    decision_note: str
    decided_by: str | None
    decided_at: datetime | None
    assessment: AssessmentOut | None
    reports: list[ReportOut]

    @classmethod
    def of(
        cls,
        case: ModerationCase,
        *,
        moderation_status: str,
        assessment: ListingAssessment | None,
        reports: list[ListingReport],
    ) -> CaseOut:
        return cls(
            id=case.id,
            product_id=case.product_id,
            seller_id=case.seller_id,
            status=case.status,
            source=case.source,
            risk_score=case.risk_score,
            gmv_exposure_amount=case.gmv_exposure_amount,
            currency=case.currency,
            moderation_status=moderation_status,
            decision_note=case.decision_note,
            decided_by=case.decided_by,
            decided_at=case.decided_at,
            assessment=AssessmentOut.of(assessment) if assessment else None,
            reports=[ReportOut.of(r) for r in reports],
        )


class CaseDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["approve", "take_down", "escalate"]
    note: str = Note
    strike: bool = False


class StrikeOut(BaseModel):
    id: str
    seller_id: str
    ref: str
    reason: str
    active: bool
    suspended_seller: bool
    created_at: datetime

    @classmethod
    def of(cls, s: Strike) -> StrikeOut:
        return cls(
            id=s.id,
            seller_id=s.seller_id,
            ref=s.ref,
            reason=s.reason,
            active=s.active,
            suspended_seller=s.suspended_seller,
            created_at=s.created_at,
        )


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statement: str = Field(min_length=1, max_length=2000)


class AppealDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grant: bool
    note: str = Field(min_length=1, max_length=2000)


class AppealOut(BaseModel):
    id: str
    strike_id: str
    seller_id: str
    statement: str
    status: str
    decision_note: str
    created_at: datetime

    @classmethod
    def of(cls, a: StrikeAppeal) -> AppealOut:
        return cls(
            id=a.id,
            strike_id=a.strike_id,
            seller_id=a.seller_id,
            statement=a.statement,
            status=a.status,
            decision_note=a.decision_note,
            created_at=a.created_at,
        )


class BrandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    trademark_number: str = Field(min_length=1, max_length=40)
    trademark_classes: list[int] = Field(default_factory=list, max_length=45)
    aliases: list[str] = Field(default_factory=list, max_length=30)


class OwnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(min_length=1, max_length=40)
    note: str = Field(min_length=1, max_length=1000)


class MarksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    aliases: list[str] = Field(default_factory=list, max_length=30)
    trademark_classes: list[int] | None = Field(default=None, max_length=45)


class PriceRangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_line: str = Field(min_length=1, max_length=120)
    keywords: list[str] = Field(default_factory=list, max_length=20)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    min_amount: int = Field(ge=1, le=10**10)
    max_amount: int = Field(ge=1, le=10**10)


class PriceRangeOut(BaseModel):
    id: str
    product_line: str
    keywords: list[str]
    currency: str
    min_amount: int
    max_amount: int

    @classmethod
    def of(cls, r: BrandPriceRange) -> PriceRangeOut:
        return cls(
            id=r.id,
            product_line=r.product_line,
            keywords=list(r.keywords),
            currency=r.currency,
            min_amount=r.min_amount,
            max_amount=r.max_amount,
        )


class OfficialImageOut(BaseModel):
    id: str
    label: str
    url: str | None
    phash: str

    @classmethod
    def of(cls, i: BrandImage) -> OfficialImageOut:
        return cls(
            id=i.id,
            label=i.label,
            url=f"/media/{i.storage_key}" if i.storage_key else None,
            phash=i.phash,
        )


class BrandOut(BaseModel):
    brand_id: str
    name: str
    trademark_number: str
    trademark_classes: list[int]
    aliases: list[str]
    price_ranges: list[PriceRangeOut] = []
    official_images: list[OfficialImageOut] = []

    @classmethod
    def of(
        cls,
        reg: BrandRegistration,
        name: str,
        ranges: list[BrandPriceRange] | None = None,
        images: list[BrandImage] | None = None,
    ) -> BrandOut:
        return cls(
            brand_id=reg.brand_id,
            name=name,
            trademark_number=reg.trademark_number,
            trademark_classes=list(reg.trademark_classes),
            aliases=list(reg.aliases),
            price_ranges=[PriceRangeOut.of(r) for r in ranges or []],
            official_images=[OfficialImageOut.of(i) for i in images or []],
        )


class AuthorisationOut(BaseModel):
    id: str
    brand_id: str
    seller_id: str
    status: str
    statement: str
    document_name: str | None
    decision_note: str
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, a: BrandAuthorisation) -> AuthorisationOut:
        return cls(
            id=a.id,
            brand_id=a.brand_id,
            seller_id=a.seller_id,
            status=a.status,
            statement=a.statement,
            document_name=a.document_name,
            decision_note=a.decision_note,
            created_at=a.created_at,
            decided_at=a.decided_at,
        )


class AuthorisationDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool
    note: str = Note


class MarkHitOut(BaseModel):
    kind: str
    id: str
    text: str
    seller_id: str | None
    moderation_status: str | None


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: str | None = Field(default=None, max_length=40)
    video_id: str | None = Field(default=None, max_length=40)
    description: str = Field(min_length=1, max_length=4000)


class ComplaintDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uphold: bool
    note: str = Field(min_length=1, max_length=2000)


class ComplaintOut(BaseModel):
    id: str
    brand_id: str
    product_id: str | None
    video_id: str | None
    description: str
    status: str
    decision_note: str
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, c: InfringementComplaint) -> ComplaintOut:
        return cls(
            id=c.id,
            brand_id=c.brand_id,
            product_id=c.product_id,
            video_id=c.video_id,
            description=c.description,
            status=c.status,
            decision_note=c.decision_note,
            created_at=c.created_at,
            decided_at=c.decided_at,
        )
