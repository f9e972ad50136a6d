"""Write outbox events inside the caller's transaction, and register their handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from reelshop.outbox.models import OutboxEvent

Handler = Callable[[Session, OutboxEvent], None]


@dataclass(frozen=True)
class Subscription:
    topic: str
    name: str
    handler: Handler


_SUBSCRIPTIONS: dict[str, dict[str, Subscription]] = {}


def emit(
    *, session: Session, topic: str, payload: dict[str, Any], subject_id: str | None = None
) -> OutboxEvent:
    """Record that something happened; delivered after (and only if) the transaction commits."""
    event = OutboxEvent(topic=topic, payload=payload, subject_id=subject_id)
    session.add(event)
    return event


def subscribe(topic: str, name: str | None = None) -> Callable[[Handler], Handler]:
    """Register a handler for a topic. Handlers run in the worker and must be idempotent:
    delivery is at-least-once. A handler's database work commits together with the
    record that it ran, so for the database it happens once."""

    def decorator(fn: Handler) -> Handler:
        key = name or f"{fn.__module__}.{fn.__qualname__}"
        _SUBSCRIPTIONS.setdefault(topic, {})[key] = Subscription(topic, key, fn)
        return fn

    return decorator


def unsubscribe(topic: str, name: str) -> None:
    _SUBSCRIPTIONS.get(topic, {}).pop(name, None)


def subscriptions(topic: str) -> list[Subscription]:
    return list(_SUBSCRIPTIONS.get(topic, {}).values())
