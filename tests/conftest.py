"""Test fixtures: every database test runs on SQLite, and on PostgreSQL as well when
``REELSHOP_TEST_DATABASE_URL`` is set (``REELSHOP_TEST_BACKENDS=postgres`` runs only
PostgreSQL). Each test gets an isolated database:

- SQLite: a copy of a migrated template file, per test.
- PostgreSQL: one migrated database per test session (per xdist worker), emptied
  after each test and refilled with the reference rows the migrations seeded.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import reelshop.models  # noqa: F401
from reelshop.app import create_app
from reelshop.config import Environment, Settings
from reelshop.db import Base, make_engine, make_session_factory
from reelshop.migrate import upgrade
from reelshop.security import keys
from reelshop.security.passwords import use_cheap_hashing_for_tests

PG_URL = os.environ.get("REELSHOP_TEST_DATABASE_URL")
_wanted = os.environ.get("REELSHOP_TEST_BACKENDS", "sqlite,postgres").split(",")
BACKENDS = [b for b in ("sqlite", "postgres") if b in _wanted and (b == "sqlite" or PG_URL)]
if not BACKENDS:
    raise RuntimeError("no test backend: set REELSHOP_TEST_DATABASE_URL for postgres")

use_cheap_hashing_for_tests()


def _settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        env=Environment.TEST,
        database_url=database_url,
        data_dir=data_dir,
        log_json=False,
        log_level="WARNING",
        outbox_retry_base_s=0.0,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session", autouse=True)
def _configure_keys(tmp_path_factory: pytest.TempPathFactory) -> None:
    keys.configure(_settings("sqlite://", tmp_path_factory.mktemp("keys")))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


class PgDatabase:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.reference: dict[str, list[dict[str, Any]]] = {}
        self.tables: list[str] = []

    def snapshot_reference(self) -> None:
        meta = MetaData()
        meta.reflect(self.engine)
        self.tables = [t.name for t in meta.sorted_tables if t.name != "alembic_version"]
        with self.engine.connect() as conn:
            for table in meta.sorted_tables:
                if table.name == "alembic_version":
                    continue
                rows = [dict(r._mapping) for r in conn.execute(select(table))]
                if rows:
                    self.reference[table.name] = rows
        self._meta = meta

    def reset(self) -> None:
        with self.engine.begin() as conn:
            names = ", ".join(f'"{t}"' for t in self.tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for name, rows in self.reference.items():
                conn.execute(insert(self._meta.tables[name]), rows)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[PgDatabase | None]:
    if not PG_URL or "postgres" not in BACKENDS:
        yield None
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"reelshop_test_{worker}_{os.getpid()}"
    base = make_url(PG_URL)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    db = PgDatabase(url)
    db.snapshot_reference()
    yield db
    db.engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_database: PgDatabase | None,
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "reelshop.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    assert pg_database is not None
    try:
        yield pg_database.url
    finally:
        pg_database.reset()


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return _settings(database_url, tmp_path / "data")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    # Deferred: a test's arranging session must not hold SQLite's write lock while the
    # code under test (the app, other threads) writes.
    return make_session_factory(engine, deferred=True)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging and checking; commit what the code under test must see.

    On SQLite its transactions begin deferred (they never hold the write lock while the
    app writes). A transaction that has read and then writes after another connection
    committed fails with "database is locked" (SQLite's stale-snapshot rule): commit or
    roll back before writing again through it."""
    with session_factory() as s:
        yield s


@pytest.fixture
def app(settings: Settings) -> Any:
    return create_app(settings)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def all_table_names() -> list[str]:
    return [t.name for t in Base.metadata.sorted_tables]
