"""Shared set-up for the trust tests: threads racing on real units of work."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from reelshop.db import make_session_factory, unit_of_work
from reelshop.errors import Conflict


def run_threads(n: int, work: Callable[[Session, int], None], engine: Engine) -> list[str]:
    """Run ``work`` in ``n`` threads at once; each outcome is "ok", "conflict" or repr."""
    factory = make_session_factory(engine)
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one(index: int) -> None:
        start.wait()
        try:
            with unit_of_work(factory) as session:
                work(session, index)
            outcome = "ok"
        except Conflict:
            outcome = "conflict"
        except Exception as exc:
            outcome = repr(exc)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes
