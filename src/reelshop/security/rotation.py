"""Key rotation: a new data key per market, re-wrapped data keys after a master-key
change, and the re-encryption of every ``Encrypted`` column in batches.

Rotation never stops the platform. ``start_rotation`` makes a new active data key for
a market; the previous one becomes ``retiring`` and keeps opening what it sealed.
Servers pick the new key up within ``keys.DATA_KEY_REFRESH_S`` and seal new values
with it. ``reencrypt_batch`` then walks each table holding encrypted columns by
primary key, a batch per transaction, and re-seals every value not under its
market's active key; an UPDATE only lands if the value is still the one it read, so
a concurrent edit is never overwritten. Nothing records progress: a value that
needs work is recognisable by its key id, so an interrupted run simply starts
again and skips what is done. When no value uses a retiring key it is ``retired``
(kept, never deleted: blobs, backups and in-flight values may still name it).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Column, Table, Text, and_, select, type_coerce, update
from sqlalchemy.orm import Session

from reelshop.db import Base, utcnow
from reelshop.ids import new_id
from reelshop.security import keys
from reelshop.security.crypto import FieldCipher
from reelshop.security.fields import Encrypted
from reelshop.security.hardening_models import DataKey

ACTIVE = "active"
RETIRING = "retiring"
RETIRED = "retired"
DEFAULT_BATCH = 500


@dataclass(frozen=True)
class EncryptedTable:
    table: Table
    key: Column[str]
    columns: tuple[tuple[Column[str], str], ...]  # (column, AEAD context)

    @property
    def name(self) -> str:
        return self.table.name


def encrypted_tables() -> list[EncryptedTable]:
    """Every table with ``Encrypted`` columns (found in the metadata, so a new one is
    rotated without being listed anywhere)."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = tuple(
            (col, col.type.context) for col in table.columns if isinstance(col.type, Encrypted)
        )
        if not columns:
            continue
        primary = list(table.primary_key.columns)
        if len(primary) != 1:
            raise RuntimeError(f"{table.name}: rotation walks single-column primary keys")
        found.append(EncryptedTable(table, primary[0], columns))
    return found


def _raw(col: Column[str]) -> Column[str]:
    # The stored ciphertext, not the decrypted value the column type would hand back.
    return type_coerce(col, Text)  # type: ignore[return-value]


def active_key(*, session: Session, market: str) -> DataKey | None:
    return session.scalars(
        select(DataKey).where(DataKey.market_code == market, DataKey.state == ACTIVE)
    ).first()


def start_rotation(*, session: Session, market: str = keys.DEFAULT_MARKET) -> DataKey:
    """A new active data key for ``market``; the old one starts retiring."""
    for previous in session.scalars(
        select(DataKey)
        .where(DataKey.market_code == market, DataKey.state == ACTIVE)
        .with_for_update()
    ):
        previous.state = RETIRING
    kid = new_id("dk")
    master_id, wrapped = keys.cipher().wrap_data_key(os.urandom(32), data_key_id=kid)
    row = DataKey(
        id=kid, market_code=market, master_key_id=master_id, wrapped_key=wrapped, state=ACTIVE
    )
    session.add(row)
    session.flush()
    return row


def rewrap_data_keys(*, session: Session) -> int:
    """Re-wrap data keys under the active master key (after a master key was added
    in front of ``REELSHOP_FIELD_ENCRYPTION_KEYS``); the data itself is untouched."""
    cipher = keys.cipher()
    master = cipher.keyring.active_id
    changed = 0
    for row in session.scalars(
        select(DataKey).where(DataKey.master_key_id != master).with_for_update()
    ):
        raw = cipher.unwrap_data_key(row.wrapped_key, data_key_id=row.id)
        row.master_key_id, row.wrapped_key = cipher.wrap_data_key(raw, data_key_id=row.id)
        changed += 1
    session.flush()
    return changed


def reload_keys(session: Session) -> FieldCipher:
    cipher = keys.cipher()
    keys.load_data_keys(session, cipher)
    return cipher


@dataclass
class BatchResult:
    last_key: str | None
    rows_seen: int
    values_resealed: int
    conflicts: int = 0


