"""JSON API of buyer protection: shoppers open claims on their orders and add evidence,
sellers answer claims on their shop's orders, support staff decide (an upheld claim
refunds through the ledger)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy.orm import Session

from reelshop.accounts.models import StaffPermission
from reelshop.catalog.images import MAX_BYTES
from reelshop.errors import PAYLOAD_TOO_LARGE, ProblemError, problem_responses
from reelshop.payments import service as payments
from reelshop.security.authz import (
    AppSettings,
    DbSession,
    Principal,
    ReadDbSession,
    SellerPrincipal,
    ShopperPrincipal,
    require_staff,
)
from reelshop.sellers import service as sellers
from reelshop.trust import claims
from reelshop.trust.claim_models import Claim, ClaimEvidence

router = APIRouter(tags=["claims"])

SupportStaff = Annotated[Principal, Depends(require_staff(StaffPermission.SUPPORT))]
ClaimTypeName = Literal["not_received", "counterfeit", "not_as_described", "damaged"]


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claim_type: ClaimTypeName
    description: str = Field(min_length=10, max_length=claims.POLICY.max_description_chars)
    order_line_id: str | None = Field(default=None, min_length=1, max_length=40)


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response: str = Field(min_length=3, max_length=claims.POLICY.max_response_chars)


class DecisionIn(BaseModel):
    """``amount`` (minor units of the order's currency) only for ``uphold_partial``."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["uphold_full", "uphold_partial", "reject"]
    note: str = Field(min_length=3, max_length=500)
    amount: StrictInt | None = Field(default=None, ge=1, le=10**10)


class EvidenceOut(BaseModel):
    id: str
    party: str
    url: str
    width: int
    height: int
    created_at: datetime

    @classmethod
    def of(cls, evidence: ClaimEvidence) -> EvidenceOut:
        return cls(
            id=evidence.id,
            party=evidence.party,
            url=f"/claims/{evidence.claim_id}/evidence/{evidence.id}",
            width=evidence.width,
            height=evidence.height,
            created_at=evidence.created_at,
        )


class ClaimOut(BaseModel):
    id: str
    order_id: str
    order_line_id: str | None
    claim_type: str
    status: str
    description: str
    respond_by: datetime
    seller_response: str | None
    seller_responded_at: datetime | None
    escalated_at: datetime | None
    outcome: str | None
    refund_amount: int
    currency: str
    decision_note: str | None
    decided_at: datetime | None
    created_at: datetime
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, claim: Claim) -> ClaimOut:
        return cls(
            id=claim.id,
            order_id=claim.order_id,
            order_line_id=claim.order_line_id,
            claim_type=claim.claim_type,
            status=claim.status,
            description=claim.description,
            respond_by=claim.respond_by,
            seller_response=claim.seller_response,
            seller_responded_at=claim.seller_responded_at,
            escalated_at=claim.escalated_at,
            outcome=claim.outcome,
            refund_amount=claim.refund_amount,
            currency=claim.currency,
            decision_note=claim.decision_note,
            decided_at=claim.decided_at,
            created_at=claim.created_at,
            evidence=[EvidenceOut.of(e) for e in claim.evidence],
        )


def _seller_id(session: Session, principal: Principal) -> str:
    return sellers.own_shop(session=session, user_id=principal.id).id


def _upload(file: UploadFile) -> bytes:
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ProblemError(
            f"images are at most {MAX_BYTES // (1024 * 1024)} MB", problem=PAYLOAD_TOO_LARGE
        )
    return data


@router.post(
    "/orders/{order_id}/claims",
    status_code=status.HTTP_201_CREATED,
    response_model=ClaimOut,
    summary="Open a buyer-protection claim on your order (inside the type's window)",
    responses=problem_responses(401, 404, 409, 422),
)
def open_claim(
    order_id: str, body: ClaimIn, principal: ShopperPrincipal, session: DbSession
) -> ClaimOut:
    claim = claims.open_claim(
        session=session,
        shopper_id=principal.id,
        order_id=order_id,
        claim_type=body.claim_type,
        description=body.description,
        order_line_id=body.order_line_id,
    )
    return ClaimOut.of(claim)


@router.get(
    "/claims",
    response_model=list[ClaimOut],
    summary="Your claims, newest first",
    responses=problem_responses(401),
)
def my_claims(principal: ShopperPrincipal, session: ReadDbSession) -> list[ClaimOut]:
    return [ClaimOut.of(c) for c in claims.shopper_claims(session=session, shopper_id=principal.id)]


