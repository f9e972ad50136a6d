"""Engine, session, declarative base and the unit of work.

The caller owns the transaction: a request or a job opens one unit of work with
:func:`unit_of_work`; service functions only ``flush()``.

Row locks are written as ``.with_for_update()`` everywhere: PostgreSQL takes the row
lock; SQLite's compiler leaves the clause out, and the write lock a writing unit of
work takes at ``BEGIN IMMEDIATE`` already serialises it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use reelshop.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=lambda: utcnow(), server_default=func.current_timestamp()
    )


def insert_on_conflict(session: Session, entity: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT for the session's backend that can end in ``ON CONFLICT DO NOTHING`` or
    ``DO UPDATE`` (both PostgreSQL and SQLite speak it; SQLAlchemy keeps them apart)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    # WAL is persistent in the file: only the first connection ever switches it.
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A writing transaction takes the write lock when it starts, so two writers
    # never both read and then both try to upgrade (SQLite's "database is locked"
    # deadlock). Read-only units of work (make_session_factory(deferred=True)) begin deferred
    # and run beside the writer thanks to WAL.
    if conn.get_execution_options().get("reelshop_deferred"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=kwargs.pop("pool_size", 8),
            max_overflow=kwargs.pop("max_overflow", 16),
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's implicit transactions are replaced by explicit BEGIN IMMEDIATE.
        event.listen(engine, "connect", _disable_pysqlite_autobegin)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=kwargs.pop("pool_size", 10),
        max_overflow=kwargs.pop("max_overflow", 20),
        **kwargs,
    )


def _disable_pysqlite_autobegin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def make_session_factory(engine: Engine, *, deferred: bool = False) -> sessionmaker[Session]:
    """A session factory. ``deferred=True`` begins SQLite transactions without taking the
    write lock: for units of work that only read (feed, search, dashboards)."""
    bind = engine.execution_options(reelshop_deferred=True) if deferred else engine
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        # close() rolls back without expiring what was loaded (rollback() would): the error
        # page rendered after a refused request can still show who is logged in.
        session.close()
        raise
    finally:
        session.close()
