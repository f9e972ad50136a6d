"""Listing moderation states, the moderation queue, strikes and appeals.

Every change of a listing's moderation state goes through ``_set_moderation``: it
locks the product row, re-indexes it for search (so a held listing leaves search in
the same transaction) and emits ``listing.moderated``. Staff decisions and strikes go
to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.catalog import search_index
from reelshop.catalog.models import ModerationStatus, Product, Sku
from reelshop.db import insert_on_conflict, utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.ids import looks_like, new_id
from reelshop.inventory import service as inventory
from reelshop.outbox.service import emit
from reelshop.security import audit
from reelshop.sellers.models import SellerProfile, SellerStatus
from reelshop.trust.models import (
    OPEN_CASE_STATUSES,
    AppealStatus,
    CaseStatus,
    ModerationCase,
    Strike,
    StrikeAppeal,
)

LISTING_MODERATED = "listing.moderated"
SELLER_SUSPENDED = "seller.suspended"
SELLER_REINSTATED = "seller.approved"  # the catalog re-indexes a seller on this topic
STRIKES_TO_SUSPEND = 3
MAX_NOTE = 2000


def _audit(*, reason: str | None = None, **fields: Any) -> None:
    """The audit log keeps 200 characters of a reason; the full note stays on the row."""
    audit.record(reason=reason[:200] if reason else reason, **fields)


def _note(text: str, *, field: str = "reason", required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise InvalidInput(f"give a {field}", field=field)
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"the {field} is at most {MAX_NOTE} characters", field=field)
    return text


def lock_product(session: Session, product_id: str) -> Product:
    product = (
        session.scalars(select(Product).where(Product.id == product_id).with_for_update()).first()
        if looks_like("prd", product_id)
        else None
    )
    if product is None:
        raise NotFound("no such product")
    return product


def set_moderation(
    *,
    session: Session,
    product: Product,
    status: ModerationStatus,
    actor_id: str | None,
    reason: str,
) -> None:
    """Move a (locked) listing to ``status``; search and other domains follow."""
    previous = product.moderation_status
    if previous == status:
        return
    product.moderation_status = status
    session.flush()
    search_index.index_products(session=session, product_ids=[product.id])
    emit(
        session=session,
        topic=LISTING_MODERATED,
        payload={
            "product_id": product.id,
            "seller_id": product.seller_id,
            "from": previous,
            "to": status.value,
            "actor_id": actor_id,
            "reason": reason[:200],
        },
        subject_id=product.id,
    )


def gmv_exposure(*, session: Session, product: Product) -> int:
    """What the listing could still sell: each active variant's price times its stock."""
    skus = session.scalars(
        select(Sku).where(Sku.product_id == product.id, Sku.is_active.is_(True))
    ).all()
    stock = inventory.available(session=session, sku_ids=[s.id for s in skus])
    return sum(s.price_amount * max(stock.get(s.id, 0), 0) for s in skus)


def open_case(
    *, session: Session, product: Product, source: str, risk_score: int
) -> ModerationCase:
    """The listing's undecided case, opened if there is none (one per listing)."""
    exposure = gmv_exposure(session=session, product=product)
    session.execute(
        insert_on_conflict(session, ModerationCase)
        .values(
            id=new_id("mcs"),
            product_id=product.id,
            open_product_id=product.id,
            seller_id=product.seller_id,
            status=CaseStatus.OPEN,
            source=source,
            risk_score=risk_score,
            gmv_exposure_amount=exposure,
            currency=product.currency,
            decision_note="",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["open_product_id"])
    )
    case = session.scalars(
        select(ModerationCase)
        .where(ModerationCase.open_product_id == product.id)
        .execution_options(populate_existing=True)
    ).one()
    if case.risk_score != risk_score or case.gmv_exposure_amount != exposure:
        case.risk_score = max(risk_score, 0)
        case.gmv_exposure_amount = exposure
    return case


def _close_open_case(
    session: Session, product_id: str, status: CaseStatus, actor_id: str | None, note: str
) -> ModerationCase | None:
    case = session.scalars(
        select(ModerationCase).where(ModerationCase.open_product_id == product_id).with_for_update()
    ).first()
    if case is None:
        return None
    case.status = status
    case.open_product_id = None
    case.decided_by = actor_id
    case.decided_at = utcnow()
    case.decision_note = note
    return case


# --- the contract other domains call -----------------------------------------------------


def take_down_listing(
    *,
    session: Session,
    product_id: str,
    actor_id: str | None,
    reason: str,
    ref: str | None = None,
) -> None:
    """Remove a listing from every shopper path for good (until staff approve it again).
    Closes its open case; idempotent (a second take-down changes nothing)."""
    reason = _note(reason)
    product = lock_product(session, product_id)
    if product.moderation_status == ModerationStatus.TAKEN_DOWN:
        return
    _close_open_case(session, product.id, CaseStatus.TAKEN_DOWN, actor_id, reason)
    set_moderation(
        session=session,
        product=product,
        status=ModerationStatus.TAKEN_DOWN,
        actor_id=actor_id,
        reason=reason,
    )
    _audit(
        session=session,
        actor_id=actor_id,
        action="trust.listing.take_down",
        target_type="product",
        target_id=product.id,
        reason=reason,
        detail={"ref": ref, "seller_id": product.seller_id},
    )


