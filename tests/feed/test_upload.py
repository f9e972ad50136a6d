"""Video upload: type from the bytes, size and duration caps, tagging rules; no half-writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role
from reelshop.feed import media, service
from reelshop.feed.models import Video, VideoProductTag
from reelshop.outbox.models import OutboxEvent
from reelshop.storage import LocalStorage, configure
from tests.factories import api_login, make_product, make_seller, make_user
from tests.feed.helpers import mp4_header, real_clip


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    store = LocalStorage(tmp_path / "media")
    configure(store)
    return store


def _count(session: Session) -> tuple[int, int]:
    session.rollback()
    return (
        session.scalar(select(func.count()).select_from(Video)) or 0,
        session.scalar(select(func.count()).select_from(VideoProductTag)) or 0,
    )


def _upload(client: TestClient, headers: dict[str, str], data: bytes, name: str, products: str):
    return client.post(
        "/api/v1/videos",
        headers=headers,
        files={"file": (name, data, "video/mp4")},
        data={"product_ids": products, "caption": "Look at this"},
    )


def test_sniffing_is_by_bytes_not_name() -> None:
    assert media.sniff(real_clip(1.0, "mp4")) == media.MP4
    assert media.sniff(real_clip(1.0, "webm")) == media.WEBM
    with pytest.raises(media.MediaError):
        media.sniff(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(media.MediaError):
        media.sniff(b"<html>not a video</html>")


def test_mvhd_duration_is_read_without_ffprobe() -> None:
    assert media.mp4_duration_ms(mp4_header(90)) == 90_000
    assert media.mp4_duration_ms(mp4_header(7, timescale=600)) == 7_000
    assert media.mp4_duration_ms(b"\0\0\0\x10ftypisom\0\0\0\0") is None


def test_creator_uploads_and_becomes_affiliate(
    client: TestClient, session: Session, storage: LocalStorage
) -> None:
    product = make_product(session)
    creator = make_user(session, role=Role.CREATOR)
    headers = api_login(client, creator.email)
    response = _upload(client, headers, real_clip(1.0, "mp4"), "clip.mp4", product.id)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "video/mp4"
    assert 900 <= body["duration_ms"] <= 1300
    assert body["affiliate"] is True
    session.rollback()
    tag = session.scalars(select(VideoProductTag)).one()
    assert tag.affiliate_user_id == creator.id
    assert (
        session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.topic == "video.published")
        )
        == 1
    )
    poster = client.get(body["poster_url"])
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"


def test_webm_upload_is_accepted(
    client: TestClient, session: Session, storage: LocalStorage
) -> None:
    product = make_product(session)
    creator = make_user(session, role=Role.CREATOR)
    response = _upload(
        client, api_login(client, creator.email), real_clip(1.0, "webm"), "clip.mp4", product.id
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "video/webm"


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"GIF89a" + b"\0" * 2000, 415),  # named .mp4, is not
        (b"\0\0\0\x18ftypqt  \0\0\0\0qt  " + b"\0" * 100, 415),  # QuickTime brand
        (mp4_header(90), 422),  # a 90 s video
    ],
)
def test_bad_videos_are_refused_and_nothing_is_written(
    client: TestClient, session: Session, storage: LocalStorage, payload: bytes, status: int
) -> None:
    product = make_product(session)
    creator = make_user(session, role=Role.CREATOR)
    response = _upload(client, api_login(client, creator.email), payload, "clip.mp4", product.id)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _count(session) == (0, 0)
    assert not list(storage.root.rglob("*.*")) if storage.root.exists() else True


def test_oversized_upload_is_413(
    client: TestClient, session: Session, storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_VIDEO_BYTES", 10_000)
    product = make_product(session)
    creator = make_user(session, role=Role.CREATOR)
    data = real_clip(1.0, "mp4") + b"\0" * 20_000
    response = _upload(client, api_login(client, creator.email), data, "clip.mp4", product.id)
    assert response.status_code == 413
    assert _count(session) == (0, 0)


def test_tagging_rules(client: TestClient, session: Session, storage: LocalStorage) -> None:
    seller_user, seller = make_seller(session)
    own = make_product(session, seller=seller)
    other = make_product(session)
    draft = make_product(session, status="draft")
    clip = real_clip(1.0, "mp4")
    seller_headers = api_login(client, seller_user.email)
    assert _upload(client, seller_headers, clip, "a.mp4", other.id).status_code == 404
    ok = _upload(client, seller_headers, clip, "a.mp4", own.id)
    assert ok.status_code == 201 and ok.json()["affiliate"] is False

    creator = make_user(session, role=Role.CREATOR)
    creator_headers = api_login(client, creator.email)
    inactive = _upload(client, creator_headers, clip, "a.mp4", f"{other.id},{draft.id}")
    assert inactive.status_code == 422
    assert inactive.json()["type"] == "/problems/product-not-active"
    assert _upload(client, creator_headers, clip, "a.mp4", "prd_nope").status_code == 404
    assert _upload(client, creator_headers, clip, "a.mp4", "").status_code == 422

    shopper = make_user(session)
    assert (
        _upload(client, api_login(client, shopper.email), clip, "a.mp4", own.id).status_code == 403
    )
    assert _count(session) == (1, 1)
