"""A person's data, all of it, and the deletion of their account."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role, User
from reelshop.checkout.models import Order, OrderStatus
from reelshop.db import Base, utcnow
from reelshop.errors import Conflict, Forbidden, InvalidInput
from reelshop.outbox.service import emit
from reelshop.privacy import contributions as _contributions  # noqa: F401 - registers
from reelshop.privacy.registry import EXPORTERS, ordered_erasers
from reelshop.security import audit
from reelshop.security.passwords import verify_password
from reelshop.sellers.models import SellerProfile, SellerStatus

EXPORT_FORMAT = 1
CONFIRM_WORD = "DELETE"
# Orders still moving: deleting now would take the address a parcel is going to.
IN_FLIGHT = (OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.SHIPPED)
OPEN_CLAIMS = ("awaiting_seller", "awaiting_staff", "escalated")


def export_data(*, session: Session, user: User) -> dict[str, Any]:
    """Everything each domain holds about ``user``, keyed by the contributing domain."""
    sections = {name: e.fn(session, user) for name, e in sorted(EXPORTERS.items())}
    return {
        "format": EXPORT_FORMAT,
        "generated_at": utcnow().isoformat(),
        "account_id": user.id,
        "sections": sections,
    }


def deletion_blockers(*, session: Session, user: User) -> list[str]:
    """Why the account cannot be deleted yet (empty: it can)."""
    blockers: list[str] = []
    if user.role == Role.STAFF:
        blockers.append("staff accounts are closed by an administrator")
    shop = session.scalars(select(SellerProfile).where(SellerProfile.user_id == user.id)).first()
    if shop is not None and shop.status == SellerStatus.APPROVED:
        blockers.append("close your shop first: ask support to close it")
    moving = session.scalars(
        select(Order.id).where(Order.shopper_id == user.id, Order.status.in_(IN_FLIGHT))
    ).all()
    if moving:
        blockers.append(f"{len(moving)} order(s) are still on their way; delete after they arrive")
    claims = Base.metadata.tables.get("claims")
    if claims is not None:
        open_claims = session.execute(
            select(claims.c.id).where(
                claims.c.shopper_id == user.id, claims.c.status.in_(OPEN_CLAIMS)
            )
        ).all()
        if open_claims:
            blockers.append("a claim is still open; delete after it is decided")
    return blockers


def delete_account(
    *, session: Session, user_id: str, password: str, confirm: str
) -> dict[str, int]:
    """Erase or pseudonymise the person's data everywhere; the ledger, orders' financial rows
    and the audit log stay. Returns rows touched per contribution."""
    user = session.scalars(select(User).where(User.id == user_id).with_for_update()).first()
    if user is None or not user.is_active:
        raise Forbidden("this account is already closed")
    if confirm.strip() != CONFIRM_WORD:
        raise InvalidInput(f"type {CONFIRM_WORD} to confirm", field="confirm")
    if not verify_password(user.password_hash, password):
        raise InvalidInput("that is not your password", field="password")
    blockers = deletion_blockers(session=session, user=user)
    if blockers:
        raise Conflict("; ".join(blockers))
    pseudonym = "anon_" + secrets.token_hex(12)
    touched = {e.name: e.fn(session, user, pseudonym) for e in ordered_erasers()}
    audit.record(
        session=session,
        actor_id=user.id,
        action="privacy.account_deleted",
        target_type="user",
        target_id=user.id,
        reason="data_subject_request",
        detail={"rows": touched},
    )
    emit(session=session, topic="account.deleted", payload={"user_id": user.id}, subject_id=user.id)
    session.flush()
    return touched
