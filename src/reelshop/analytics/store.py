"""The columnar store: DuckDB reading the Parquet event files, and the compaction job.

Every query opens an in-memory DuckDB connection over the day partitions its window
needs (pruned here, from the folder names, before DuckDB opens a file). Money events
(purchase, refund) are de-duplicated by ``event_id`` into a temporary table once per
connection, so handler retries and compaction overlap never count twice. A
distributed engine reads the same files: see docs/analytics.md.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from reelshop.analytics.events import SCHEMA, events_dir, partition_dir, write_table

log = logging.getLogger("reelshop.analytics.store")

MONEY_KINDS = ("purchase", "refund")


def day_files(root: Path, start: date, end: date) -> list[str]:
    """Parquet files of the days in [start, end)."""
    base = events_dir(root)
    if not base.is_dir():
        return []
    files: list[str] = []
    for folder in sorted(base.glob("date=*")):
        try:
            day = date.fromisoformat(folder.name.removeprefix("date="))
        except ValueError:
            continue
        if start <= day < end:
            files.extend(str(p) for p in sorted(folder.glob("*.parquet")))
    return files


def _ts(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def events_view(root: Path, start: date, end: date) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection with views ``ev`` (every event in [start, end)) and ``money``
    (purchases and refunds in that window, each event id once)."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        files = day_files(root, start, end)
        if files:
            # A view cannot take parameters: the file names are ours (folder listing),
            # quoted as SQL string literals; the bounds are dates.
            listed = ", ".join(_literal(f) for f in files)
            con.execute(
                f"CREATE TEMP VIEW ev AS SELECT * FROM read_parquet([{listed}], "  # noqa: S608
                "union_by_name = true) "
                f"WHERE occurred_at >= TIMESTAMPTZ '{_ts(start).isoformat()}' "
                f"AND occurred_at < TIMESTAMPTZ '{_ts(end).isoformat()}'"
            )
        else:
            con.register("empty_events", SCHEMA.empty_table())
            con.execute("CREATE TEMP VIEW ev AS SELECT * FROM empty_events")
        con.execute(
            "CREATE TEMP TABLE money AS SELECT * FROM ev WHERE kind IN ('purchase', 'refund') "
            "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) = 1"
        )
        yield con
    finally:
        con.close()


# --- compaction -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompactionReport:
    days: int
    files_in: int
    files_out: int
    events: int


def compact(root: Path, *, today: date | None = None, min_files: int = 2) -> CompactionReport:
    """Merge each finished day's small files into one (duplicates removed), oldest first.

    Today's partition is left alone: the writers are still adding to it. A lock file per
    day keeps two compaction runs apart; the writer may add a late file to a past day
    meanwhile, which is kept and merged next time (only the files read are removed)."""
    today = today or datetime.now(UTC).date()
    base = events_dir(root)
    days = files_in = files_out = merged = 0
    if not base.is_dir():
        return CompactionReport(0, 0, 0, 0)
    for folder in sorted(base.glob("date=*")):
        try:
            day = date.fromisoformat(folder.name.removeprefix("date="))
        except ValueError:
            continue
        if day >= today:
            continue
        inputs = sorted(folder.glob("*.parquet"))
        if len(inputs) < min_files:
            continue
        lock = folder / ".compacting"
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            continue
        try:
            os.close(fd)
            con = duckdb.connect()
            try:
                listed = ", ".join(_literal(str(p)) for p in inputs)
                table: Any = con.sql(
                    f"SELECT * FROM read_parquet([{listed}], union_by_name = true) "  # noqa: S608
                    "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) = 1 "
                    "ORDER BY occurred_at"
                ).to_arrow_table()
            finally:
                con.close()
            table = table.select(SCHEMA.names).cast(SCHEMA)
            name = f"compacted-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
            temporary = folder / f".{name}.parquet.tmp"
            write_table(table, temporary)
            os.replace(temporary, folder / f"{name}.parquet")
            for path in inputs:
                path.unlink(missing_ok=True)
        finally:
            lock.unlink(missing_ok=True)
        days += 1
        files_in += len(inputs)
        files_out += 1
        merged += table.num_rows
    return CompactionReport(days, files_in, files_out, merged)


def partition_of(root: Path, day: date) -> Path:
    return partition_dir(root, day.isoformat())


def recent_days(today: date, n: int) -> tuple[date, date]:
    return today - timedelta(days=n - 1), today + timedelta(days=1)
