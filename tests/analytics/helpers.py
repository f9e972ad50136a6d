"""Arrangements for analytics tests: real orders paid through the payments service and
their outbox events delivered by the worker, or events written straight to Parquet
when a test needs exact dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from huey import SqliteHuey
from sqlalchemy.orm import Session, sessionmaker

from reelshop.analytics import events
from reelshop.analytics.events import write_rows
from reelshop.config import Settings
from reelshop.worker import Worker


def drain(settings: Settings, tmp_path: Path) -> None:
    """Deliver every due outbox event through the real worker, then write the buffer."""
    worker = Worker(settings, huey=SqliteHuey("analytics", filename=str(tmp_path / "q.db")))
    try:
        worker.drain()
    finally:
        worker.engine.dispose()
    events.flush()


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def purchase(
    day: date,
    amount: int,
    *,
    order_id: str,
    seller_id: str = "sel_a",
    market: str = "US",
    category: str = "electronics",
    country: str = "CN",
    commission: int = 0,
    units: int = 1,
    currency: str = "USD",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "event_id": f"purchase:{order_id}:{extra.pop('line', 0)}",
        "kind": "purchase",
        "occurred_at": at(day),
        "order_id": order_id,
        "seller_id": seller_id,
        "market": market,
        "category": category,
        "seller_country": country,
        "amount": amount,
        "commission": commission,
        "units": units,
        "currency": currency,
        **extra,
    }


def behaviour(day: date, kind: str, n: int, **fields: Any) -> list[dict[str, Any]]:
    return [
        {"event_id": f"{kind}:{day}:{i}:{fields}", "kind": kind, "occurred_at": at(day), **fields}
        for i in range(n)
    ]


def write(root: Path, rows: list[dict[str, Any]], name: str = "test") -> None:
    full = [{**dict.fromkeys(events.SCHEMA.names), **row} for row in rows]
    write_rows(root, full, name=name)


def days_ago(today: date, n: int) -> date:
    return today - timedelta(days=n)


__all__ = ["Session", "sessionmaker"]
