"""Admission control: at most N requests per process inside the database layer.

A request holds a database connection (on SQLite: the write lock, taken by
``BEGIN IMMEDIATE``) from the caller lookup until its unit of work commits, and it
hops between the event loop and the server's thread pool (40 threads) on the way.
Without a limit, a burst of requests fills every thread with requests *waiting* for
a connection or for SQLite's lock while the requests that hold them wait for a free
thread to finish: a starvation that ends in pool timeouts or "database is locked"
after 30 s (seen at ~50 concurrent checkouts on SQLite, ~100 on PostgreSQL).

This ASGI middleware queues requests on an asyncio semaphore *before* they take a
thread or a connection:

- SQLite: 1 per process. Writers run one at a time anyway; the other processes
  (uvicorn workers) take turns through SQLite's own lock.
- PostgreSQL: half the engine's pool (10 + 20 overflow) — a request may hold two
  connections (its writing unit of work and a read-only one) — so an admitted request
  never waits for a connection or a thread.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

UNGATED_PREFIXES = ("/static/", "/media/", "/healthz", "/readyz", "/metrics")
POSTGRES_LIMIT = 15
SQLITE_LIMIT = 1


class DatabaseRequestGate:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._gates: dict[int, asyncio.Semaphore] = {}

    def _gate(self) -> asyncio.Semaphore:
        # One semaphore per event loop (each test client runs its own loop).
        loop = asyncio.get_running_loop()
        gate = self._gates.get(id(loop))
        if gate is None:
            gate = self._gates[id(loop)] = asyncio.Semaphore(self.limit)
        return gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNGATED_PREFIXES):
            await self.app(scope, receive, send)
            return
        async with self._gate():
            await self.app(scope, receive, send)
