"""Staff reads of personal data: a reason is required, and every read is audited.

A staff view that shows someone's KYC details, documents, address, phone or name
takes an ``AccessReason`` (the ``reason`` query parameter or form field, one of
``Reason``) and calls ``record_read`` with the fields it shows. A read without a
reason is refused with a 4xx before anything is shown. The audit entry names the
staff member, the record, the fields and the reason, so "who looked at my data,
and why" has an answer in the hash-chained log.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy.orm import Session

from reelshop.errors import InvalidInput
from reelshop.security import audit


class Reason(StrEnum):
    SUPPORT_TICKET = "support_ticket"
    FRAUD_REVIEW = "fraud_review"
    LEGAL_REQUEST = "legal_request"
    KYC_REVIEW = "kyc_review"
    CLAIM_DECISION = "claim_decision"
    FULFILMENT = "fulfilment"


REASON_LABELS: dict[Reason, str] = {
    Reason.SUPPORT_TICKET: "Answering a support ticket",
    Reason.FRAUD_REVIEW: "Fraud or abuse review",
    Reason.LEGAL_REQUEST: "Legal or regulator request",
    Reason.KYC_REVIEW: "Seller verification (KYC) review",
    Reason.CLAIM_DECISION: "Deciding a buyer-protection claim",
    Reason.FULFILMENT: "Shipping an order from our warehouse",
}
READ_ACTION = "pii.read"


def parse_reason(value: str | None) -> Reason:
    if not value:
        raise InvalidInput(
            "say why you are opening this person's data: add reason="
            + "|".join(r.value for r in Reason),
            field="reason",
        )
    try:
        return Reason(value)
    except ValueError:
        raise InvalidInput(
            f"unknown reason {value[:40]!r}; use one of " + ", ".join(r.value for r in Reason),
            field="reason",
        ) from None


def reason_query(
    reason: Annotated[
        str | None,
        Query(max_length=40, description="Why staff open this personal data (audited)"),
    ] = None,
) -> Reason:
    return parse_reason(reason)


AccessReason = Annotated[Reason, Depends(reason_query)]


def record_read(
    *,
    session: Session,
    staff_id: str,
    target_type: str,
    target_id: str,
    reason: Reason,
    fields: list[str],
    subject_user_id: str | None = None,
) -> None:
    """One audit entry per staff look at someone's personal data."""
    audit.record(
        session=session,
        actor_id=staff_id,
        action=READ_ACTION,
        target_type=target_type,
        target_id=target_id,
        reason=reason.value,
        detail={"fields": sorted(fields), "subject": subject_user_id},
    )
