"""``reelshop worker``: the outbox relay and a huey consumer that delivers events.

huey is the task queue (SQLite file by default, Redis when ``REELSHOP_REDIS_URL``
is set). The relay polls the outbox table and enqueues one ``outbox.deliver`` task
per due event; the consumer runs them. Retries and dead-lettering are tracked on
the outbox row itself, so they survive a lost queue.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

import reelshop.jobs
import reelshop.models  # noqa: F401
from reelshop import storage
from reelshop.analytics import events as analytics_events
from reelshop.config import Settings
from reelshop.db import make_engine, make_session_factory
from reelshop.outbox import relay
from reelshop.scheduling import JobContext, Scheduler, run_job
from reelshop.security import keys

log = logging.getLogger("reelshop.worker")


def make_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    if settings.redis_url:
        return RedisHuey("reelshop", url=settings.redis_url, immediate=immediate)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("reelshop", filename=str(settings.huey_path), immediate=immediate)


class Worker:
    def __init__(self, settings: Settings, huey: Huey | None = None) -> None:
        keys.configure(settings)
        storage.configure(storage.storage_from_settings(settings))
        analytics_events.configure(settings.analytics_path)
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.factory = make_session_factory(self.engine)
        self.huey = huey or make_huey(settings)
        self._stop = threading.Event()
        self.scheduler = Scheduler(JobContext(self.factory, settings))

        @self.huey.task(name="outbox.deliver")  # type: ignore[untyped-decorator]
        def deliver_task(event_id: str) -> str:
            return relay.deliver(self.factory, self.settings, event_id)

        @self.huey.task(name="periodic.run")  # type: ignore[untyped-decorator]
        def periodic_task(name: str) -> None:
            run_job(name, self.scheduler.context)

        self.deliver_task: Any = deliver_task
        self.periodic_task: Any = periodic_task

    def tick(self) -> None:
        """Relay due outbox events and enqueue due periodic jobs (no waiting)."""
        self.relay_once()
        self.scheduler.run_due(enqueue=self.periodic_task)

    def relay_once(self) -> int:
        return relay.relay_once(self.factory, self.deliver_task)

    def drain(self, *, max_rounds: int = 100) -> int:
        """Relay and run queued tasks in this thread until nothing is due (tests, ``--once``)."""
        ran = 0
        for _ in range(max_rounds):
            self.relay_once()
            progressed = False
            while (task := self.huey.dequeue()) is not None:
                self.huey.execute(task)
                ran += 1
                progressed = True
            if not progressed:
                break
        return ran

    def _relay_loop(self, interval_s: float) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("outbox relay failed; retrying")
            self._stop.wait(interval_s)

    def run(self, *, workers: int = 2, relay_interval_s: float = 0.5) -> None:
        thread = threading.Thread(target=self._relay_loop, args=(relay_interval_s,), daemon=True)
        thread.start()
        consumer = Consumer(self.huey, workers=workers, worker_type="thread", periodic=True)
        log.info("worker started", extra={"queue": type(self.huey).__name__, "workers": workers})
        try:
            consumer.run()
        finally:
            self._stop.set()
            thread.join(timeout=5)
            self.engine.dispose()
