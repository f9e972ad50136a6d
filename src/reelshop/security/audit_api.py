"""The audit log for admins, as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from reelshop.errors import problem_responses
from reelshop.security import audit
from reelshop.security.audit_search import AuditFilter, search
from reelshop.security.authz import AdminPrincipal, ReadDbSession

router = APIRouter(tags=["security"])


class AuditEntryOut(BaseModel):
    seq: int
    created_at: datetime
    actor_id: str | None
    action: str
    target_type: str | None
    target_id: str | None
    reason: str | None
    detail: dict[str, Any]


class AuditLogOut(BaseModel):
    entries: list[AuditEntryOut]
    total: int
    next_before: int | None
    chain_ok: bool
    chain_entries: int
    chain_problem: str | None


@router.get(
    "/staff/audit-log",
    responses=problem_responses(401, 403),
    summary="The audit log, newest first, with the hash chain's verification (admins)",
)
def audit_log(
    principal: AdminPrincipal,
    session: ReadDbSession,
    actor: Annotated[str | None, Query(max_length=40)] = None,
    action: Annotated[str | None, Query(max_length=80)] = None,
    target: Annotated[str | None, Query(max_length=40)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> AuditLogOut:
    del principal
    page = search(
        session=session,
        where=AuditFilter(actor_id=actor, action=action, target_id=target, before_seq=before),
    )
    chain = audit.verify(session=session)
    return AuditLogOut(
        entries=[
            AuditEntryOut(
                seq=e.seq,
                created_at=e.created_at,
                actor_id=e.actor_id,
                action=e.action,
                target_type=e.target_type,
                target_id=e.target_id,
                reason=e.reason,
                detail=e.detail or {},
            )
            for e in page.entries
        ],
        total=page.total,
        next_before=page.next_before,
        chain_ok=chain.ok,
        chain_entries=chain.entries,
        chain_problem=chain.problem,
    )
