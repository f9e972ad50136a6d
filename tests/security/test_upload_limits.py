"""Request body caps (413 problem) app-wide and per upload route; blobs stored by a
request that fails are deleted; media and documents are served with safe headers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reelshop.accounts.models import Role
from reelshop.catalog.images import MAX_BYTES as MAX_IMAGE_BYTES
from reelshop.security.body_limit import MULTIPART_ROOM, cap_for
from reelshop.security.upload_cleanup import TrackingStorage, UploadCleanupMiddleware
from reelshop.storage import LocalStorage
from tests.factories import api_login, make_product, make_seller, make_user

MIB = 1024 * 1024


def assert_413(response: object) -> None:
    assert response.status_code == 413, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert response.json()["type"].endswith("/payload-too-large")  # type: ignore[attr-defined]


def test_a_large_json_body_is_refused_before_it_is_read(client: TestClient) -> None:
    body = b'{"email": "a@example.com", "name": "' + b"x" * (2 * MIB) + b'"}'
    response = client.post(
        "/api/v1/auth/signup", content=body, headers={"content-type": "application/json"}
    )
    assert_413(response)


def test_a_chunked_body_without_length_is_cut_off(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 64 * 1024  # 2.5 MiB in all, no Content-Length

    response = client.post(
        "/api/v1/auth/signup", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_413(response)


def test_small_bodies_pass(client: TestClient) -> None:
    response = client.post("/api/v1/auth/signup", json={"email": "nope"})
    assert response.status_code == 422


def test_upload_routes_have_their_own_caps() -> None:
    assert cap_for("/api/v1/videos", MIB) > 50 * MIB
    assert cap_for("/studio/videos", MIB) > 50 * MIB
    assert cap_for("/api/v1/seller/products/prd_x/images", MIB) == MAX_IMAGE_BYTES + MULTIPART_ROOM
    assert cap_for("/seller/onboarding", MIB) > 15 * MIB
    assert cap_for("/api/v1/seller-applications/apl_x/resubmit", MIB) > 15 * MIB
    assert cap_for("/api/v1/seller/imports", MIB) > 15 * MIB
    assert cap_for("/api/v1/auth/signup", MIB) == MIB


def _jpeg(size: int) -> bytes:
    """A real JPEG padded with a trailing comment-free blob to ``size`` bytes."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 90)).save(buffer, "JPEG")
    data = buffer.getvalue()
    return data + b"\0" * max(0, size - len(data))


def test_an_image_above_the_app_cap_reaches_the_image_route(
    client: TestClient, session: Session
) -> None:
    user, seller = make_seller(session)
    product = make_product(session, seller=seller)
    headers = api_login(client, user.email)
    response = client.post(
        f"/api/v1/seller/products/{product.id}/images",
        files={"file": ("big.jpg", _jpeg(3 * MIB), "image/jpeg")},
        headers=headers,
    )
    # Not the app-wide 413: the route ran (and refused the padded file for its own reasons
    # or stored it).
    assert response.status_code != 413, response.text
    too_big = client.post(
        f"/api/v1/seller/products/{product.id}/images",
        files={"file": ("huge.jpg", _jpeg(MAX_IMAGE_BYTES + MULTIPART_ROOM + 10), "image/jpeg")},
        headers=headers,
    )
    assert_413(too_big)


# --- orphan clean-up ------------------------------------------------------------------------


@pytest.fixture
def tracked(tmp_path: Path) -> TrackingStorage:
    return TrackingStorage(LocalStorage(tmp_path / "blobs"))


def _app(storage: TrackingStorage) -> Starlette:
    def store_then(request: Request) -> Response:
        outcome = request.path_params["outcome"]
        storage.put(f"uploads/{outcome}.bin", b"data", content_type="application/octet-stream")
        if outcome == "crash":
            raise RuntimeError("the row could not be written")
        return JSONResponse({}, status_code={"ok": 201, "refused": 409}[outcome])

    app = Starlette(routes=[Route("/store/{outcome}", store_then, methods=["POST"])])
    app.add_middleware(UploadCleanupMiddleware, storage=storage)
    return app


@pytest.mark.parametrize(("outcome", "kept"), [("ok", True), ("refused", False), ("crash", False)])
def test_blobs_of_failed_requests_are_deleted(
    tracked: TrackingStorage, outcome: str, kept: bool
) -> None:
    with TestClient(_app(tracked), raise_server_exceptions=False) as c:
        c.post(f"/store/{outcome}")
    assert tracked.exists(f"uploads/{outcome}.bin") is kept


def test_a_refused_video_upload_leaves_no_file(client: TestClient, session: Session) -> None:
    from reelshop.storage import get_storage

    storage = get_storage()
    assert isinstance(storage, TrackingStorage)
    creator = make_user(session, role=Role.CREATOR)
    response = client.post(
        "/api/v1/videos",
        headers=api_login(client, creator.email),
        files={"file": ("clip.mp4", b"\0\0\0\x18ftypisom" + b"\0" * 4000, "video/mp4")},
        data={"product_ids": "prd_nope", "caption": "x"},
    )
    assert 400 <= response.status_code < 500
    inner = storage.inner
    assert isinstance(inner, LocalStorage)
    assert not [p for p in inner.root.rglob("*") if p.is_file()] if inner.root.exists() else True


def test_media_is_served_with_safe_headers(client: TestClient, session: Session) -> None:
    user, seller = make_seller(session)
    product = make_product(session, seller=seller)
    headers = api_login(client, user.email)
    uploaded = client.post(
        f"/api/v1/seller/products/{product.id}/images",
        files={"file": ("p.jpg", _jpeg(0), "image/jpeg")},
        headers=headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    url = uploaded.json()["url"]
    served = client.get(url)
    assert served.status_code == 200
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-type"] in ("image/webp", "image/jpeg", "image/png")
    assert served.headers["content-security-policy"] == "default-src 'none'"
