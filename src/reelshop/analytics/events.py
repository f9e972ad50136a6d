"""The analytics event stream: a cheap writer for the request path.

``track(kind, **fields)`` appends one row to an in-process buffer under a lock held
for a list append; it never waits for disk or the database. A background thread (and
process exit) flushes the buffer in batches to Parquet files partitioned by day:
``<analytics dir>/events/date=YYYY-MM-DD/<process>-<seq>.parquet``. When the buffer
is full a new event is dropped and counted (``reelshop_analytics_events_dropped_total``)
rather than slowing the request that produced it.

This module imports no other domain: feed, checkout and the outbox handlers call it,
and it must stay a leaf so those imports never cycle.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import socket
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pyarrow as pa
import pyarrow.parquet as pq
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger("reelshop.analytics")

IMPRESSION = "impression"
VIDEO_VIEW = "video_view"
PRODUCT_CLICK = "product_click"
ADD_TO_CART = "add_to_cart"
CHECKOUT_START = "checkout_start"
PURCHASE = "purchase"
REFUND = "refund"

KINDS = frozenset(
    {IMPRESSION, VIDEO_VIEW, PRODUCT_CLICK, ADD_TO_CART, CHECKOUT_START, PURCHASE, REFUND}
)
FUNNEL = (IMPRESSION, PRODUCT_CLICK, ADD_TO_CART, CHECKOUT_START, PURCHASE)

# One fixed schema for every kind: columns a kind does not use stay null. Money is
# integer minor units with its currency beside it.
SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("kind", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("user_id", pa.string()),
        ("video_id", pa.string()),
        ("creator_id", pa.string()),
        ("product_id", pa.string()),
        ("seller_id", pa.string()),
        ("category", pa.string()),
        ("seller_country", pa.string()),
        ("market", pa.string()),
        ("order_id", pa.string()),
        ("currency", pa.string()),
        ("amount", pa.int64()),
        ("commission", pa.int64()),
        ("units", pa.int32()),
        ("watch_ms", pa.int32()),
    ]
)
FIELDS = frozenset(SCHEMA.names)
_OPTIONAL = tuple(n for n in SCHEMA.names if n not in ("event_id", "kind", "occurred_at"))

DEFAULT_CAPACITY = 200_000
DEFAULT_BATCH = 20_000
DEFAULT_FLUSH_INTERVAL_S = 5.0


def events_dir(root: Path) -> Path:
    return root / "events"


MONEY = "money"  # purchases and refunds: a small stream every money query reads whole
BEHAVIOUR = "behaviour"  # everything else: large, read for funnels by its kind column
STREAMS = (MONEY, BEHAVIOUR)
MONEY_KINDS = frozenset({PURCHASE, REFUND})


def stream_of(kind: str) -> str:
    return MONEY if kind in MONEY_KINDS else BEHAVIOUR


def partition_dir(root: Path, day: str, stream: str) -> Path:
    """``events/date=YYYY-MM-DD/stream=money|behaviour``: hive partitions any engine reads."""
    return events_dir(root) / f"date={day}" / f"stream={stream}"


class _Totals:
    """Process-wide counters, kept across re-configuration (tests make many writers)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.dropped = 0
        self.written = 0
        self.files = 0


TOTALS = _Totals()


ROW_GROUP_ROWS = 16_384


def write_table(table: pa.Table, path: Path) -> None:
    """Write one file the way every writer does: rows ordered by kind then time, in
    small row groups, so a query for purchases skips the row groups of impressions by
    their min/max statistics instead of decompressing them."""
    ordered = table.sort_by([("kind", "ascending"), ("occurred_at", "ascending")])
    pq.write_table(ordered, path, compression="zstd", row_group_size=ROW_GROUP_ROWS)


def write_rows(root: Path, rows: list[dict[str, Any]], *, name: str) -> list[Path]:
    """Write rows to one Parquet file per day and stream under ``root``; returns the files.

    Each file appears atomically (written under a dot-name, then renamed), so a reader
    globbing ``*.parquet`` never sees half a file."""
    by_day: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_day[(row["occurred_at"].strftime("%Y-%m-%d"), stream_of(row["kind"]))].append(row)
    written = []
    for (day, stream), day_rows in sorted(by_day.items()):
        folder = partition_dir(root, day, stream)
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(day_rows, schema=SCHEMA)
        target = folder / f"{name}.parquet"
        temporary = folder / f".{name}.parquet.tmp"
        write_table(table, temporary)
        os.replace(temporary, target)
        written.append(target)
    return written


