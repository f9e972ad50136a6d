"""The hash-chained audit log: verifies when intact, detects edits and deletions, stays one
chain under concurrent appends; ``reelshop audit verify`` exits non-zero when broken."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from itertools import pairwise

import pytest
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from reelshop.cli import app as cli
from reelshop.config import get_settings
from reelshop.db import make_session_factory, unit_of_work
from reelshop.security import audit
from reelshop.security.models import AuditEntry


@pytest.fixture
def writer(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def append(factory: sessionmaker[Session], n: int, actor: str = "usr_staff") -> None:
    for i in range(n):
        with unit_of_work(factory) as s:
            audit.record(
                session=s,
                actor_id=actor,
                action="seller.approved",
                target_type="seller",
                target_id=f"sel_{i}",
                reason="documents verified",
                detail={"i": i},
            )


def verify(factory: sessionmaker[Session]) -> audit.ChainReport:
    with factory() as s:
        return audit.verify(session=s)


def test_empty_and_intact_chains_verify(writer: sessionmaker[Session]) -> None:
    assert verify(writer) == audit.ChainReport(0, True)
    append(writer, 5)
    report = verify(writer)
    assert report.ok and report.entries == 5
    with writer() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in pairwise(entries))


@pytest.mark.parametrize(
    "change",
    [
        {"action": "seller.rejected"},
        {"actor_id": "usr_someone_else"},
        {"reason": "no reason"},
        {"detail": {"i": 99}},
        {"target_id": "sel_other"},
    ],
)
def test_editing_a_field_is_detected(writer: sessionmaker[Session], change: dict) -> None:
    append(writer, 4)
    with unit_of_work(writer) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(**change))
    report = verify(writer)
    assert not report.ok
    assert report.first_bad_seq == 2 and report.problem == "entry was altered"


def test_rehashing_an_edited_entry_breaks_the_next_link(writer: sessionmaker[Session]) -> None:
    append(writer, 4)
    with unit_of_work(writer) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(entry_hash="f" * 64))
    report = verify(writer)
    assert not report.ok and report.first_bad_seq == 2


def test_deleting_a_middle_entry_is_detected(writer: sessionmaker[Session]) -> None:
    append(writer, 5)
    with unit_of_work(writer) as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    report = verify(writer)
    assert not report.ok
    assert report.first_bad_seq == 3 and report.problem == "missing entry"


def test_deleting_the_last_entry_is_detected(writer: sessionmaker[Session]) -> None:
    append(writer, 5)
    with unit_of_work(writer) as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    report = verify(writer)
    assert not report.ok
    assert report.problem == "entries after the last one were removed"


def test_concurrent_appends_form_one_chain(writer: sessionmaker[Session]) -> None:
    threads_n, each = 8, 10
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def run(t: int) -> None:
        try:
            start.wait()
            append(writer, each, actor=f"usr_thread{t}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    report = verify(writer)
    assert report.ok, report
    assert report.entries == threads_n * each
    with writer() as s:
        assert s.scalar(select(func.count(func.distinct(AuditEntry.prev_hash)))) == threads_n * each


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REELSHOP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
def test_cli_verify_exit_code(writer: sessionmaker[Session]) -> None:
    runner = CliRunner()
    append(writer, 3)
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output and "3 entries" in ok.output

    with unit_of_work(writer) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(reason="edited"))
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1, broken.output
    assert "broken at entry 1" in broken.output
