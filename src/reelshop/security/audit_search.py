"""Reading the audit log for the admin console: filters, newest first, keyset pages."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.accounts.models import User
from reelshop.security.models import AuditEntry

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    actor_id: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." ("pii." = every PII read)
    target_id: str | None = None
    before_seq: int | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    actor_names: dict[str, str]
    next_before: int | None
    total: int


def search(*, session: Session, where: AuditFilter, limit: int = PAGE_SIZE) -> AuditPage:
    query = select(AuditEntry)
    counted = select(func.count()).select_from(AuditEntry)
    conditions = []
    if where.actor_id:
        conditions.append(AuditEntry.actor_id == where.actor_id)
    if where.action:
        if where.action.endswith("."):
            conditions.append(AuditEntry.action.startswith(where.action, autoescape=True))
        else:
            conditions.append(AuditEntry.action == where.action)
    if where.target_id:
        conditions.append(AuditEntry.target_id == where.target_id)
    for condition in conditions:
        query = query.where(condition)
        counted = counted.where(condition)
    if where.before_seq is not None:
        query = query.where(AuditEntry.seq < where.before_seq)
    rows = list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    actor_ids = {r.actor_id for r in rows if r.actor_id}
    names = (
        {u.id: u.name for u in session.scalars(select(User).where(User.id.in_(actor_ids)))}
        if actor_ids
        else {}
    )
    return AuditPage(
        entries=rows,
        actor_names=names,
        next_before=rows[-1].seq if more and rows else None,
        total=int(session.scalar(counted) or 0),
    )


def known_actions(*, session: Session) -> list[str]:
    return sorted(session.scalars(select(AuditEntry.action).distinct()))