def _lock_seller(session: Session, seller_id: str) -> SellerProfile:
    seller = (
        session.scalars(
            select(SellerProfile).where(SellerProfile.id == seller_id).with_for_update()
        ).first()
        if looks_like("sel", seller_id)
        else None
    )
    if seller is None:
        raise NotFound("no such seller")
    return seller


def active_strikes(*, session: Session, seller_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Strike)
            .where(Strike.seller_id == seller_id, Strike.active.is_(True))
        )
        or 0
    )


def add_strike(
    *, session: Session, seller_id: str, reason: str, ref: str, actor_id: str | None
) -> Strike:
    """Strike a seller once per ``ref``; the third active strike suspends the shop.

    The seller row is locked first, so strikes racing each other count one after
    another and exactly one of them suspends."""
    reason = _note(reason)
    ref = (ref or "").strip()
    if not ref or len(ref) > 80:
        raise InvalidInput("a strike needs a reference of at most 80 characters", field="ref")
    seller = _lock_seller(session, seller_id)
    existing = session.scalars(select(Strike).where(Strike.ref == ref)).first()
    if existing is not None:
        if existing.seller_id != seller.id:
            raise Conflict(f"reference {ref!r} already struck another seller", field="ref")
        return existing
    strike = Strike(seller_id=seller.id, ref=ref, reason=reason, actor_id=actor_id)
    session.add(strike)
    session.flush()
    count = active_strikes(session=session, seller_id=seller.id)
    _audit(
        session=session,
        actor_id=actor_id,
        action="trust.seller.strike",
        target_type="seller",
        target_id=seller.id,
        reason=reason,
        detail={"ref": ref, "strike_id": strike.id, "active_strikes": count},
    )
    if count >= STRIKES_TO_SUSPEND and seller.status == SellerStatus.APPROVED:
        seller.status = SellerStatus.SUSPENDED
        strike.suspended_seller = True
        emit(
            session=session,
            topic=SELLER_SUSPENDED,
            payload={"seller_id": seller.id, "reason": "strikes", "strike_id": strike.id},
            subject_id=seller.id,
        )
        _audit(
            session=session,
            actor_id=actor_id,
            action="trust.seller.suspend",
            target_type="seller",
            target_id=seller.id,
            reason=f"{count} active strikes",
            detail={"strike_id": strike.id},
        )
    session.flush()
    return strike


def list_strikes(*, session: Session, seller_id: str) -> list[Strike]:
    return list(
        session.scalars(
            select(Strike)
            .where(Strike.seller_id == seller_id)
            .order_by(Strike.created_at.desc(), Strike.id)
        )
    )


def appeal_strike(
    *, session: Session, seller_id: str, strike_id: str, statement: str
) -> StrikeAppeal:
    """A seller appeals one of their strikes (once); another seller's strike is a 404."""
    statement = _note(statement, field="statement")
    strike = session.get(Strike, strike_id) if looks_like("stk", strike_id) else None
    if strike is None or strike.seller_id != seller_id:
        raise NotFound("no such strike")
    if not strike.active:
        raise Conflict("this strike was already lifted")
    existing = session.scalars(
        select(StrikeAppeal).where(StrikeAppeal.strike_id == strike.id)
    ).first()
    if existing is not None:
        raise Conflict("this strike was already appealed", appeal_id=existing.id)
    appeal = StrikeAppeal(strike_id=strike.id, seller_id=seller_id, statement=statement)
    session.add(appeal)
    try:
        session.flush()
    except Exception as exc:  # a concurrent appeal of the same strike won
        raise Conflict("this strike was already appealed") from exc
    return appeal


def list_appeals(*, session: Session, status: str | None = None) -> list[StrikeAppeal]:
    query = select(StrikeAppeal).order_by(StrikeAppeal.created_at, StrikeAppeal.id)
    if status:
        query = query.where(StrikeAppeal.status == status)
    return list(session.scalars(query.limit(200)))


