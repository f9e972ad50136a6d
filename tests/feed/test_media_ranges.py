"""Video media with HTTP range requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelshop.storage import LocalStorage, configure
from reelshop.web.video_media import parse_range

BODY = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def stored(tmp_path: Path) -> str:
    store = LocalStorage(tmp_path / "media")
    configure(store)
    store.put("videos/ab/obj_clip.mp4", BODY, content_type="video/mp4")
    return "/media/videos/ab/obj_clip.mp4"


def test_whole_object_advertises_ranges(client: TestClient, stored: str) -> None:
    response = client.get(stored)
    assert response.status_code == 200
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "video/mp4"
    assert response.content == BODY


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
        ("bytes=10200-99999", 10200, 10239),
    ],
)
def test_partial_content(
    client: TestClient, stored: str, header: str, start: int, end: int
) -> None:
    response = client.get(stored, headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(BODY)}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.content == BODY[start : end + 1]


@pytest.mark.parametrize(
    "header", ["bytes=20000-", "bytes=50-10", "bytes=-0", "items=0-5", "bytes=x-"]
)
def test_unsatisfiable_ranges_are_416(client: TestClient, stored: str, header: str) -> None:
    response = client.get(stored, headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(BODY)}"


def test_head_and_unknown(client: TestClient, stored: str) -> None:
    head = client.head(stored, headers={"Range": "bytes=0-9"})
    assert head.status_code == 206 and head.headers["content-length"] == "10"
    assert client.get("/media/videos/ab/obj_missing.mp4").status_code == 404
    assert client.get("/media/videos/../secrets.mp4").status_code == 404


def test_parse_range_multi_range_serves_whole() -> None:
    assert parse_range("bytes=0-1,5-6", 100) is None
