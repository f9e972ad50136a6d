"""GET /media/{key}: stored uploads, served only for keys the database knows.

A key is opaque and unguessable, and the object behind it never changes (a new
upload gets a new key), so responses are cacheable for a year. The content type
comes from the database record, never from the key's suffix, and browsers are told
not to sniff.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response

from reelshop.catalog import service as catalog
from reelshop.errors import NotFound
from reelshop.security.authz import ReadDbSession
from reelshop.storage import StorageError, get_storage

router = APIRouter(tags=["media"])

SAFE_IMAGE_TYPES = frozenset({"image/webp", "image/jpeg", "image/png"})
CACHE_FOREVER = "public, max-age=31536000, immutable"


@router.get(
    "/media/{key:path}",
    summary="A stored image",
    responses={404: {"description": "No such object"}},
    response_class=Response,
)
def media(key: str, request: Request, session: ReadDbSession) -> Response:
    image = catalog.image_for_key(session=session, key=key) if ".." not in key else None
    if image is None or image.content_type not in SAFE_IMAGE_TYPES:
        raise NotFound("no such file")
    etag = '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
    headers = {
        "Cache-Control": CACHE_FOREVER,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    try:
        data = get_storage().get(key)
    except StorageError:
        raise NotFound("no such file") from None
    return Response(content=data, media_type=image.content_type, headers=headers)
