"""The periodic-job scheduler the worker runs, and the payments jobs registered on it."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

import reelshop.jobs  # noqa: F401 - registers every domain's jobs
from reelshop.config import Settings
from reelshop.scheduling import JobContext, Scheduler, periodic, periodic_jobs


def test_payments_jobs_are_registered() -> None:
    names = {job.name for job in periodic_jobs()}
    assert {
        "payments.deliver_simulated_webhooks",
        "payments.settle_delivered",
        "payments.run_payouts",
    } <= names


def test_scheduler_runs_jobs_when_due_and_survives_failures(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    ran: list[str] = []

    @periodic("tests.tick", every_s=10)
    def tick(ctx: JobContext) -> None:
        ran.append("tick")

    @periodic("tests.broken", every_s=10)
    def broken(ctx: JobContext) -> None:
        ran.append("broken")
        raise RuntimeError("boom")

    try:
        scheduler = Scheduler(JobContext(session_factory, settings))
        scheduler.last_run.update(
            {job.name: 1e9 for job in periodic_jobs() if not job.name.startswith("tests.")}
        )
        assert {"tests.tick", "tests.broken"} <= set(scheduler.run_due(now=1.0))
        assert scheduler.run_due(now=5.0) == []
        assert set(scheduler.run_due(now=12.0)) >= {"tests.tick", "tests.broken"}
        assert ran.count("tick") == 2 and ran.count("broken") == 2
    finally:
        from reelshop import scheduling

        scheduling._JOBS.pop("tests.tick", None)
        scheduling._JOBS.pop("tests.broken", None)


def test_worker_runs_due_periodic_jobs_through_the_task_queue(
    settings: Settings, tmp_path: object
) -> None:
    from pathlib import Path

    from huey import SqliteHuey

    from reelshop import scheduling
    from reelshop.worker import Worker

    ran: list[str] = []

    @periodic("tests.queued", every_s=3600)
    def queued(ctx: JobContext) -> None:
        ran.append(ctx.settings.database_url)

    worker = Worker(settings, huey=SqliteHuey("t", filename=str(Path(str(tmp_path)) / "q.db")))
    try:
        worker.scheduler.last_run.update(
            {job.name: 1e12 for job in periodic_jobs() if job.name != "tests.queued"}
        )
        worker.tick()
        assert ran == []  # enqueued, not run inline
        worker.drain()
        assert ran == [settings.database_url]
        worker.tick()
        worker.drain()
        assert len(ran) == 1  # not due again for an hour
    finally:
        scheduling._JOBS.pop("tests.queued", None)
        worker.engine.dispose()
