"""Video and poster media with HTTP range requests, so a phone can seek and resume."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from reelshop.errors import NOT_FOUND, ProblemError, problem_type
from reelshop.storage import StorageError, get_storage

router = APIRouter(include_in_schema=False)

RANGE_NOT_SATISFIABLE = problem_type("range-not-satisfiable", 416, "Range not satisfiable")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".jpg": "image/jpeg", ".png": "image/png"}
CACHE = "public, max-age=31536000, immutable"  # keys are unguessable and never rewritten


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive for a single byte range; None to serve the whole object.
    Raises for a malformed or unsatisfiable range."""
    value = header.strip()
    if "," in value:
        return None  # several ranges: RFC 9110 lets a server answer 200 with everything
    match = _RANGE.match(value)
    if match is None or (not match.group(1) and not match.group(2)):
        raise ValueError("malformed range")
    first, last = match.group(1), match.group(2)
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        if start >= size or (last and int(last) < start):
            raise ValueError("unsatisfiable range")
    else:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise ValueError("unsatisfiable range")
        start, end = max(0, size - suffix), size - 1
    return start, end


@router.api_route("/media/videos/{rest:path}", methods=["GET", "HEAD"])
def video_media(rest: str, request: Request) -> Response:
    key = f"videos/{rest}"
    storage = get_storage()
    content_type = next((t for s, t in _TYPES.items() if key.endswith(s)), None)
    try:
        size = storage.size(key) if content_type else -1
    except StorageError:
        size = -1
    if size < 0 or content_type is None:
        raise ProblemError("no such media", problem=NOT_FOUND)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": CACHE}
    byte_range = None
    if "range" in request.headers:
        try:
            byte_range = parse_range(request.headers["range"], size)
        except ValueError as exc:
            raise ProblemError(
                f"the object has {size} bytes; {exc}",
                problem=RANGE_NOT_SATISFIABLE,
                headers={"Content-Range": f"bytes */{size}", **headers},
            ) from exc
    start, end = byte_range if byte_range else (0, size - 1)
    headers["Content-Length"] = str(end - start + 1 if size else 0)
    status = 200
    if byte_range:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if request.method == "HEAD" or size == 0:
        return Response(status_code=status, headers=headers, media_type=content_type)
    return StreamingResponse(
        storage.open_range(key, start, end),
        status_code=status,
        headers=headers,
        media_type=content_type,
    )
