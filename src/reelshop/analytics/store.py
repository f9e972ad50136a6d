"""The columnar store: DuckDB reading the Parquet event files, and the compaction job.

Every query opens an in-memory DuckDB connection over the day partitions its window
needs (pruned here, from the folder names, before DuckDB opens a file). Money events
(purchase, refund) are de-duplicated by ``event_id`` into a temporary table once per
connection, so handler retries and compaction overlap never count twice. A
distributed engine reads the same files: see docs/analytics.md.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import duckdb

from reelshop.analytics.events import BEHAVIOUR, MONEY, SCHEMA, events_dir, write_table

log = logging.getLogger("reelshop.analytics.store")


def day_files(root: Path, start: date, end: date, stream: str) -> list[str]:
    """Parquet files of one stream for the days in [start, end)."""
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
            files.extend(str(p) for p in sorted((folder / f"stream={stream}").glob("*.parquet")))
    return files


def _ts(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


P = ParamSpec("P")
T = TypeVar("T")
# Compaction walks the day folders one after another (the worker's first run after the
# seed merges about 180), so a query can meet several vanished files in a row: it retries
# with a growing pause, about 6 s in all, before it gives up.
VANISHED_RETRIES = 10


def retry_when_files_vanish(fn: Callable[P, T]) -> Callable[P, T]:
    """Run a query function again (listing the files afresh) when a file it listed was
    removed by compaction before DuckDB opened it."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, VANISHED_RETRIES + 1):
            try:
                return fn(*args, **kwargs)
            except duckdb.IOException:
                if attempt == VANISHED_RETRIES:
                    raise
                log.info("an event file vanished under a query; listing again")
                time.sleep(min(0.05 * 2**attempt, 1.0))
        raise AssertionError("unreachable")

    return wrapper


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _read(files: list[str], start: date, end: date) -> str:
    """SQL reading ``files`` between two days. A view cannot take parameters: the file
    names are ours (a folder listing), quoted as SQL string literals."""
    listed = ", ".join(_literal(f) for f in files)
    return (
        f"SELECT * FROM read_parquet([{listed}], union_by_name = true) "  # noqa: S608
        f"WHERE occurred_at >= TIMESTAMPTZ '{_ts(start).isoformat()}' "
        f"AND occurred_at < TIMESTAMPTZ '{_ts(end).isoformat()}'"
    )


@contextmanager
def events_view(
    root: Path,
    start: date,
    end: date,
    *,
    money_start: date | None = None,
    money_end: date | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection with ``ev``, the behavioural events of [start, end), and
    ``money``, the purchases and refunds of the wider [money_start, money_end) (previous
    periods, year to date), each event id once: materialised, as the money stream is
    small and every figure reads it."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("empty_events", SCHEMA.empty_table())
        behaviour = day_files(root, start, end, BEHAVIOUR)
        behaviour_sql = _read(behaviour, start, end) if behaviour else "SELECT * FROM empty_events"
        con.execute(f"CREATE TEMP VIEW ev AS {behaviour_sql}")
        first = min(money_start or start, start)
        last = max(money_end or end, end)
        money = day_files(root, first, last, MONEY)
        source = _read(money, first, last) if money else "SELECT * FROM empty_events"
        con.execute(
            f"CREATE TEMP TABLE money AS SELECT * FROM ({source}) "  # noqa: S608
            "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) = 1"
        )
        yield con
    finally:
        con.close()


# --- compaction -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompactionReport:
    partitions: int  # day and stream folders merged
    files_in: int
    files_out: int
    events: int


def compact(root: Path, *, today: date | None = None, min_files: int = 2) -> CompactionReport:
    """Merge each finished day's small files into one per stream (duplicates removed).

    Today's partition is left alone: the writers are still adding to it. A lock file per
    day keeps two compaction runs apart; the writer may add a late file to a past day
    meanwhile, which is kept and merged next time (only the files read are removed)."""
    today = today or datetime.now(UTC).date()
    base = events_dir(root)
    partitions = files_in = files_out = merged = 0
    if not base.is_dir():
        return CompactionReport(0, 0, 0, 0)
    for folder in sorted(base.glob("date=*/stream=*")):
        try:
            day = date.fromisoformat(folder.parent.name.removeprefix("date="))
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
        partitions += 1
        files_in += len(inputs)
        files_out += 1
        merged += table.num_rows
    return CompactionReport(partitions, files_in, files_out, merged)


def recent_days(today: date, n: int) -> tuple[date, date]:
    return today - timedelta(days=n - 1), today + timedelta(days=1)
