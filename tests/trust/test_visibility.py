"""A listing that is not published (pending, held, blocked, taken down) is invisible
on every shopper path: search and the Shop tab, the product page, add to cart,
checkout, the feed's product cards, affiliate links and new video tags."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role
from reelshop.catalog.models import ModerationStatus, Product
from reelshop.catalog.search_index import index_products
from reelshop.errors import NotFound, ProblemError
from reelshop.feed import affiliates
from reelshop.feed import service as feed
from reelshop.trust.moderation import lock_product, set_moderation
from tests.catalog.support import make_tree
from tests.checkout.helpers import add, make_shop, place, shopper_headers
from tests.factories import make_user
from tests.feed.helpers import add_video

HIDDEN = [
    ModerationStatus.PENDING,
    ModerationStatus.HELD,
    ModerationStatus.BLOCKED,
    ModerationStatus.TAKEN_DOWN,
]


def _moderate(session: Session, product_id: str, status: ModerationStatus) -> None:
    product = lock_product(session, product_id)
    set_moderation(session=session, product=product, status=status, actor_id=None, reason="t")
    session.commit()


def _search_ids(client: TestClient, q: str) -> list[str]:
    r = client.get("/api/v1/search", params={"q": q})
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


@pytest.mark.parametrize("status", HIDDEN)
def test_hidden_listing_leaves_every_shopper_path(
    client: TestClient, session: Session, status: ModerationStatus
) -> None:
    make_tree(session)
    shop = make_shop(session, title="Zephyrine wireless earbuds")
    product_id, sku_id = shop.product.id, shop.sku_id
    index_products(session=session, product_ids=[product_id])
    _shopper_id, headers = shopper_headers(session, client)
    creator = make_user(session)
    video = add_video(session, author_user_id=creator.id, product_id=product_id)
    session.commit()

    # visible while published
    assert product_id in _search_ids(client, "zephyrine")
    assert client.get(f"/products/{product_id}").status_code == 200
    assert add(client, headers, sku_id, 1).status_code == 201
    cards = feed.hydrate(session=session, video_ids=[video.id], reasons={})
    assert cards[0].products and cards[0].products[0].product_id == product_id
    affiliates.active_product(session=session, product_id=product_id)

    _moderate(session, product_id, status)
    session.expire_all()

    assert product_id not in _search_ids(client, "zephyrine")
    assert client.get(f"/products/{product_id}").status_code == 404
    r = place(client, headers)
    assert r.status_code in (409, 422), r.text  # the line already in the cart cannot be bought
    _other_id, other_headers = shopper_headers(session, client)
    assert add(client, other_headers, sku_id, 1).status_code in (404, 409, 422)
    cards = feed.hydrate(session=session, video_ids=[video.id], reasons={})
    assert not cards or not cards[0].products
    with pytest.raises(NotFound):
        affiliates.active_product(session=session, product_id=product_id)
    creator_account = make_user(session, role=Role.CREATOR)
    with pytest.raises(ProblemError):
        feed._taggable_products(session=session, author=creator_account, product_ids=[product_id])
    assert session.get(Product, product_id).moderation_status == status  # type: ignore[union-attr]
