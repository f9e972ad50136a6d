"""Buyer protection: a shopper's claim on an order, the seller's answer, the staff
decision, and the refund an upheld claim pays through the ledger.

A claim opens only inside its type's window (policy below), gives the seller a
response window, and escalates to staff when that passes unanswered. The decision
locks the claim row first: two staff upholding the same claim at once refund once,
the second gets a 409.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from reelshop.catalog import images as image_pipeline
from reelshop.checkout import service as checkout
from reelshop.checkout.models import Checkout, Order, OrderStatus
from reelshop.checkout.orders import lock_order
from reelshop.db import utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.ids import looks_like
from reelshop.logistics.models import ShipByDeadline
from reelshop.money import Money
from reelshop.notifications import service as notifications
from reelshop.outbox.service import emit
from reelshop.payments import service as payments
from reelshop.payments.provider import PaymentProvider
from reelshop.security import audit, keys
from reelshop.sellers.models import SellerProfile
from reelshop.storage import get_storage, new_key
from reelshop.trust import service as trust
from reelshop.trust.claim_models import (
    DECIDED_STATUSES,
    OPEN_STATUSES,
    Claim,
    ClaimEvidence,
    ClaimOutcome,
    ClaimStatus,
    ClaimType,
)

SEALED_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ClaimWindow:
    """When a claim of one type may be opened, relative to its anchor.

    ``not_received`` is anchored on the promised delivery date (ship-by + the shipping
    method's longest transit); the others on the delivery scan.
    """

    anchor: str  # "promised_delivery" | "delivered"
    opens_after: timedelta
    closes_after: timedelta


@dataclass(frozen=True)
class ClaimPolicy:
    windows: dict[ClaimType, ClaimWindow]
    seller_response_window: timedelta = timedelta(days=3)
    default_transit_days: int = 10  # when the market has no shipping rate for the method
    default_handling_days: int = 3  # when the order has no ship-by deadline
    max_description_chars: int = 2000
    max_response_chars: int = 2000
    max_evidence_per_party: int = 6


POLICY = ClaimPolicy(
    windows={
        ClaimType.NOT_RECEIVED: ClaimWindow(
            "promised_delivery", timedelta(days=2), timedelta(days=30)
        ),
        ClaimType.COUNTERFEIT: ClaimWindow("delivered", timedelta(0), timedelta(days=15)),
        ClaimType.NOT_AS_DESCRIBED: ClaimWindow("delivered", timedelta(0), timedelta(days=15)),
        ClaimType.DAMAGED: ClaimWindow("delivered", timedelta(0), timedelta(days=15)),
    }
)

TYPE_LABEL = {
    ClaimType.NOT_RECEIVED: "Item not received",
    ClaimType.COUNTERFEIT: "Counterfeit item",
    ClaimType.NOT_AS_DESCRIBED: "Not as described",
    ClaimType.DAMAGED: "Arrived damaged",
}
CLAIMABLE_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
)


@dataclass(frozen=True)
class ClaimStats:
    opened: int
    upheld: int
    upheld_order_ids: list[str]


@dataclass(frozen=True)
class Window:
    opens_at: datetime | None
    closes_at: datetime | None

    def contains(self, now: datetime) -> bool:
        return (
            self.opens_at is not None
            and self.closes_at is not None
            and self.opens_at <= now <= self.closes_at
        )


# --- windows ----------------------------------------------------------------------------------


def promised_delivery(*, session: Session, order: Order) -> datetime | None:
    """The latest day the shopper was told to expect the parcel; None before payment."""
    if order.paid_at is None:
        return None
    deadline = session.get(ShipByDeadline, order.id)
    ship_by = (
        deadline.ship_by
        if deadline is not None
        else order.paid_at + timedelta(days=POLICY.default_handling_days)
    )
    row = session.get(Checkout, order.checkout_id)
    rates = checkout.shipping_rates(session=session, market_code=row.market_code) if row else {}
    rate = rates.get(order.shipping_method)
    transit = rate.max_days if rate is not None else POLICY.default_transit_days
    return ship_by + timedelta(days=transit)


def claim_window(*, session: Session, order: Order, claim_type: ClaimType) -> Window:
    window = POLICY.windows[claim_type]
    anchor = (
        promised_delivery(session=session, order=order)
        if window.anchor == "promised_delivery"
        else order.delivered_at
    )
    if anchor is None:
        return Window(None, None)
    return Window(anchor + window.opens_after, anchor + window.closes_after)


def _parse_type(value: str) -> ClaimType:
    try:
        return ClaimType(value)
    except ValueError:
        raise InvalidInput(
            f"the claim type is one of {', '.join(t.value for t in ClaimType)}",
            field="claim_type",
        ) from None


def available_types(
    *, session: Session, order: Order, now: datetime | None = None
) -> dict[ClaimType, Window]:
    """Claim types the shopper could open on this order right now, with their windows."""
    now = now or utcnow()
    if order.status not in CLAIMABLE_STATUSES:
        return {}
    taken = set(session.scalars(select(Claim.claim_type).where(Claim.order_id == order.id)))
    found = {}
    for claim_type in ClaimType:
        if claim_type.value in taken:
            continue
        window = claim_window(session=session, order=order, claim_type=claim_type)
        if window.contains(now):
            found[claim_type] = window
    return found


# --- reading ----------------------------------------------------------------------------------


def _get(session: Session, claim_id: str) -> Claim | None:
    return session.get(Claim, claim_id) if looks_like("clm", claim_id) else None


def _lock_claim(session: Session, claim_id: str) -> Claim:
    if not looks_like("clm", claim_id):
        raise NotFound("no such claim")
    claim = session.scalars(
        select(Claim)
        .where(Claim.id == claim_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if claim is None:
        raise NotFound("no such claim")
    return claim


def shopper_claim(*, session: Session, shopper_id: str, claim_id: str) -> Claim:
    claim = _get(session, claim_id)
    if claim is None or claim.shopper_id != shopper_id:
        raise NotFound("no such claim")
    return claim


def seller_claim(*, session: Session, seller_id: str, claim_id: str) -> Claim:
    claim = _get(session, claim_id)
    if claim is None or claim.seller_id != seller_id:
        raise NotFound("no such claim")
    return claim


def staff_claim(*, session: Session, claim_id: str) -> Claim:
    claim = _get(session, claim_id)
    if claim is None:
        raise NotFound("no such claim")
    return claim


def order_claims(*, session: Session, order_id: str) -> list[Claim]:
    return list(
        session.scalars(
            select(Claim).where(Claim.order_id == order_id).order_by(Claim.created_at)
        ).all()
    )


def shopper_claims(*, session: Session, shopper_id: str, limit: int = 100) -> list[Claim]:
    return list(
        session.scalars(
            select(Claim)
            .where(Claim.shopper_id == shopper_id)
            .order_by(Claim.created_at.desc(), Claim.id)
            .limit(limit)
        ).all()
    )


def seller_claims(
    *, session: Session, seller_id: str, open_only: bool = False, limit: int = 100
) -> list[Claim]:
    query = select(Claim).where(Claim.seller_id == seller_id)
    if open_only:
        query = query.where(Claim.status.in_(OPEN_STATUSES))
    return list(session.scalars(query.order_by(Claim.respond_by, Claim.id).limit(limit)).all())


def staff_queue(*, session: Session, limit: int = 200) -> list[Claim]:
    """Claims waiting for a decision: escalated first, then answered, oldest first."""
    rows = session.scalars(
        select(Claim)
        .where(Claim.status.in_(OPEN_STATUSES))
        .order_by(Claim.created_at, Claim.id)
        .limit(limit)
    ).all()
    rank = {ClaimStatus.ESCALATED: 0, ClaimStatus.AWAITING_STAFF: 1, ClaimStatus.AWAITING_SELLER: 2}
    return sorted(rows, key=lambda c: rank.get(ClaimStatus(c.status), 3))


def recent_decisions(*, session: Session, limit: int = 50) -> list[Claim]:
    return list(
        session.scalars(
            select(Claim)
            .where(Claim.status.in_(DECIDED_STATUSES))
            .order_by(Claim.decided_at.desc(), Claim.id)
            .limit(limit)
        ).all()
    )


def seller_claim_stats(*, session: Session, seller_id: str, since: datetime) -> ClaimStats:
    """Claims opened against the seller since ``since``, and those upheld since then
    (the performance score's input)."""
    opened = session.scalar(
        select(func.count())
        .select_from(Claim)
        .where(Claim.seller_id == seller_id, Claim.created_at >= since)
    )
    upheld_orders = session.scalars(
        select(Claim.order_id)
        .where(
            Claim.seller_id == seller_id,
            Claim.status == ClaimStatus.UPHELD,
            Claim.decided_at >= since,
        )
        .order_by(Claim.decided_at, Claim.id)
    ).all()
    return ClaimStats(
        opened=int(opened or 0),
        upheld=len(upheld_orders),
        upheld_order_ids=list(dict.fromkeys(upheld_orders)),
    )


# --- notifications ---------------------------------------


def _notify(session: Session, *, user_id: str, kind: str, title: str, body: str, link: str) -> None:
    notifications.notify(
        session=session, user_id=user_id, kind=kind, title=title, body=body, link=link
    )


# --- opening and answering --------------------------------------------------------------------


def open_claim(
    *,
    session: Session,
    shopper_id: str,
    order_id: str,
    claim_type: str,
    description: str,
    order_line_id: str | None = None,
    now: datetime | None = None,
) -> Claim:
    now = now or utcnow()
    kind = _parse_type(claim_type)
    description = description.strip()
    if len(description) < 10:
        raise InvalidInput("tell us what happened (at least 10 characters)", field="description")
    if len(description) > POLICY.max_description_chars:
        raise InvalidInput(
            f"a description is at most {POLICY.max_description_chars} characters",
            field="description",
        )
    order = checkout.shopper_order(session=session, shopper_id=shopper_id, order_id=order_id)
    order = lock_order(session=session, order_id=order.id)
    if order_line_id is not None and order_line_id not in {line.id for line in order.lines}:
        raise NotFound("no such order line", field="order_line_id")
    if order.status not in CLAIMABLE_STATUSES:
        raise Conflict(f"a {order.status} order cannot be claimed on", status=order.status)
    if session.scalars(
        select(Claim.id).where(Claim.order_id == order.id, Claim.claim_type == kind)
    ).first():
        raise Conflict("you already have this kind of claim on this order")
    window = claim_window(session=session, order=order, claim_type=kind)
    if not window.contains(now):
        if window.opens_at is None:
            detail = (
                "this claim can be opened once the order is delivered"
                if kind != ClaimType.NOT_RECEIVED
                else "this claim can be opened once the order is paid"
            )
        elif now < window.opens_at:
            detail = f"this claim can be opened from {window.opens_at:%b %d, %Y}"
        else:
            detail = f"the window for this claim closed on {window.closes_at:%b %d, %Y}"
        raise Conflict(
            detail,
            opens_at=window.opens_at.isoformat() if window.opens_at else None,
            closes_at=window.closes_at.isoformat() if window.closes_at else None,
        )
    claim = Claim(
        order_id=order.id,
        shopper_id=shopper_id,
        seller_id=order.seller_id,
        order_line_id=order_line_id,
        claim_type=kind,
        description=description,
        respond_by=now + POLICY.seller_response_window,
        currency=order.currency,
        created_at=now,
        updated_at=now,
    )
    session.add(claim)
    session.flush()
    emit(
        session=session,
        topic="claim.opened",
        subject_id=claim.id,
        payload={
            "claim_id": claim.id,
            "order_id": order.id,
            "seller_id": order.seller_id,
            "claim_type": kind.value,
            "respond_by": claim.respond_by.isoformat(),
        },
    )
    seller = session.get(SellerProfile, order.seller_id)
    if seller is not None:
        _notify(
            session,
            user_id=seller.user_id,
            kind="claim.opened",
            title=f"New claim: {TYPE_LABEL[kind].lower()}",
            body=f"A shopper opened a claim on order {order.id}. Answer by "
            f"{claim.respond_by:%b %d %H:%M} UTC or staff decide without you.",
            link=f"/seller/claims/{claim.id}",
        )
    return claim


def _seal_context(storage_key: str) -> str:
    return f"claim_evidence.content:{storage_key}"


def add_evidence(
    *,
    session: Session,
    claim: Claim,
    uploaded_by: str,
    party: str,
    data: bytes,
) -> ClaimEvidence:
    """Re-encode the photo (drops EXIF/GPS), seal it, store it. Only while undecided."""
    claim = _lock_claim(session, claim.id)
    if claim.status not in OPEN_STATUSES:
        raise Conflict("this claim is decided; evidence is closed")
    mine = sum(1 for e in claim.evidence if e.party == party)
    if mine >= POLICY.max_evidence_per_party:
        raise Conflict(f"at most {POLICY.max_evidence_per_party} photos per side")
    processed = image_pipeline.process(data)
    key = new_key("claims", ".webp.sealed")
    sealed = keys.cipher().encrypt(
        base64.b64encode(processed.data).decode(), context=_seal_context(key)
    )
    get_storage().put(key, sealed.encode(), content_type=SEALED_CONTENT_TYPE)
    evidence = ClaimEvidence(
        uploaded_by=uploaded_by,
        party=party,
        storage_key=key,
        content_type=processed.content_type,
        width=processed.width,
        height=processed.height,
        sha256=hashlib.sha256(processed.data).hexdigest(),
    )
    claim.evidence.append(evidence)
    claim.updated_at = utcnow()
    session.flush()
    return evidence


def evidence_bytes(*, claim: Claim, evidence_id: str) -> tuple[bytes, str]:
    """The unsealed photo of a claim the caller may already see."""
    for evidence in claim.evidence:
        if evidence.id == evidence_id:
            sealed = get_storage().get(evidence.storage_key).decode()
            data = base64.b64decode(
                keys.cipher().decrypt(sealed, context=_seal_context(evidence.storage_key))
            )
            return data, evidence.content_type
    raise NotFound("no such evidence")


def seller_respond(
    *,
    session: Session,
    seller_id: str,
    claim_id: str,
    response: str,
    now: datetime | None = None,
) -> Claim:
    """The seller's one answer; late answers (after escalation) are still recorded."""
    now = now or utcnow()
    seller_claim(session=session, seller_id=seller_id, claim_id=claim_id)
    claim = _lock_claim(session, claim_id)
    response = response.strip()
    if len(response) < 3:
        raise InvalidInput("write a response", field="response")
    if len(response) > POLICY.max_response_chars:
        raise InvalidInput(
            f"a response is at most {POLICY.max_response_chars} characters", field="response"
        )
    if claim.status not in OPEN_STATUSES:
        raise Conflict("this claim is already decided")
    if claim.seller_response is not None:
        raise Conflict("you have already responded to this claim")
    claim.seller_response = response
    claim.seller_responded_at = now
    if claim.status == ClaimStatus.AWAITING_SELLER:
        claim.status = ClaimStatus.AWAITING_STAFF
    claim.updated_at = now
    session.flush()
    return claim


def escalate_overdue(*, session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """Hand to staff every claim whose seller let the response window pass."""
    now = now or utcnow()
    due = session.scalars(
        select(Claim)
        .where(Claim.status == ClaimStatus.AWAITING_SELLER, Claim.respond_by < now)
        .order_by(Claim.respond_by, Claim.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for claim in due:
        claim.status = ClaimStatus.ESCALATED
        claim.escalated_at = now
        claim.updated_at = now
        emit(
            session=session,
            topic="claim.escalated",
            subject_id=claim.id,
            payload={
                "claim_id": claim.id,
                "order_id": claim.order_id,
                "seller_id": claim.seller_id,
            },
        )
    session.flush()
    return len(due)


# --- the decision -----------------------------------------------------------------------------


def _take_down_and_strike(session: Session, claim: Claim, actor_id: str) -> None:
    """An upheld counterfeit claim takes the listing down and strikes the seller
    (``trust.service``, the moderation side of this package)."""
    ref = f"claim:{claim.id}"
    product_ids = {
        line.product_id
        for line in checkout.order_lines(session=session, order_id=claim.order_id)
        if claim.order_line_id is None or line.id == claim.order_line_id
    }
    for product_id in sorted(product_ids):
        trust.take_down_listing(
            session=session,
            product_id=product_id,
            actor_id=actor_id,
            reason="counterfeit claim upheld",
            ref=ref,
        )
    trust.add_strike(
        session=session,
        seller_id=claim.seller_id,
        reason="counterfeit claim upheld",
        ref=ref,
        actor_id=actor_id,
    )


def decide_claim(
    *,
    session: Session,
    provider: PaymentProvider,
    claim_id: str,
    actor_id: str,
    outcome: str,
    note: str,
    amount: int | None = None,
    now: datetime | None = None,
) -> Claim:
    """Uphold (fully or in part) or reject. Upholding refunds through the ledger: from
    escrow before settlement, as a seller debit after."""
    now = now or utcnow()
    try:
        decision = ClaimOutcome(outcome)
    except ValueError:
        raise InvalidInput(
            f"the outcome is one of {', '.join(o.value for o in ClaimOutcome)}", field="outcome"
        ) from None
    note = note.strip()
    if len(note) < 3:
        raise InvalidInput("say why (a short note for the audit trail)", field="note")
    claim = _lock_claim(session, claim_id)
    if claim.status in DECIDED_STATUSES:
        raise Conflict("this claim is already decided", status=claim.status)
    order = session.get(Order, claim.order_id)
    assert order is not None
    refund_amount = 0
    if decision != ClaimOutcome.REJECT:
        remaining = order.total_amount - order.refunded_amount
        if decision == ClaimOutcome.UPHOLD_FULL:
            refund_amount = remaining
        else:
            if amount is None or not 0 < amount <= remaining:
                raise InvalidInput(
                    f"a partial refund is between 0.01 and {Money(remaining, order.currency)}",
                    field="amount",
                )
            refund_amount = amount
        if refund_amount <= 0:
            raise Conflict("this order has already been refunded in full")
        refund = payments.refund_order(
            session=session,
            provider=provider,
            order_id=order.id,
            amount=Money(refund_amount, order.currency),
            reason=f"claim {claim.id} upheld ({claim.claim_type})",
            actor_id=actor_id,
        )
        claim.refund_id = refund.id
        claim.status = ClaimStatus.UPHELD
    else:
        claim.status = ClaimStatus.REJECTED
    claim.outcome = decision
    claim.refund_amount = refund_amount
    claim.decision_note = note[:500]
    claim.decided_by = actor_id
    claim.decided_at = now
    claim.updated_at = now
    audit.record(
        session=session,
        actor_id=actor_id,
        action="claim.decide",
        target_type="claim",
        target_id=claim.id,
        reason=claim.decision_note,
        detail={
            "outcome": decision.value,
            "refund_amount": refund_amount,
            "currency": claim.currency,
            "refund_id": claim.refund_id,
            "claim_type": claim.claim_type,
        },
    )
    emit(
        session=session,
        topic="claim.decided",
        subject_id=claim.id,
        payload={
            "claim_id": claim.id,
            "order_id": claim.order_id,
            "seller_id": claim.seller_id,
            "claim_type": claim.claim_type,
            "outcome": decision.value,
            "refund_amount": refund_amount,
            "currency": claim.currency,
        },
    )
    if claim.status == ClaimStatus.UPHELD and claim.claim_type == ClaimType.COUNTERFEIT:
        _take_down_and_strike(session, claim, actor_id)
    upheld = claim.status == ClaimStatus.UPHELD
    _notify(
        session,
        user_id=claim.shopper_id,
        kind="claim.decided",
        title="Your claim was upheld" if upheld else "Your claim was not upheld",
        body=(
            f"We refunded {Money(refund_amount, claim.currency)} to your payment method."
            if upheld
            else "After reviewing the evidence we could not uphold your claim."
        )
        + f" Note from our team: {claim.decision_note}",
        link=f"/claims/{claim.id}",
    )
    session.flush()
    return claim


def claims_with_evidence(*, session: Session, claim_ids: list[str]) -> list[Claim]:
    return list(
        session.scalars(
            select(Claim).where(Claim.id.in_(claim_ids)).options(selectinload(Claim.evidence))
        ).all()
    )
