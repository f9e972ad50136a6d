"""Run outbox handlers of chosen topics the way the worker does, and read the mail."""

from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.config import Settings
from reelshop.db import unit_of_work
from reelshop.logistics import promise_jobs  # noqa: F401 - registers the handlers run here
from reelshop.notifications import jobs  # noqa: F401 - registers the email handler
from reelshop.outbox.models import OutboxEvent, OutboxStatus
from reelshop.outbox.relay import deliver


def deliver_topic(factory: sessionmaker[Session], settings: Settings, topic: str) -> int:
    """Deliver every pending event of ``topic``; returns how many."""
    with unit_of_work(factory) as s:
        ids = list(
            s.scalars(
                select(OutboxEvent.id).where(
                    OutboxEvent.topic == topic, OutboxEvent.status == OutboxStatus.PENDING
                )
            )
        )
    for event_id in ids:
        deliver(factory, settings, event_id)
    return len(ids)


def mails(folder: Path) -> list[tuple[str, str, str]]:
    out = []
    for path in sorted(folder.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes())
        payload = msg.get_payload(decode=True)
        assert isinstance(payload, bytes)
        out.append((str(msg["To"]), str(msg["Subject"]), payload.decode()))
    return out