class EventWriter:
    """A bounded buffer of events and the thread that writes it to Parquet."""

    def __init__(
        self,
        root: Path,
        *,
        capacity: int = DEFAULT_CAPACITY,
        batch_size: int = DEFAULT_BATCH,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        process_name: str | None = None,
    ) -> None:
        if capacity < 1 or batch_size < 1:
            raise ValueError("capacity and batch size are at least 1")
        self.root = root
        self.capacity = capacity
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.process_name = process_name or (
            f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        )
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # guards the buffer: held for an append or a swap
        self._flush_lock = threading.Lock()  # one flush writes at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seq = 0
        self.dropped = 0
        self.written = 0

    # --- the hot path ---------------------------------------------------------------------

    def track(self, kind: str, **fields: Any) -> bool:
        """Buffer one event; False (and counted) if the buffer is full. Never blocks on I/O."""
        if kind not in KINDS:
            raise ValueError(f"unknown analytics event kind {kind!r}")
        unknown = fields.keys() - FIELDS
        if unknown:
            raise ValueError(f"unknown analytics event fields: {sorted(unknown)}")
        at = fields.get("occurred_at") or datetime.now(UTC)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        row = {name: fields.get(name) for name in _OPTIONAL}
        row["event_id"] = fields.get("event_id") or uuid4().hex
        row["kind"] = kind
        row["occurred_at"] = at
        wake = False
        with self._lock:
            if len(self._buffer) >= self.capacity:
                self.dropped += 1
                full = True
            else:
                self._buffer.append(row)
                full = False
                wake = len(self._buffer) >= self.batch_size
        if full:
            with TOTALS.lock:
                TOTALS.dropped += 1
            return False
        if wake:
            self._wake.set()
        return True

    @property
    def buffered(self) -> int:
        with self._lock:
            return len(self._buffer)

    # --- writing ----------------------------------------------------------------------------

    def _next_name(self) -> str:
        self._seq += 1
        return f"{self.process_name}-{self._seq:06d}"

    def flush(self) -> int:
        """Write everything buffered now; returns how many events were written."""
        with self._flush_lock:
            with self._lock:
                rows, self._buffer = self._buffer, []
            if not rows:
                return 0
            try:
                files = write_rows(self.root, rows, name=self._next_name())
            except Exception:
                log.exception("analytics flush failed; events dropped", extra={"n": len(rows)})
                self.dropped += len(rows)
                with TOTALS.lock:
                    TOTALS.dropped += len(rows)
                return 0
            self.written += len(rows)
            with TOTALS.lock:
                TOTALS.written += len(rows)
                TOTALS.files += len(files)
            return len(rows)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            self.flush()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="analytics-writer", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and write what is left (the shutdown flush)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()


_writer: EventWriter | None = None
_writer_lock = threading.Lock()


def configure(root: Path, **options: Any) -> EventWriter:
    """Point this process's writer at ``root`` (flushing the previous one first)."""
    global _writer
    with _writer_lock:
        previous, _writer = _writer, EventWriter(root, **options)
        _writer.start()
    if previous is not None:
        previous.close()
    return _writer


def writer() -> EventWriter:
    """This process's writer; configured from the settings on first use."""
    current = _writer
    if current is not None:
        return current
    from reelshop.config import get_settings

    with _writer_lock:
        if _writer is not None:
            return _writer
    return configure(get_settings().analytics_path)


def track(kind: str, **fields: Any) -> bool:
    """Record one analytics event from anywhere in the app (see the module docstring)."""
    return writer().track(kind, **fields)


def flush() -> int:
    return _writer.flush() if _writer is not None else 0


def shutdown() -> None:
    global _writer
    with _writer_lock:
        current, _writer = _writer, None
    if current is not None:
        current.close()


atexit.register(shutdown)


class WriterCollector(Collector):
    """Prometheus view of the writer: events written and dropped, and the buffer's fill."""

    def collect(self) -> Iterator[Any]:
        with TOTALS.lock:
            dropped, written, files = TOTALS.dropped, TOTALS.written, TOTALS.files
        yield CounterMetricFamily(
            "reelshop_analytics_events_dropped",
            "Analytics events dropped because the buffer was full or a write failed",
            value=dropped,
        )
        yield CounterMetricFamily(
            "reelshop_analytics_events_written",
            "Analytics events written to Parquet",
            value=written,
        )
        yield CounterMetricFamily(
            "reelshop_analytics_files_written", "Parquet files written", value=files
        )
        current = _writer
        yield GaugeMetricFamily(
            "reelshop_analytics_events_buffered",
            "Analytics events waiting in this process's buffer",
            value=current.buffered if current is not None else 0,
        )
