"""Database set-up shared by the search benchmarks: where the run's database lives and
how a PostgreSQL one is made fresh."""

from __future__ import annotations

import os
from pathlib import Path


def configure(backend: str, workdir: Path, pg_url: str, sqlite_name: str) -> str:
    """Point the reelshop settings of this process (and its children) at the run's
    database and data directory; returns the database URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / sqlite_name}" if backend == "sqlite" else pg_url
    os.environ["REELSHOP_DATABASE_URL"] = url
    os.environ["REELSHOP_DATA_DIR"] = str(workdir / "data")
    os.environ.setdefault("REELSHOP_LOG_LEVEL", "WARNING")
    return url


def fresh_postgres(url: str) -> None:
    """Drop and create the URL's database (connecting to the server's "postgres" one)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
