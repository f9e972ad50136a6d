"""Blobs stored by a request that then fails are deleted again.

An upload route stores the file first and writes its database row after; if the
request ends in an error (the row was refused, a later check failed, the server
crashed), the unit of work rolls back and the stored object would be an orphan
nobody can reach or delete. :class:`TrackingStorage` records every key a request
stores; :class:`UploadCleanupMiddleware` deletes them when the response is an error
(4xx/5xx or an exception), and keeps them when it succeeds. Work outside requests
(jobs, seeding) is not tracked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextvars import ContextVar

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelshop.storage import Storage

log = logging.getLogger("reelshop.uploads")

_stored: ContextVar[list[str] | None] = ContextVar("reelshop_stored_keys", default=None)


class TrackingStorage:
    """A storage that tells the current request which keys it wrote."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self.inner.put(key, data, content_type=content_type)
        stored = _stored.get()
        if stored is not None:
            stored.append(key)

    def get(self, key: str) -> bytes:
        return self.inner.get(key)

    def size(self, key: str) -> int:
        return self.inner.size(key)

    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        return self.inner.open_range(key, start, end)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)


def _delete_all(storage: Storage, keys: list[str]) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # a cleanup that fails must not hide the request's own error
            log.warning("could not delete an orphaned upload", extra={"key": key})


class UploadCleanupMiddleware:
    def __init__(self, app: ASGIApp, *, storage: TrackingStorage) -> None:
        self.app = app
        self.storage = storage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        stored: list[str] = []
        token = _stored.set(stored)
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            _stored.reset(token)
            if stored and status >= 400:
                await run_in_threadpool(_delete_all, self.storage, stored)
