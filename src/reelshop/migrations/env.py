"""Alembic environment: the URL comes from the caller (reelshop.migrate) or Settings."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

import reelshop.models  # noqa: F401 - registers every table on Base.metadata
from reelshop.catalog.search_models import RAW_SQL_TABLE_PREFIXES
from reelshop.config import get_settings
from reelshop.db import Base, UTCDateTime, make_engine
from reelshop.security.fields import Encrypted

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Migrations use plain SQL types: app-side types (encryption, UTC) stay in the models."""
    if type_ == "type" and isinstance(obj, Encrypted):
        return "sa.Text()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Skip index structures that migrations make with raw SQL (FTS5 and its shadow tables)."""
    return not (type_ == "table" and name and name.startswith(RAW_SQL_TABLE_PREFIXES))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run them online")
run_migrations_online()
