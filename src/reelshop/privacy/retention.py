"""How long each kind of data is kept, as data, and the job step that forgets the rest.

A rule names a table, the timestamp its age is measured from, how many days it is
kept and what happens then: the row is deleted, or named columns are overwritten.
A clock may live on a parent row (claim evidence ages from its claim's decision).
A table that does not exist (a domain not installed) is skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, select, update
from sqlalchemy.orm import Session

from reelshop.db import Base, utcnow
from reelshop.security.fields import Encrypted

log = logging.getLogger("reelshop.privacy.retention")


@dataclass(frozen=True)
class RetentionRule:
    name: str
    table: str
    clock: str  # a timestamp column; NULL never expires
    days: int
    why: str
    only: dict[str, Any] = field(default_factory=dict)  # equality filters
    erase: dict[str, Any] = field(default_factory=dict)  # empty: delete the row
    # (foreign-key column, parent table, parent's clock): age measured on the parent row.
    parent: tuple[str, str, str] | None = None
    files: str | None = None  # a column holding a storage key to delete with the row


RULES: tuple[RetentionRule, ...] = (
    RetentionRule(
        "login_throttles", "login_throttles", "window_started_at", 30,
        "failed log-in counters are only needed while a lock-out can still apply",
    ),
    RetentionRule(
        "revoked_api_tokens", "api_tokens", "revoked_at", 90,
        "a revoked token is kept a while to explain a refused call, then forgotten",
    ),
    RetentionRule(
        "expired_api_tokens", "api_tokens", "expires_at", 90,
        "as revoked tokens",
    ),
    RetentionRule(
        "expired_seller_invitations", "seller_invitations", "expires_at", 90,
        "the invitee's email is only needed while the invitation can be used",
        erase={"email": "[erased]", "email_hash": "erased"},
    ),
    RetentionRule(
        "logistics_dead_letters", "logistics_dead_letters", "received_at", 90,
        "carrier payloads that matched no parcel (they may carry a recipient's name)",
    ),
    RetentionRule(
        "delivered_outbox_events", "outbox_events", "delivered_at", 30,
        "delivered events are done; their payloads can name people",
        only={"status": "delivered"},
    ),
    RetentionRule(
        "feed_interactions", "feed_events", "created_at", 400,
        "recommender history: thirteen months covers a year's seasons",
    ),
    RetentionRule(
        "sponsored_impressions", "ad_impressions", "served_at", 400,
        "as feed interactions; campaign spend is kept on the campaign's daily rows",
    ),
    RetentionRule(
        "read_notifications", "notifications", "read_at", 180,
        "a read notification has done its job",
    ),
    RetentionRule(
        "claim_evidence", "claim_evidence", "decided_at", 180,
        "evidence photos are kept for appeals and chargebacks, six months after the decision",
        parent=("claim_id", "claims", "decided_at"),
        files="storage_key",
    ),
)  # fmt: skip


def _condition(rule: RetentionRule, table: Table, cutoff: datetime) -> Any:
    filters: list[ColumnElement[bool]] = [table.c[k] == v for k, v in rule.only.items()]
    if rule.parent is None:
        return and_(table.c[rule.clock] < cutoff, *filters)
    fk, parent_name, parent_clock = rule.parent
    parent = Base.metadata.tables[parent_name]
    old_parents = select(parent.c.id).where(parent.c[parent_clock] < cutoff)
    return and_(table.c[fk].in_(old_parents), *filters)


def _ready(rule: RetentionRule, names: set[str]) -> Table | None:
    table = Base.metadata.tables.get(rule.table)
    if table is None or rule.table not in names:
        return None
    if rule.parent is not None and rule.parent[1] not in names:
        return None
    if rule.parent is None and rule.clock not in table.c:
        return None
    return table


def apply_rules(
    *,
    session: Session,
    now: datetime | None = None,
    rules: tuple[RetentionRule, ...] = RULES,
) -> dict[str, int]:
    """Apply every rule once; returns rows deleted or erased per rule."""
    from sqlalchemy import inspect

    from reelshop import storage

    now = now or utcnow()
    names = set(inspect(session.connection()).get_table_names())
    done: dict[str, int] = {}
    for rule in rules:
        table = _ready(rule, names)
        if table is None:
            continue
        where = _condition(rule, table, now - timedelta(days=rule.days))
        if rule.erase:
            # Sealed columns cannot be compared; a plain column shows the row is done.
            changed = [
                table.c[k] != v
                for k, v in rule.erase.items()
                if not isinstance(table.c[k].type, Encrypted)
            ]
            stmt = update(table).where(where if not changed else and_(where, *changed))
            result = session.execute(stmt.values(**rule.erase))
        else:
            if rule.files:
                for key in session.scalars(select(table.c[rule.files]).where(where)):
                    try:
                        storage.get_storage().delete(key)
                    except Exception:
                        log.warning("could not delete a file", extra={"rule": rule.name})
            result = session.execute(delete(table).where(where))
        done[rule.name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return done