@router.get(
    "/claims/{claim_id}",
    response_model=ClaimOut,
    summary="One of your claims, with the seller's response and the decision",
    responses=problem_responses(401, 404),
)
def my_claim(claim_id: str, principal: ShopperPrincipal, session: ReadDbSession) -> ClaimOut:
    return ClaimOut.of(
        claims.shopper_claim(session=session, shopper_id=principal.id, claim_id=claim_id)
    )


@router.post(
    "/claims/{claim_id}/evidence",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceOut,
    summary="Add a photo to your claim (re-encoded, then stored sealed)",
    responses=problem_responses(401, 404, 409, 413, 415, 422),
)
def add_shopper_evidence(
    claim_id: str,
    principal: ShopperPrincipal,
    session: DbSession,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
) -> EvidenceOut:
    claim = claims.shopper_claim(session=session, shopper_id=principal.id, claim_id=claim_id)
    evidence = claims.add_evidence(
        session=session, claim=claim, uploaded_by=principal.id, party="shopper", data=_upload(file)
    )
    return EvidenceOut.of(evidence)


@router.get(
    "/seller/claims",
    response_model=list[ClaimOut],
    summary="Claims on your shop's orders, soonest response deadline first",
    responses=problem_responses(401, 403),
)
def seller_claims(
    principal: SellerPrincipal, session: ReadDbSession, open_only: bool = False
) -> list[ClaimOut]:
    rows = claims.seller_claims(
        session=session, seller_id=_seller_id(session, principal), open_only=open_only
    )
    return [ClaimOut.of(c) for c in rows]


@router.get(
    "/seller/claims/{claim_id}",
    response_model=ClaimOut,
    summary="One claim on your shop's order",
    responses=problem_responses(401, 403, 404),
)
def seller_claim(claim_id: str, principal: SellerPrincipal, session: ReadDbSession) -> ClaimOut:
    return ClaimOut.of(
        claims.seller_claim(
            session=session, seller_id=_seller_id(session, principal), claim_id=claim_id
        )
    )


@router.post(
    "/seller/claims/{claim_id}/response",
    response_model=ClaimOut,
    summary="Answer a claim (once) before its response deadline",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def respond(
    claim_id: str, body: ResponseIn, principal: SellerPrincipal, session: DbSession
) -> ClaimOut:
    claim = claims.seller_respond(
        session=session,
        seller_id=_seller_id(session, principal),
        claim_id=claim_id,
        response=body.response,
    )
    return ClaimOut.of(claim)


@router.post(
    "/seller/claims/{claim_id}/evidence",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceOut,
    summary="Add a photo to your side of a claim (e.g. the parcel as packed)",
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
)
def add_seller_evidence(
    claim_id: str,
    principal: SellerPrincipal,
    session: DbSession,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
) -> EvidenceOut:
    claim = claims.seller_claim(
        session=session, seller_id=_seller_id(session, principal), claim_id=claim_id
    )
    evidence = claims.add_evidence(
        session=session, claim=claim, uploaded_by=principal.id, party="seller", data=_upload(file)
    )
    return EvidenceOut.of(evidence)


@router.get(
    "/staff/claims",
    response_model=list[ClaimOut],
    summary="Claims awaiting a decision: escalated first, then answered, then waiting",
    responses=problem_responses(401, 403),
)
def staff_queue(principal: SupportStaff, session: ReadDbSession) -> list[ClaimOut]:
    return [ClaimOut.of(c) for c in claims.staff_queue(session=session)]


@router.get(
    "/staff/claims/{claim_id}",
    response_model=ClaimOut,
    summary="One claim, for staff",
    responses=problem_responses(401, 403, 404),
)
def staff_claim(claim_id: str, principal: SupportStaff, session: ReadDbSession) -> ClaimOut:
    return ClaimOut.of(claims.staff_claim(session=session, claim_id=claim_id))


@router.post(
    "/staff/claims/{claim_id}/decision",
    response_model=ClaimOut,
    summary="Decide a claim: uphold in full or in part (refunds through the ledger) or reject",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def decide(
    claim_id: str,
    body: DecisionIn,
    principal: SupportStaff,
    session: DbSession,
    settings: AppSettings,
) -> ClaimOut:
    claim = claims.decide_claim(
        session=session,
        provider=payments.get_provider("simulated", settings),
        claim_id=claim_id,
        actor_id=principal.id,
        outcome=body.outcome,
        note=body.note,
        amount=body.amount,
    )
    return ClaimOut.of(claim)
