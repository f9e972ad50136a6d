"""Move due outbox events onto the task queue, and deliver one event to its handlers.

The relay marks events ``queued`` with a visibility deadline before enqueueing; an
event whose delivery never reports back is picked up again after the deadline, so a
crash anywhere loses nothing (at-least-once).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.outbox.models import OutboxEvent, OutboxStatus
from reelshop.outbox.service import subscriptions

log = logging.getLogger("reelshop.outbox")

VISIBILITY_TIMEOUT = timedelta(minutes=5)


def claim_due_events(factory: sessionmaker[Session], *, limit: int = 200) -> list[str]:
    """Mark up to ``limit`` due events as queued; return their ids."""
    now = utcnow()
    with unit_of_work(factory) as session:
        query = (
            select(OutboxEvent)
            .where(
                or_(
                    OutboxEvent.status == OutboxStatus.PENDING,
                    OutboxEvent.status == OutboxStatus.QUEUED,
                ),
                OutboxEvent.next_attempt_at <= now,
            )
            .order_by(OutboxEvent.next_attempt_at)
            .limit(limit)
        )
        query = query.with_for_update(skip_locked=True)
        events = list(session.scalars(query))
        for event in events:
            event.status = OutboxStatus.QUEUED
            event.next_attempt_at = now + VISIBILITY_TIMEOUT
        return [e.id for e in events]


def relay_once(factory: sessionmaker[Session], enqueue: Callable[[str], object]) -> int:
    ids = claim_due_events(factory)
    for event_id in ids:
        enqueue(event_id)
    return len(ids)


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    return timedelta(seconds=settings.outbox_retry_base_s * (2 ** max(0, attempts - 1)))


def deliver(factory: sessionmaker[Session], settings: Settings, event_id: str) -> str:
    """Run every handler of the event that has not yet succeeded. Returns the new status."""
    with unit_of_work(factory) as session:
        query = select(OutboxEvent).where(OutboxEvent.id == event_id)
        query = query.with_for_update()
        event = session.scalars(query).first()
        if event is None:
            log.warning("outbox event vanished", extra={"event_id": event_id})
            return "missing"
        if event.status in (OutboxStatus.DELIVERED, OutboxStatus.DEAD):
            return event.status
        done = list(event.handlers_done)
        for sub in subscriptions(event.topic):
            if sub.name in done:
                continue
            try:
                with session.begin_nested():
                    sub.handler(session, event)
            except Exception as exc:
                event.attempts += 1
                event.handlers_done = done
                event.last_error = f"{sub.name}: {exc!r}\n{traceback.format_exc(limit=5)}"
                if event.attempts >= settings.outbox_max_attempts:
                    event.status = OutboxStatus.DEAD
                    log.error(
                        "outbox event dead-lettered",
                        extra={"event_id": event.id, "topic": event.topic, "handler": sub.name},
                    )
                else:
                    event.status = OutboxStatus.PENDING
                    event.next_attempt_at = utcnow() + retry_delay(settings, event.attempts)
                    log.warning(
                        "outbox handler failed; will retry",
                        extra={
                            "event_id": event.id,
                            "handler": sub.name,
                            "attempt": event.attempts,
                        },
                    )
                return event.status
            done.append(sub.name)
        event.handlers_done = done
        event.status = OutboxStatus.DELIVERED
        event.delivered_at = utcnow()
        event.last_error = None
        return event.status


def replay_dead(factory: sessionmaker[Session], *, topic: str | None = None) -> int:
    """Put dead-lettered events back in line (after the cause is fixed)."""
    with unit_of_work(factory) as session:
        query = select(OutboxEvent).where(OutboxEvent.status == OutboxStatus.DEAD)
        if topic:
            query = query.where(OutboxEvent.topic == topic)
        events = list(session.scalars(query))
        for event in events:
            event.status = OutboxStatus.PENDING
            event.attempts = 0
            event.next_attempt_at = utcnow()
        return len(events)
