"""The feed seed step: demo videos tag active products, history has taste, a model is trained."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role
from reelshop.catalog.models import Product
from reelshop.config import Settings
from reelshop.feed import seed as feed_seed
from reelshop.feed.models import FeedEvent, Video, VideoProductTag
from reelshop.seed import SCALES, SeedContext
from reelshop.storage import LocalStorage, configure
from tests.factories import make_product, make_seller, make_user


def test_seed_feed_small(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(LocalStorage(tmp_path / "media"))
    monkeypatch.setattr(feed_seed, "get_settings", lambda: settings)
    monkeypatch.setattr(feed_seed, "_videos_for_scale", lambda _name: 150)
    for slug in ("beauty", "electronics"):
        _, seller = make_seller(session, commit=False, categories=[slug])
        for i in range(4):
            make_product(
                session, seller=seller, category_slug=slug, title=f"{slug} {i}", commit=False
            )
    make_product(session, status="draft", title="never tagged", commit=False)
    ctx: Any = SeedContext(scale=SCALES["small"], rng=random.Random(1), fake=Faker())
    ctx.creator_ids = [make_user(session, role=Role.CREATOR, commit=False).id for _ in range(5)]
    ctx.shopper_ids = [make_user(session, commit=False).id for _ in range(30)]
    session.commit()

    feed_seed.seed_feed(session, ctx)
    session.commit()

    assert session.scalar(select(func.count()).select_from(Video)) == 150
    tagged = session.scalars(select(VideoProductTag.product_id).distinct()).all()
    statuses = session.scalars(select(Product.status).where(Product.id.in_(tagged))).all()
    assert statuses and set(statuses) == {"active"}
    kinds = dict(
        session.execute(select(FeedEvent.kind, func.count()).group_by(FeedEvent.kind)).all()
    )
    assert kinds["impression"] == kinds["watch"] > 500
    assert kinds["like"] > 0 and kinds["purchase"] >= 0
    video = session.scalars(select(Video)).first()
    assert video is not None
    assert (tmp_path / "media" / video.poster_key).exists()
    assert (settings.data_dir / "recommender" / "model.npz").exists()
