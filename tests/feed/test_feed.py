"""Events, cold start, ALS training and fold-in, diversity and the feed API/page."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role
from reelshop.config import Settings
from reelshop.feed import jobs, service
from reelshop.feed.models import FeedEvent
from reelshop.feed.recommender import AlsParams, diversify, fold_in, gram, interaction_matrix
from reelshop.outbox.models import OutboxEvent
from tests.factories import api_login, make_product, make_seller, make_user, page_login
from tests.feed.helpers import add_video

SMALL = AlsParams(factors=8, iterations=8, regularization=0.05, alpha=2.0)


def _world(session: Session, per_cluster: int = 24) -> dict[str, Any]:
    """Two taste clusters (beauty, electronics), several creators and products in each."""
    creators = [make_user(session, role=Role.CREATOR, commit=False) for _ in range(6)]
    clusters: dict[str, list[str]] = {"beauty": [], "electronics": []}
    product_of: dict[str, str] = {}
    for c, slug in enumerate(clusters):
        _, seller = make_seller(session, commit=False, categories=[slug])
        products = [
            make_product(
                session, seller=seller, category_slug=slug, title=f"{slug} {i}", commit=False
            )
            for i in range(6)
        ]
        for i in range(per_cluster):
            creator = creators[c * 3 + i % 3]
            product = products[i % len(products)]
            video = add_video(
                session,
                author_user_id=creator.id,
                product_id=product.id,
                caption=f"{slug} video {i}",
            )
            clusters[slug].append(video.id)
            product_of[video.id] = product.id
    session.commit()
    return {"clusters": clusters, "product_of": product_of, "creators": creators}


def _history(session: Session, world: dict[str, Any], shoppers: int = 30) -> None:
    rng = np.random.default_rng(3)
    rows = []
    for s in range(shoppers):
        user = make_user(session, commit=False)
        slug = "beauty" if s % 2 else "electronics"
        for vid in rng.choice(world["clusters"][slug], size=10, replace=False):
            rows.append(
                FeedEvent(
                    user_id=user.id,
                    video_id=str(vid),
                    kind="watch",
                    completion_pct=90,
                    watch_ms=3600,
                )
            )
            if rng.random() < 0.3:
                rows.append(FeedEvent(user_id=user.id, video_id=str(vid), kind="like"))
    session.add_all(rows)
    session.commit()


def test_events_batch_is_all_or_nothing(client: TestClient, session: Session) -> None:
    creator = make_user(session, role=Role.CREATOR)
    video = add_video(session, author_user_id=creator.id)
    session.commit()
    shopper = make_user(session)
    headers = api_login(client, shopper.email)
    batch = [
        {"video_id": video.id, "kind": "impression"},
        {"video_id": video.id, "kind": "watch", "watch_ms": 3000, "completion_pct": 75},
        {"video_id": "vid_doesnotexist", "kind": "like"},
    ]
    response = client.post("/api/v1/feed/events", json=batch, headers=headers)
    assert response.status_code == 404
    assert response.json()["unknown_video_ids"] == ["vid_doesnotexist"]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(FeedEvent)) == 0

    bad_kind = client.post(
        "/api/v1/feed/events", json=[{"video_id": video.id, "kind": "hover"}], headers=headers
    )
    assert bad_kind.status_code == 422
    too_much = client.post(
        "/api/v1/feed/events",
        headers=headers,
        json=[{"video_id": video.id, "kind": "watch", "completion_pct": 150}],
    )
    assert too_much.status_code == 422

    ok = client.post("/api/v1/feed/events", json=batch[:2], headers=headers)
    assert ok.status_code == 202 and ok.json() == {"recorded": 2}
    single = client.post(
        "/api/v1/feed/events", json={"video_id": video.id, "kind": "like"}, headers=headers
    )
    assert single.status_code == 202
    session.rollback()
    kinds = session.scalars(select(FeedEvent.kind).order_by(FeedEvent.id)).all()
    assert kinds == ["impression", "watch", "like"]
    assert client.post("/api/v1/feed/events", json=batch[:1]).status_code == 401


def test_cold_start_serves_trending_then_fresh(
    client: TestClient, session: Session, settings: Settings
) -> None:
    world = _world(session, per_cluster=12)
    popular = world["clusters"]["beauty"][5]
    someone = make_user(session)
    session.add_all(FeedEvent(user_id=someone.id, video_id=popular, kind="like") for _ in range(5))
    session.commit()
    service._trending_cache.clear()
    newcomer = make_user(session)
    page = client.get("/api/v1/feed", headers=api_login(client, newcomer.email)).json()
    assert len(page["items"]) == 20
    assert page["personalised"] is False
    assert page["items"][0]["video_id"] == popular
    assert page["items"][0]["reason"] == "trending"
    item = page["items"][0]
    assert item["products"][0]["price"] == {"amount": 2999, "currency": "USD", "display": "$29.99"}
    assert item["products"][0]["buy"]["url"] == "/api/v1/cart/lines"
    assert item["products"][0]["buy"]["video_id"] == item["video_id"]
    assert item["media_url"].startswith("/media/videos/")
    # the second page continues without repeats
    nxt = client.get(
        "/api/v1/feed",
        params={"cursor": page["next_cursor"]},
        headers=api_login(client, newcomer.email),
    ).json()
    first = {i["video_id"] for i in page["items"]}
    assert not first & {i["video_id"] for i in nxt["items"]}
    assert client.get("/api/v1/feed", params={"cursor": "%%%"}).status_code == 422


def test_training_job_and_fold_in_change_the_next_page(
    client: TestClient, session: Session, settings: Settings, monkeypatch: Any
) -> None:
    world = _world(session)
    _history(session, world)
    monkeypatch.setattr(jobs, "get_settings", lambda: settings)
    monkeypatch.setattr(service, "RankerWeights", service.RankerWeights)
    session.add(
        OutboxEvent(
            topic="feed.retrain_requested", payload={"params": {"factors": 8, "iterations": 8}}
        )
    )
    session.commit()
    from reelshop.worker import Worker

    worker = Worker(settings)
    worker.huey.immediate = True
    worker.drain()
    artefact = settings.data_dir / "recommender" / "model.npz"
    assert artefact.exists()
    model = service.current_model(settings.data_dir / "recommender")
    assert model is not None and len(model.video_ids) == 48 and model.params.factors == 8

    shopper = make_user(session)
    headers = api_login(client, shopper.email)
    beauty = set(world["clusters"]["beauty"])
    liked = world["clusters"]["beauty"][:3]
    events = [{"video_id": v, "kind": k} for v in liked for k in ("like", "add_to_cart")]
    assert client.post("/api/v1/feed/events", json=events, headers=headers).status_code == 202
    page = client.get("/api/v1/feed", headers=headers).json()
    assert page["personalised"] is True
    top = [i["video_id"] for i in page["items"][:10]]
    assert sum(v in beauty for v in top) >= 8, top
    assert not set(liked) & {i["video_id"] for i in page["items"]}

    # the shopper changes taste: electronics interactions flip the next page
    electronics = world["clusters"]["electronics"][:8]
    events = [{"video_id": v, "kind": "purchase"} for v in electronics]
    assert client.post("/api/v1/feed/events", json=events, headers=headers).status_code == 202
    page = client.get("/api/v1/feed", headers=headers).json()
    top = [i["video_id"] for i in page["items"][:10]]
    assert sum(v not in beauty for v in top) >= 6, top


def test_fold_in_matches_implicit_recalculation() -> None:
    from implicit.cpu.als import AlternatingLeastSquares

    rng = np.random.default_rng(1)
    users, items = 60, 40
    u = rng.integers(0, users, 600)
    i = rng.integers(0, items, 600)
    matrix = interaction_matrix(u, i, rng.integers(1, 5, 600).astype(np.float32), (users, items))
    model = AlternatingLeastSquares(
        factors=6, regularization=0.1, alpha=2.0, iterations=5, random_state=0
    )
    model.fit(matrix, show_progress=False)
    row = matrix[7]
    expected = model.recalculate_user(7, row)
    mine = fold_in(
        model.item_factors,
        gram(model.item_factors),
        row.indices,
        row.data,
        regularization=0.1,
        alpha=2.0,
    )
    np.testing.assert_allclose(mine, np.asarray(expected).ravel(), rtol=1e-3, atol=1e-4)


def test_diversity_never_repeats_product_or_creator_back_to_back() -> None:
    ranked = [f"v{i}" for i in range(12)]
    product_of = {v: f"p{i % 2}" for i, v in enumerate(ranked)}  # v0 p0, v1 p1, ...
    creator_of = {v: "c0" if i < 6 else f"c{i}" for i, v in enumerate(ranked)}
    out = diversify(ranked, product_of=product_of, creator_of=creator_of, limit=12)
    for a, b in itertools.pairwise(out):
        assert product_of[a] != product_of[b] and creator_of[a] != creator_of[b]


def test_feed_api_pages_are_diverse(client: TestClient, session: Session) -> None:
    world = _world(session, per_cluster=20)
    shopper = make_user(session)
    headers = api_login(client, shopper.email)
    cursor = None
    for _ in range(2):
        page = client.get(
            "/api/v1/feed", params={"cursor": cursor} if cursor else {}, headers=headers
        ).json()
        items = page["items"]
        assert items
        for a, b in itertools.pairwise(items):
            assert a["creator_user_id"] != b["creator_user_id"]
            assert world["product_of"][a["video_id"]] != world["product_of"][b["video_id"]]
        cursor = page["next_cursor"]


def test_follow_brings_creator_videos(client: TestClient, session: Session) -> None:
    world = _world(session, per_cluster=30)
    creator = world["creators"][4]
    shopper = make_user(session)
    headers = api_login(client, shopper.email)
    assert client.put(f"/api/v1/creators/{creator.id}/follow", headers=headers).status_code == 200
    assert client.put(f"/api/v1/creators/{shopper.id}/follow", headers=headers).status_code == 404
    page = client.get("/api/v1/feed", headers=headers).json()
    reasons = {i["reason"] for i in page["items"] if i["creator_user_id"] == creator.id}
    assert "following" in reasons
    assert (
        client.delete(f"/api/v1/creators/{creator.id}/follow", headers=headers).status_code == 204
    )


def test_feed_page_renders_for_a_phone(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    _world(session, per_cluster=4)
    shopper = make_user(session)
    page_login(client, shopper.email)
    response = client.get("/feed")
    assert response.status_code == 200
    html = response.text
    assert html.count('class="slide"') == 8
    assert "scroll" not in re.findall(r"<script[^>]*>([^<]*)</script>", html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "style=" not in html
    assert "/static/feed.js" in html and "/static/feed.css" in html
    assert 'action="/cart/items"' in html and "$29.99" in html
    assert "autoplay" not in html or "muted" in html
    assert 'href="/feed"' in html
    more = re.search(r'hx-get="(/feed/more\?cursor=[^"]+)"', html)
    assert more
    fragment = client.get(more.group(1).replace("&amp;", "&"))
    assert fragment.status_code == 200
    assert "<html" not in fragment.text


def test_concurrent_event_batches_are_all_recorded(
    app: Any, session: Session, settings: Settings
) -> None:
    """Shoppers scrolling at once: every batch lands, each exactly once."""
    import threading

    creator = make_user(session, role=Role.CREATOR)
    videos = [add_video(session, author_user_id=creator.id).id for _ in range(5)]
    session.commit()
    shoppers = [make_user(session) for _ in range(4)]
    errors: list[str] = []

    def scroll(email: str) -> None:
        with TestClient(app) as client:
            headers = api_login(client, email)
            for _ in range(5):
                batch = [{"video_id": v, "kind": "watch", "completion_pct": 50} for v in videos]
                response = client.post("/api/v1/feed/events", json=batch, headers=headers)
                if response.status_code != 202:
                    errors.append(response.text)

    threads = [threading.Thread(target=scroll, args=(s.email,)) for s in shoppers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    session.rollback()
    assert session.scalar(select(func.count()).select_from(FeedEvent)) == 4 * 5 * 5


def test_buy_target_adds_to_the_cart_without_leaving_the_feed(
    client: TestClient, session: Session
) -> None:
    _world(session, per_cluster=3)
    shopper = make_user(session)
    headers = api_login(client, shopper.email)
    item = client.get("/api/v1/feed", headers=headers).json()["items"][0]
    buy = item["products"][0]["buy"]
    response = client.post(
        buy["url"],
        headers=headers,
        json={
            "sku_id": buy["sku_id"],
            "quantity": 2,
            "video_id": buy["video_id"],
            "creator_id": buy["creator_id"],
        },
    )
    if response.status_code in (404, 405) and "problem" not in response.text:
        pytest.skip("the checkout API is not mounted")
    assert response.status_code == 201, response.text
    assert buy["sku_id"] in client.get("/api/v1/cart", headers=headers).text


def test_sponsored_hook_fills_one_slot_after_every_n_organic(
    client: TestClient, session: Session
) -> None:
    world = _world(session, per_cluster=20)
    ad_video = world["clusters"]["beauty"][-1]

    class EveryFifth:
        every_n = 5

        def fill(
            self, *, session: Session, user_id: str | None, market_code: str, organic: Any
        ) -> str | None:
            return ad_video if ad_video not in organic else None

    service.register_sponsored_slots(EveryFifth())
    try:
        items = client.get("/api/v1/feed").json()["items"]
    finally:
        service.register_sponsored_slots(None)
    sponsored = [i for i, item in enumerate(items) if item["sponsored"]]
    assert len(sponsored) == 1 and sponsored[0] == 5
    assert items[5]["video_id"] == ad_video and items[5]["reason"] == "sponsored"
    assert len([i for i in items if not i["sponsored"]]) == 20
    assert not any(i["sponsored"] for i in client.get("/api/v1/feed").json()["items"])


def test_new_videos_get_exploration_slots(
    client: TestClient, session: Session, settings: Settings
) -> None:
    world = _world(session)
    _history(session, world)
    service.train_recommender(
        session=session, model_dir=settings.data_dir / "recommender", params=SMALL
    )
    session.commit()
    newcomer_creator = make_user(session, role=Role.CREATOR)
    product = make_product(session, title="brand new gadget")
    fresh = add_video(session, author_user_id=newcomer_creator.id, product_id=product.id).id
    session.commit()
    shopper = make_user(session)
    headers = api_login(client, shopper.email)
    client.post(
        "/api/v1/feed/events",
        headers=headers,
        json=[{"video_id": world["clusters"]["beauty"][0], "kind": "like"}],
    )
    items = client.get("/api/v1/feed", headers=headers).json()["items"]
    placed = [i for i, item in enumerate(items) if item["video_id"] == fresh]
    assert placed and items[placed[0]]["reason"] == "new"


def test_periodic_training_job_runs_in_the_background(
    session: Session, settings: Settings, session_factory: Any
) -> None:
    import time as clock

    from reelshop.scheduling import JobContext

    world = _world(session)
    _history(session, world)
    context = JobContext(factory=session_factory, settings=settings)
    jobs.train_recommender_periodically(context)
    jobs.train_recommender_periodically(context)  # a second start while training: skipped
    artefact = settings.data_dir / "recommender" / "model.npz"
    for _ in range(300):
        if artefact.exists() and not jobs._training.locked():
            break
        clock.sleep(0.1)
    assert artefact.exists()
    assert list(artefact.parent.iterdir()) == [artefact]
