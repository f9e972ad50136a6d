from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    outcome: str
    actor_id: str
    note: str | None
    market_codes: list[str]
    categories: list[str]
    created_at: datetime


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    status: str
    display_name: str
    legal_name: str
    registration_number: str
    country: str
    ships_from_country: str
    categories: list[str]
    market_codes: list[str]
    invitation_id: str | None
    seller_id: str | None
    submitted_at: datetime
    decided_at: datetime | None
    documents: list[DocumentOut]
    decisions: list[DecisionOut]


class ApplicationSummaryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str
    display_name: str
    country: str
    ships_from_country: str
    categories: list[str]
    market_codes: list[str]
    submitted_at: datetime


class QueueOut(BaseModel):
    total: int
    applications: list[ApplicationSummaryOut]


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    market_codes: list[str] = Field(min_length=1, max_length=50)
    categories: list[str] = Field(min_length=1, max_length=50)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


class InfoRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=3, max_length=2000)


class InvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    business_name: str = Field(min_length=2, max_length=160)
    market: str = Field(default="US", min_length=2, max_length=2)


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    business_name: str
    market_code: str
    invited_by: str
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime
    state: str


class IssuedInvitationOut(BaseModel):
    invitation: InvitationOut
    token: str = Field(description="Shown once: only its hash is stored")
    apply_url: str


class PublicSellerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    display_name: str
    ships_from_country: str
    rating_average: float | None
    rating_count: int
    on_time_rate: float | None
    joined_at: datetime
