"""Uploaded product images: sniffed, limited, re-encoded without metadata, served safely."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.catalog import images as pipeline
from reelshop.catalog.models import ProductImage
from reelshop.config import Settings
from reelshop.errors import ProblemError
from tests.catalog.support import make_tree, png_bytes, product_body, seller_with_token

GPS_IFD = 0x8825
MAKE = 0x010F


def jpeg_with_gps(size: tuple[int, int] = (800, 600)) -> bytes:
    image = Image.new("RGB", size, (40, 120, 200))
    exif = Image.Exif()
    exif[MAKE] = "SpyCam 3000"
    exif[GPS_IFD] = {1: "N", 2: (37.0, 46.0, 29.7), 3: "W", 4: (122.0, 25.0, 9.8)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def stored_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "media"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def image_rows(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(ProductImage)) or 0)


@pytest.fixture
def listed(client: TestClient, session: Session) -> tuple[str, dict[str, str]]:
    make_tree(session)
    _, headers = seller_with_token(client, session)
    response = client.post("/api/v1/seller/products", json=product_body(), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"], headers


def upload(
    client: TestClient, product_id: str, headers: dict[str, str], data: bytes, name: str
) -> Any:
    return client.post(
        f"/api/v1/seller/products/{product_id}/images",
        files={"file": (name, data, "image/jpeg")},
        data={"alt": "Earbuds in their case"},
        headers=headers,
    )


def test_the_test_jpeg_really_carries_gps() -> None:
    exif = Image.open(io.BytesIO(jpeg_with_gps())).getexif()
    assert exif[MAKE] == "SpyCam 3000"
    assert exif.get_ifd(GPS_IFD)


def test_upload_reencodes_to_webp_without_exif_and_serves_it(
    client: TestClient, session: Session, listed: tuple[str, dict[str, str]]
) -> None:
    product_id, headers = listed
    response = upload(client, product_id, headers, jpeg_with_gps(), "holiday.jpg")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "image/webp"
    assert (body["width"], body["height"]) == (800, 600)
    assert body["alt"] == "Earbuds in their case"

    served = client.get(body["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"
    assert "immutable" in served.headers["cache-control"]
    assert served.headers["x-content-type-options"] == "nosniff"
    assert b"SpyCam" not in served.content and b"Exif" not in served.content
    clean = Image.open(io.BytesIO(served.content))
    assert clean.format == "WEBP"
    assert not clean.getexif()
    assert not clean.getexif().get_ifd(GPS_IFD)

    again = client.get(body["url"], headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304

    thumb = client.get(body["thumb_url"])
    assert thumb.status_code == 200
    assert max(Image.open(io.BytesIO(thumb.content)).size) == pipeline.THUMB_SIDE

    product = client.get(f"/api/v1/seller/products/{product_id}", headers=headers).json()
    assert [i["id"] for i in product["images"]] == [body["id"]]


def test_transparent_png_keeps_its_alpha() -> None:
    image = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    processed = pipeline.process(out.getvalue())
    assert Image.open(io.BytesIO(processed.data)).mode == "RGBA"


def _truncated_jpeg() -> bytes:
    return jpeg_with_gps()[:400]


BAD_FILES = [
    ("text named .jpg", b"<html><script>alert(1)</script></html>" * 10, 415),
    ("empty", b"", 415),
    ("gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01", 415),
    ("truncated jpeg", b"", 415),  # filled in below
    ("too many bytes", b"\xff\xd8\xff" + b"\x00" * (pipeline.MAX_BYTES + 1), 413),
    ("too small", b"", 422),  # filled in below
]


@pytest.mark.parametrize(("label", "data", "status"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_and_nothing_is_stored(
    client: TestClient,
    session: Session,
    settings: Settings,
    listed: tuple[str, dict[str, str]],
    label: str,
    data: bytes,
    status: int,
) -> None:
    if label == "truncated jpeg":
        data = _truncated_jpeg()
    if label == "too small":
        data = png_bytes((4, 4))
    product_id, headers = listed
    response = upload(client, product_id, headers, data, "photo.jpg")
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]
    if status == 415:
        assert response.json()["detail"].startswith("photo.jpg: ")
    assert image_rows(session) == 0
    assert stored_files(settings) == []


def test_too_many_pixels_is_422(
    client: TestClient, session: Session, listed: tuple[str, dict[str, str]]
) -> None:
    out = io.BytesIO()
    Image.new("L", (8000, 5001)).save(out, format="PNG")
    assert len(out.getvalue()) < pipeline.MAX_BYTES  # small file, huge picture
    product_id, headers = listed
    response = upload(client, product_id, headers, out.getvalue(), "bomb.png")
    assert response.status_code == 422
    assert "megapixels" in response.json()["detail"]
    assert image_rows(session) == 0


def test_pipeline_refuses_oversized_bytes_directly() -> None:
    with pytest.raises(ProblemError) as caught:
        pipeline.process(b"\x89PNG" + b"\x00" * pipeline.MAX_BYTES)
    assert caught.value.status == 413


def test_media_serves_only_known_keys(
    client: TestClient, settings: Settings, listed: tuple[str, dict[str, str]]
) -> None:
    product_id, headers = listed
    body = upload(client, product_id, headers, png_bytes((200, 200)), "a.png").json()
    key = body["url"].removeprefix("/media/")
    # A file that is in storage but belongs to no image record is not served.
    stray = settings.data_dir / "media" / "images" / "stray.html"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_text("<script>alert(1)</script>")
    for path in (
        "/media/images/stray.html",
        "/media/" + key.replace(".webp", ".png"),
        "/media/../../etc/passwd",
        "/media/images/%2e%2e/%2e%2e/etc/passwd",
        "/media/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
    assert client.get(body["url"]).status_code == 200
