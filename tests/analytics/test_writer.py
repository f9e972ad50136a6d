"""The hot-path writer: batching, overflow, the shutdown flush, threads, partitions."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from reelshop.analytics import events
from reelshop.analytics.events import EventWriter


def rows_in(root: Path) -> list[tuple[str, str]]:
    files = sorted(str(p) for p in (root / "events").glob("date=*/stream=*/*.parquet"))
    if not files:
        return []
    return duckdb.sql(
        f"SELECT event_id, kind FROM read_parquet({files!r}) ORDER BY event_id"  # noqa: S608
    ).fetchall()


def test_track_buffers_until_flush(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path, flush_interval_s=3600)
    for _ in range(5):
        assert writer.track("impression", user_id="usr_1", video_id="vid_1")
    assert writer.buffered == 5
    assert rows_in(tmp_path) == []
    assert writer.flush() == 5
    assert writer.buffered == 0
    assert len(rows_in(tmp_path)) == 5
    assert writer.flush() == 0


def test_full_batch_wakes_the_background_thread(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path, batch_size=100, flush_interval_s=3600)
    writer.start()
    try:
        for _ in range(100):
            writer.track("product_click", product_id="prd_1")
        deadline = time.monotonic() + 10
        while writer.written < 100 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writer.written == 100
        assert len(list((tmp_path / "events").glob("date=*/stream=behaviour/*.parquet"))) == 1
    finally:
        writer.close()


def test_overflow_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path, capacity=10, batch_size=1000, flush_interval_s=3600)
    before = events.TOTALS.dropped
    accepted = [writer.track("impression") for _ in range(15)]
    assert accepted.count(True) == 10
    assert accepted.count(False) == 5
    assert writer.dropped == 5
    assert events.TOTALS.dropped - before == 5
    writer.flush()
    assert len(rows_in(tmp_path)) == 10
    assert writer.track("impression")  # room again after the flush


def test_close_writes_what_is_left(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path, flush_interval_s=3600)
    writer.start()
    for _ in range(7):
        writer.track("add_to_cart", units=1)
    writer.close()
    assert len(rows_in(tmp_path)) == 7


def test_configure_flushes_the_previous_writer(tmp_path: Path) -> None:
    first = tmp_path / "a"
    events.configure(first, flush_interval_s=3600)
    events.track("impression")
    events.configure(tmp_path / "b", flush_interval_s=3600)
    events.shutdown()
    assert len(rows_in(first)) == 1


def test_threads_lose_nothing_and_ids_stay_unique(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path, batch_size=500, flush_interval_s=0.01)
    writer.start()
    n_threads, per_thread = 8, 2_500
    barrier = threading.Barrier(n_threads)

    def work() -> None:
        barrier.wait()
        for i in range(per_thread):
            writer.track("impression", watch_ms=i)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    rows = rows_in(tmp_path)
    assert len(rows) == n_threads * per_thread
    assert len({event_id for event_id, _ in rows}) == len(rows)
    assert writer.dropped == 0


def test_events_are_partitioned_by_their_day(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path, flush_interval_s=3600)
    writer.track("purchase", occurred_at=datetime(2026, 3, 1, 23, 59, tzinfo=UTC), amount=100)
    writer.track("purchase", occurred_at=datetime(2026, 3, 2, 0, 0, tzinfo=UTC), amount=200)
    writer.track("purchase", occurred_at=datetime(2026, 3, 2, 12, 0), amount=300)  # naive = UTC
    writer.flush()
    days = sorted(p.name for p in (tmp_path / "events").iterdir())
    assert days == ["date=2026-03-01", "date=2026-03-02"]
    streams = sorted(p.name for p in (tmp_path / "events" / "date=2026-03-02").iterdir())
    assert streams == ["stream=money"]
    assert not list(tmp_path.rglob("*.tmp"))


def test_unknown_kinds_and_fields_are_programming_errors(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path)
    with pytest.raises(ValueError, match="kind"):
        writer.track("purchased")
    with pytest.raises(ValueError, match="fields"):
        writer.track("impression", colour="red")
    assert writer.buffered == 0


def test_metrics_report_written_and_dropped(client: object, analytics_root: Path) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    events.track("impression")
    events.flush()
    body = client.get("/metrics").text
    assert "reelshop_analytics_events_dropped_total" in body
    assert "reelshop_analytics_events_written_total" in body
    assert "reelshop_analytics_events_buffered" in body
