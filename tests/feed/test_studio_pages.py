"""The "Post a video" page for creators and sellers."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role
from reelshop.feed import service
from reelshop.feed.models import Video, VideoProductTag
from reelshop.storage import LocalStorage, configure
from tests.factories import make_product, make_seller, make_user, page_login
from tests.feed.helpers import real_clip


@pytest.fixture(autouse=True)
def storage(tmp_path: Path) -> LocalStorage:
    store = LocalStorage(tmp_path / "media")
    configure(store)
    return store


def _videos(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Video)) or 0)


def test_parse_product_refs_reads_links_and_ids() -> None:
    a, b = "prd_" + "a" * 25, "prd_" + "b1" * 12 + "c"
    text = f"https://shop.example/products/{a}?sku=x, {b}\n{a} nonsense prd_short"
    assert service.parse_product_refs(text) == [a, b]


def test_creator_posts_a_video_tagging_a_pasted_product_link(
    client: TestClient, session: Session
) -> None:
    product = make_product(session)
    make_user(session, role=Role.CREATOR, email="studio.creator@example.com")
    csrf = page_login(client, "studio.creator@example.com")
    page = client.get("/studio/videos")
    assert page.status_code == 200 and "Post a video" in page.text
    response = client.post(
        "/studio/videos",
        data={
            "csrf_token": csrf,
            "caption": "my desk setup",
            "product_refs": f"http://127.0.0.1:8000/products/{product.id}",
        },
        files={"file": ("clip.mp4", real_clip(1.0), "video/mp4")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert _videos(session) == 1
    tag = session.scalars(select(VideoProductTag)).one()
    assert tag.product_id == product.id and tag.affiliate_user_id is not None
    listing = client.get("/studio/videos?posted=1")
    assert "my desk setup" in listing.text and "Posted." in listing.text


def test_bad_posts_re_render_with_the_reason_and_write_nothing(
    client: TestClient, session: Session
) -> None:
    product = make_product(session)
    make_user(session, role=Role.CREATOR, email="studio.bad@example.com")
    csrf = page_login(client, "studio.bad@example.com")
    no_tag = client.post(
        "/studio/videos",
        data={"csrf_token": csrf, "caption": "kept caption", "product_refs": "nothing here"},
        files={"file": ("clip.mp4", real_clip(1.0), "video/mp4")},
    )
    assert no_tag.status_code == 422 and "tag at least one product" in no_tag.text
    assert "kept caption" in no_tag.text
    not_video = client.post(
        "/studio/videos",
        data={"csrf_token": csrf, "product_refs": product.id},
        files={"file": ("clip.mp4", b"%PDF-1.4 not a video", "video/mp4")},
    )
    assert not_video.status_code == 415
    assert _videos(session) == 0


def test_seller_picks_own_products_and_shoppers_are_turned_away(
    client: TestClient, session: Session
) -> None:
    seller_user, seller = make_seller(session)
    product = make_product(session, seller=seller, title="Ceramic pour-over kettle")
    csrf = page_login(client, seller_user.email)
    page = client.get("/studio/videos")
    assert "Ceramic pour-over kettle" in page.text
    posted = client.post(
        "/studio/videos",
        data={"csrf_token": csrf, "own_product_ids": [product.id]},
        files={"file": ("clip.mp4", real_clip(1.0), "video/mp4")},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    assert _videos(session) == 1
    client.cookies.clear()
    make_user(session, email="studio.shopper@example.com")
    page_login(client, "studio.shopper@example.com")
    assert client.get("/studio/videos").status_code == 403