def reencrypt_batch(
    *,
    session: Session,
    table: EncryptedTable,
    after: str | None,
    batch_size: int = DEFAULT_BATCH,
) -> BatchResult:
    """Re-seal the values of up to ``batch_size`` rows after primary key ``after``."""
    cipher = keys.cipher()
    default = keys.DEFAULT_MARKET
    query = select(table.key, *(_raw(col) for col, _ in table.columns)).order_by(table.key)
    if after is not None:
        query = query.where(table.key > after)
    rows = session.execute(query.limit(batch_size)).all()
    resealed = conflicts = 0
    for row in rows:
        pk, values = row[0], row[1:]
        changes: dict[str, str] = {}
        guards = []
        for (col, context), value in zip(table.columns, values, strict=True):
            if value is None or not cipher.needs_rotation(value, default_market=default):
                continue
            plaintext = cipher.decrypt(value, context=context)
            market = cipher.target_market(value, default_market=default)
            changes[col.key] = cipher.seal_field(plaintext, context=context, market=market)
            guards.append(_raw(col) == value)
        if not changes:
            continue
        stmt = (
            update(table.table)
            .where(and_(table.key == pk, *guards))
            .values({table.table.c[name]: type_coerce(v, Text) for name, v in changes.items()})
        )
        if session.execute(stmt).rowcount == 1:  # type: ignore[attr-defined]
            resealed += len(changes)
        else:
            conflicts += 1  # changed meanwhile: the writer sealed it with a current key
    return BatchResult(rows[-1][0] if rows else None, len(rows), resealed, conflicts)


def retire_unused_keys(*, session: Session) -> list[str]:
    """Mark retiring keys that no column value names any more as retired."""
    usage = key_usage(session=session)
    retired = []
    for row in session.scalars(select(DataKey).where(DataKey.state == RETIRING)):
        if not usage.get(row.id):
            row.state = RETIRED
            row.retired_at = utcnow()
            retired.append(row.id)
    session.flush()
    return retired


def key_usage(*, session: Session) -> Counter[str]:
    """How many stored values each key id seals (master key ids included)."""
    counts: Counter[str] = Counter()
    for table in encrypted_tables():
        for col, _ in table.columns:
            for (value,) in session.execute(select(_raw(col)).where(col.is_not(None))):
                counts[FieldCipher.key_id_of(value)] += 1
    return counts


@dataclass
class RotationReport:
    tables: int = 0
    rows_seen: int = 0
    values_resealed: int = 0
    conflicts: int = 0
    retired: list[str] = field(default_factory=list)


BatchStep = Callable[[Session], BatchResult]


def reencrypt_all(
    run: Callable[[BatchStep], BatchResult],
    *,
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[str, BatchResult], None] | None = None,
) -> RotationReport:
    """Walk every encrypted table; ``run`` executes one batch in its own transaction."""
    report = RotationReport()
    for table in encrypted_tables():
        report.tables += 1
        after: str | None = None
        while True:
            result = run(
                lambda s, t=table, a=after: _reloaded_batch(s, t, a, batch_size)  # type: ignore[misc]
            )
            report.rows_seen += result.rows_seen
            report.values_resealed += result.values_resealed
            report.conflicts += result.conflicts
            if on_batch is not None:
                on_batch(table.name, result)
            if result.last_key is None or result.rows_seen < batch_size:
                break
            after = result.last_key
    return report


def _reloaded_batch(
    session: Session, table: EncryptedTable, after: str | None, batch_size: int
) -> BatchResult:
    reload_keys(session)
    return reencrypt_batch(session=session, table=table, after=after, batch_size=batch_size)


def iter_status(*, session: Session) -> Iterator[tuple[str, str, str, int]]:
    """(key id, kind, state, values sealed) for every key, master keys included."""
    usage = key_usage(session=session)
    cipher = keys.cipher()
    for kid, _raw_key in cipher.keyring.keys:
        state = ACTIVE if kid == cipher.keyring.active_id else "configured"
        yield kid, "master", state, usage.get(kid, 0)
    for row in session.scalars(select(DataKey).order_by(DataKey.created_at)):
        yield row.id, f"data ({row.market_code})", row.state, usage.get(row.id, 0)
