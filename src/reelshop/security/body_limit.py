"""An app-wide cap on request bodies (413 problem), with larger caps for upload routes.

Without it, any route that reads a form or JSON body would buffer whatever a client
sends (python-multipart spools big files to disk) before the route's own size check
ran. The cap is checked twice: against ``Content-Length`` before a byte is read, and
while the body streams in (chunked uploads carry no length). Upload routes keep their
own exact per-file checks; their caps here are those limits plus room for the form's
other fields and multipart framing.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelshop.catalog.images import MAX_BYTES as MAX_IMAGE_BYTES
from reelshop.catalog.imports import MAX_IMPORT_BYTES
from reelshop.errors import PAYLOAD_TOO_LARGE
from reelshop.feed.service import MAX_VIDEO_BYTES
from reelshop.sellers.documents import MAX_DOCUMENT_BYTES

MULTIPART_ROOM = 1024 * 1024
# Seller applications carry up to three documents in one request.
DOCUMENTS_PER_APPLICATION = 3

UPLOAD_CAPS: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(pattern), cap + MULTIPART_ROOM)
    for pattern, cap in (
        (r"^(/api/v1)?/studio/videos$|^/api/v1/videos$", MAX_VIDEO_BYTES),
        (
            r"^/api/v1/seller-applications(/[^/]+/resubmit)?$"
            r"|^/seller/onboarding(/[^/]+/resubmit)?$",
            MAX_DOCUMENT_BYTES * DOCUMENTS_PER_APPLICATION,
        ),
        (r"^(/api/v1)?/seller/products/[^/]+/images$", MAX_IMAGE_BYTES),
        (r"^(/api/v1)?/seller/imports$", MAX_IMPORT_BYTES),
    )
)


class BodyTooLarge(Exception):
    pass


def cap_for(path: str, default: int) -> int:
    for pattern, cap in UPLOAD_CAPS:
        if pattern.match(path):
            return cap
    return default


def _problem(cap: int, path: str) -> bytes:
    return json.dumps(
        {
            "type": PAYLOAD_TOO_LARGE.uri,
            "title": PAYLOAD_TOO_LARGE.title,
            "status": PAYLOAD_TOO_LARGE.status,
            "detail": f"the request body is larger than this route accepts ({cap} bytes)",
            "instance": path,
        }
    ).encode()


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, *, default_cap: int) -> None:
        self.app = app
        self.default_cap = default_cap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        cap = cap_for(path, self.default_cap)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            await self._refuse(send, cap, path)
            return

        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the app made of the cut-off body is replaced by the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(send, cap, path)

    @staticmethod
    async def _refuse(send: Send, cap: int, path: str) -> None:
        body = _problem(cap, path)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
