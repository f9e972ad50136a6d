"""Append to and verify the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.db import insert_on_conflict, utcnow
from reelshop.security.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _entry_hash(prev_hash: str, seq: int, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}|{seq}|{canonical}".encode()).hexdigest()


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "actor_id": entry.actor_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "reason": entry.reason,
        "detail": entry.detail,
        "created_at": entry.created_at.isoformat(),
    }


def record(
    *,
    session: Session,
    actor_id: str | None,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. The head row is locked, so concurrent appends form one chain."""
    locked_head = select(AuditHead).where(AuditHead.id == 1).with_for_update()
    head = session.scalars(locked_head).first()
    if head is None:
        # Several first appends can race to create the head: all but one insert nothing.
        session.execute(
            insert_on_conflict(session, AuditHead)
            .values(id=1, last_seq=0, last_hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        head = session.scalars(locked_head.execution_options(populate_existing=True)).one()
    entry = AuditEntry(
        seq=head.last_seq + 1,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        detail=detail or {},
        created_at=utcnow(),
        prev_hash=head.last_hash,
        entry_hash="",
    )
    entry.entry_hash = _entry_hash(head.last_hash, entry.seq, _fields(entry))
    session.add(entry)
    head.last_seq = entry.seq
    head.last_hash = entry.entry_hash
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    entries: int
    ok: bool
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(*, session: Session, batch: int = 5_000) -> ChainReport:
    """Recompute the chain; any edited, inserted or deleted entry breaks it."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    last_seq = 0
    while True:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                return ChainReport(count, False, expected_seq, "missing entry")
            if entry.prev_hash != prev:
                return ChainReport(count, False, entry.seq, "previous hash does not match")
            if _entry_hash(prev, entry.seq, _fields(entry)) != entry.entry_hash:
                return ChainReport(count, False, entry.seq, "entry was altered")
            prev = entry.entry_hash
            expected_seq += 1
            count += 1
            last_seq = entry.seq
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq != count or head.last_hash != prev):
        return ChainReport(count, False, count + 1, "entries after the last one were removed")
    return ChainReport(count, True)