def decide_appeal(
    *, session: Session, appeal_id: str, grant: bool, actor_id: str, note: str
) -> StrikeAppeal:
    """Staff grant or deny an appeal. Granting lifts the strike; a seller suspended by
    strikes is reinstated when fewer than three remain."""
    note = _note(note, field="note")
    appeal = (
        session.scalars(
            select(StrikeAppeal).where(StrikeAppeal.id == appeal_id).with_for_update()
        ).first()
        if looks_like("apl", appeal_id)
        else None
    )
    if appeal is None:
        raise NotFound("no such appeal")
    seller = _lock_seller(session, appeal.seller_id)
    if appeal.status != AppealStatus.OPEN:
        raise Conflict(f"this appeal was already {appeal.status}", status=appeal.status)
    appeal.status = AppealStatus.GRANTED if grant else AppealStatus.DENIED
    appeal.decided_by = actor_id
    appeal.decided_at = utcnow()
    appeal.decision_note = note
    reinstated = False
    if grant:
        strike = session.get(Strike, appeal.strike_id)
        assert strike is not None
        strike.active = False
        session.flush()
        suspended_by_strikes = session.scalar(
            select(func.count())
            .select_from(Strike)
            .where(Strike.seller_id == seller.id, Strike.suspended_seller.is_(True))
        )
        if (
            seller.status == SellerStatus.SUSPENDED
            and suspended_by_strikes
            and active_strikes(session=session, seller_id=seller.id) < STRIKES_TO_SUSPEND
        ):
            seller.status = SellerStatus.APPROVED
            reinstated = True
            emit(
                session=session,
                topic=SELLER_REINSTATED,
                payload={"seller_id": seller.id, "reason": "appeal granted"},
                subject_id=seller.id,
            )
    _audit(
        session=session,
        actor_id=actor_id,
        action="trust.appeal." + ("grant" if grant else "deny"),
        target_type="seller",
        target_id=seller.id,
        reason=note,
        detail={"appeal_id": appeal.id, "strike_id": appeal.strike_id, "reinstated": reinstated},
    )
    session.flush()
    return appeal


# --- the queue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    case: ModerationCase
    product_title: str
    seller_name: str


def queue(*, session: Session, include_escalated: bool = True, limit: int = 100) -> list[QueueRow]:
    """Undecided cases, riskiest first, then the most sales at stake."""
    statuses = list(OPEN_CASE_STATUSES) if include_escalated else [CaseStatus.OPEN]
    rows = session.execute(
        select(ModerationCase, Product.title, SellerProfile.display_name)
        .join(Product, Product.id == ModerationCase.product_id)
        .join(SellerProfile, SellerProfile.id == ModerationCase.seller_id)
        .where(ModerationCase.status.in_(statuses))
        .order_by(
            ModerationCase.risk_score.desc(),
            ModerationCase.gmv_exposure_amount.desc(),
            ModerationCase.created_at,
        )
        .limit(limit)
    ).all()
    return [QueueRow(case, title, name) for case, title, name in rows]


def get_case(*, session: Session, case_id: str) -> ModerationCase:
    case = session.get(ModerationCase, case_id) if looks_like("mcs", case_id) else None
    if case is None:
        raise NotFound("no such case")
    return case


def _lock_open_case(session: Session, case_id: str) -> ModerationCase:
    case = (
        session.scalars(
            select(ModerationCase).where(ModerationCase.id == case_id).with_for_update()
        ).first()
        if looks_like("mcs", case_id)
        else None
    )
    if case is None:
        raise NotFound("no such case")
    if case.status not in OPEN_CASE_STATUSES:
        raise Conflict(f"this case was already decided: {case.status}", status=case.status)
    return case


def decide_case(
    *,
    session: Session,
    case_id: str,
    action: str,
    actor_id: str,
    note: str,
    strike: bool = False,
) -> ModerationCase:
    """Approve (publish), take down (optionally with a strike) or escalate a case.
    Two moderators deciding one case at once: the row lock lets the first win and the
    second gets a 409."""
    if action not in ("approve", "take_down", "escalate"):
        raise InvalidInput("action is approve, take_down or escalate", field="action")
    note = _note(note, field="note", required=action != "approve") or "approved"
    case = _lock_open_case(session, case_id)
    if action == "escalate":
        if case.status == CaseStatus.ESCALATED:
            raise Conflict("this case is already escalated")
        case.status = CaseStatus.ESCALATED
        case.decision_note = note
        _audit(
            session=session,
            actor_id=actor_id,
            action="trust.case.escalate",
            target_type="moderation_case",
            target_id=case.id,
            reason=note,
        )
        session.flush()
        return case
    product = lock_product(session, case.product_id)
    if action == "approve":
        _close_open_case(session, product.id, CaseStatus.APPROVED, actor_id, note)
        set_moderation(
            session=session,
            product=product,
            status=ModerationStatus.PUBLISHED,
            actor_id=actor_id,
            reason=note,
        )
        _audit(
            session=session,
            actor_id=actor_id,
            action="trust.case.approve",
            target_type="moderation_case",
            target_id=case.id,
            reason=note,
            detail={"product_id": product.id},
        )
    else:
        take_down_listing(
            session=session, product_id=product.id, actor_id=actor_id, reason=note, ref=case.id
        )
        if strike:
            add_strike(
                session=session,
                seller_id=case.seller_id,
                reason=note,
                ref=f"case:{case.id}",
                actor_id=actor_id,
            )
    session.flush()
    return case


def case_history(*, session: Session, product_id: str) -> list[ModerationCase]:
    return list(
        session.scalars(
            select(ModerationCase)
            .where(ModerationCase.product_id == product_id)
            .order_by(ModerationCase.created_at.desc())
        )
    )
