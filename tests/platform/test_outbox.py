"""The outbox: written with the change, delivered by the worker at least once, retried with
back-off, dead-lettered, replayed; on huey's SQLite storage and, when it answers, Redis."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.outbox import relay
from reelshop.outbox.models import OutboxEvent, OutboxStatus
from reelshop.outbox.service import Handler, emit, subscribe, unsubscribe
from reelshop.worker import Worker

REDIS_URL = "redis://127.0.0.1:6379/0"

Subscribe = Callable[[str, str, Handler], None]


@pytest.fixture
def topic() -> str:
    return f"test.happened_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def handlers() -> Iterator[Subscribe]:
    """Subscribe test handlers; every one is unsubscribed after the test."""
    registered: list[tuple[str, str]] = []

    def add(topic: str, name: str, handler: Handler) -> None:
        subscribe(topic, name=name)(handler)
        registered.append((topic, name))

    yield add
    for topic, name in registered:
        unsubscribe(topic, name)


def make_worker(
    settings: Settings, tmp_path: Path, huey: Huey | None = None, **changes: Any
) -> Worker:
    huey = huey or SqliteHuey("reelshop-test", filename=str(tmp_path / "huey.db"))
    return Worker(settings.model_copy(update=changes), huey=huey)


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[Worker]:
    w = make_worker(settings, tmp_path)
    yield w
    w.engine.dispose()


def emit_committed(factory: sessionmaker[Session], topic: str, **payload: Any) -> str:
    with unit_of_work(factory) as s:
        event = emit(session=s, topic=topic, payload=payload, subject_id="usr_test")
        s.flush()
        return event.id


def load(factory: sessionmaker[Session], event_id: str) -> OutboxEvent:
    with factory() as s:
        event = s.get(OutboxEvent, event_id)
        assert event is not None
        return event


def make_due_now(factory: sessionmaker[Session], event_id: str) -> None:
    with unit_of_work(factory) as s:
        event = s.get(OutboxEvent, event_id)
        assert event is not None
        event.next_attempt_at = utcnow() - timedelta(seconds=1)


def test_event_is_written_in_the_same_transaction(session: Session, topic: str) -> None:
    emit(session=session, topic=topic, payload={"n": 1})
    session.flush()
    session.rollback()
    count = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == topic)
    assert session.scalar(count) == 0

    event = emit(session=session, topic=topic, payload={"n": 2}, subject_id="ord_x")
    session.commit()
    session.rollback()
    assert session.scalar(count) == 1
    stored = session.get(OutboxEvent, event.id)
    assert stored is not None
    assert stored.status == OutboxStatus.PENDING and stored.attempts == 0
    assert stored.payload == {"n": 2} and stored.id.startswith("evt_")


def _deliver_and_check(worker: Worker, topic: str, handlers: Subscribe) -> None:
    seen: list[dict[str, Any]] = []
    follow_up = f"{topic}.follow_up"
    followed: list[str] = []

    def record(session: Session, event: OutboxEvent) -> None:
        seen.append(dict(event.payload))
        # A handler's own writes (here: another event) commit with the record that it ran.
        emit(session=session, topic=follow_up, payload={"after": event.id})

    handlers(topic, "test.record", record)
    handlers(follow_up, "test.follow", lambda _s, e: followed.append(e.payload["after"]))
    event_id = emit_committed(worker.factory, topic, order="ord_1")

    assert worker.drain() >= 2
    assert seen == [{"order": "ord_1"}]
    assert followed == [event_id]
    delivered = load(worker.factory, event_id)
    assert delivered.status == OutboxStatus.DELIVERED
    assert delivered.handlers_done == ["test.record"]
    assert delivered.delivered_at is not None and delivered.last_error is None

    assert worker.drain() == 0
    assert len(seen) == 1


def test_worker_delivers_to_subscribed_handlers(
    worker: Worker, topic: str, handlers: Subscribe
) -> None:
    _deliver_and_check(worker, topic, handlers)


def test_failing_handler_backs_off_then_is_dead_lettered_and_replayed(
    settings: Settings, tmp_path: Path, topic: str, handlers: Subscribe
) -> None:
    worker = make_worker(settings, tmp_path, outbox_retry_base_s=10.0, outbox_max_attempts=3)
    calls: list[str] = []
    broken = {"yes": True}

    def flaky(_session: Session, event: OutboxEvent) -> None:
        calls.append(event.id)
        if broken["yes"]:
            raise RuntimeError("carrier API is down")

    handlers(topic, "test.flaky", flaky)
    event_id = emit_committed(worker.factory, topic)

    worker.drain()
    first = load(worker.factory, event_id)
    assert len(calls) == 1
    assert first.status == OutboxStatus.PENDING and first.attempts == 1
    assert "test.flaky" in (first.last_error or "") and "carrier API is down" in (
        first.last_error or ""
    )
    first_delay = (first.next_attempt_at - utcnow()).total_seconds()
    assert 8 < first_delay <= 10

    worker.drain()  # not due yet: nothing runs
    assert len(calls) == 1

    make_due_now(worker.factory, event_id)
    worker.drain()
    second = load(worker.factory, event_id)
    assert len(calls) == 2 and second.attempts == 2
    second_delay = (second.next_attempt_at - utcnow()).total_seconds()
    assert 18 < second_delay <= 20  # exponential

    make_due_now(worker.factory, event_id)
    worker.drain()
    dead = load(worker.factory, event_id)
    assert len(calls) == 3
    assert dead.status == OutboxStatus.DEAD and dead.attempts == 3

    make_due_now(worker.factory, event_id)
    worker.drain()
    assert len(calls) == 3, "a dead event is not retried"

    broken["yes"] = False
    assert relay.replay_dead(worker.factory, topic="other.topic") == 0
    assert relay.replay_dead(worker.factory, topic=topic) == 1
    worker.drain()
    assert len(calls) == 4
    assert load(worker.factory, event_id).status == OutboxStatus.DELIVERED
    worker.engine.dispose()


def test_a_handler_that_succeeded_is_not_rerun_when_a_later_one_fails(
    worker: Worker, topic: str, handlers: Subscribe
) -> None:
    first_calls: list[str] = []
    second_calls: list[str] = []

    def first(_session: Session, event: OutboxEvent) -> None:
        first_calls.append(event.id)

    def second(_session: Session, event: OutboxEvent) -> None:
        second_calls.append(event.id)
        if len(second_calls) < 3:
            raise ValueError("not yet")

    handlers(topic, "test.first", first)
    handlers(topic, "test.second", second)
    event_id = emit_committed(worker.factory, topic)
    worker.drain()  # retry base is 0 in tests: the retries are due at once
    event = load(worker.factory, event_id)
    assert event.status == OutboxStatus.DELIVERED
    assert event.handlers_done == ["test.first", "test.second"]
    assert len(first_calls) == 1
    assert len(second_calls) == 3


def test_a_failing_handler_writes_nothing(worker: Worker, topic: str, handlers: Subscribe) -> None:
    def half_done(session: Session, event: OutboxEvent) -> None:
        emit(session=session, topic=f"{topic}.never", payload={})
        session.flush()
        raise RuntimeError("fails after writing")

    handlers(topic, "test.half_done", half_done)
    emit_committed(worker.factory, topic)
    worker.drain()
    with worker.factory() as s:
        never = s.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.topic == f"{topic}.never")
        )
    assert never == 0


def test_claimed_but_undelivered_event_is_reclaimed_after_the_visibility_timeout(
    worker: Worker, topic: str, handlers: Subscribe
) -> None:
    calls: list[str] = []
    handlers(topic, "test.count", lambda _s, e: calls.append(e.id))
    event_id = emit_committed(worker.factory, topic)

    # The relay claims the event, then dies before the task reaches the queue.
    assert relay.claim_due_events(worker.factory) == [event_id]
    claimed = load(worker.factory, event_id)
    assert claimed.status == OutboxStatus.QUEUED
    assert claimed.next_attempt_at > utcnow() + relay.VISIBILITY_TIMEOUT - timedelta(seconds=5)
    assert relay.claim_due_events(worker.factory) == []
    worker.drain()
    assert calls == []

    make_due_now(worker.factory, event_id)  # the visibility timeout has passed
    worker.drain()
    assert calls == [event_id]
    assert load(worker.factory, event_id).status == OutboxStatus.DELIVERED


def test_delivery_of_a_vanished_event_is_harmless(worker: Worker) -> None:
    assert relay.deliver(worker.factory, worker.settings, "evt_doesnotexist") == "missing"


@pytest.fixture
def redis_huey() -> Iterator[Huey]:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except Exception:
        pytest.skip("no Redis answers at 127.0.0.1:6379")
    # Non-blocking reads: drain() polls until the queue is empty.
    huey = RedisHuey(f"reelshop-test-{uuid.uuid4().hex[:8]}", url=REDIS_URL, blocking=False)
    yield huey
    huey.flush()


def test_worker_on_redis_delivers_and_retries(
    settings: Settings, tmp_path: Path, redis_huey: Huey, topic: str, handlers: Subscribe
) -> None:
    worker = make_worker(settings, tmp_path, huey=redis_huey)
    try:
        _deliver_and_check(worker, topic, handlers)
        retried: list[str] = []

        def once_broken(_session: Session, event: OutboxEvent) -> None:
            retried.append(event.id)
            if len(retried) == 1:
                raise RuntimeError("first try fails")

        handlers(f"{topic}.retry", "test.once_broken", once_broken)
        event_id = emit_committed(worker.factory, f"{topic}.retry")
        worker.drain()
        assert len(retried) == 2
        assert load(worker.factory, event_id).status == OutboxStatus.DELIVERED
    finally:
        worker.engine.dispose()
