"""Periodic jobs: work that runs on a clock rather than in reaction to an event.

A domain registers one in its ``jobs.py`` with ``@periodic("domain.verb", every_s=...)``;
``reelshop worker`` (and the demo's background worker) runs each when it is due. A job
opens its own units of work and must be safe to run twice or concurrently: the
guards are in the database, not in the scheduler.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from reelshop.config import Settings

log = logging.getLogger("reelshop.scheduling")


@dataclass(frozen=True)
class JobContext:
    factory: sessionmaker[Session]
    settings: Settings


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_s: float
    run: Callable[[JobContext], object]


_JOBS: dict[str, PeriodicJob] = {}


def periodic(
    name: str, *, every_s: float
) -> Callable[[Callable[[JobContext], object]], Callable[[JobContext], object]]:
    def decorator(fn: Callable[[JobContext], object]) -> Callable[[JobContext], object]:
        _JOBS[name] = PeriodicJob(name, every_s, fn)
        return fn

    return decorator


def periodic_jobs() -> list[PeriodicJob]:
    return list(_JOBS.values())


@dataclass
class Scheduler:
    """Runs each registered job when its interval has passed since its last run."""

    context: JobContext
    last_run: dict[str, float] = field(default_factory=dict)

    def run_due(
        self, *, now: float | None = None, enqueue: Callable[[str], object] | None = None
    ) -> list[str]:
        """Start every job whose interval has passed. With ``enqueue`` (the worker) a due
        job is handed to the task queue by name and runs on a consumer thread; without
        it (tests) it runs here."""
        now = time.monotonic() if now is None else now
        started = []
        for job in periodic_jobs():
            last = self.last_run.get(job.name)
            if last is not None and now - last < job.every_s:
                continue
            self.last_run[job.name] = now
            if enqueue is not None:
                enqueue(job.name)
            else:
                run_job(job.name, self.context)
            started.append(job.name)
        return started


def run_job(name: str, context: JobContext) -> None:
    job = _JOBS.get(name)
    if job is None:
        log.warning("no periodic job by that name", extra={"job": name})
        return
    try:
        job.run(context)
    except Exception:
        log.exception("periodic job failed; will run again", extra={"job": name})
