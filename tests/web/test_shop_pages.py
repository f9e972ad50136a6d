"""Shop tab pages: category grid, listing with facets and sort, search, product page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from reelshop.catalog import service as catalog
from reelshop.catalog.models import ProductImage
from reelshop.catalog.schemas import ProductInput
from reelshop.catalog.search_index import index_products
from reelshop.db import make_session_factory, unit_of_work
from reelshop.sellers.models import SellerProfile, SellerStatus
from tests.catalog.support import make_tree
from tests.catalog.test_search import count_queries
from tests.factories import make_seller


def _create(session: Session, seller: SellerProfile, **fields: Any) -> str:
    body: dict[str, Any] = {
        "category": "electronics/audio",
        "status": "active",
        "variants": [{"code": "ONE", "price": "10.00", "stock": 3}],
        **fields,
    }
    return catalog.create_product(
        session=session, seller=seller, data=ProductInput(**body), actor_id=None
    ).id


@pytest.fixture
def shop(session: Session, engine: Engine) -> dict[str, Any]:
    make_tree(session)
    _, seller = make_seller(
        session,
        display_name="Lumi Electronics",
        categories=["electronics", "fashion", "beauty"],
        commit=True,
    )
    writer: sessionmaker[Session] = make_session_factory(engine)
    ids = {}
    with unit_of_work(writer) as s:
        me = s.get(SellerProfile, seller.id)
        assert me is not None
        ids["earbuds"] = _create(
            s,
            me,
            title="Wireless Earbuds Pro",
            brand="Soundvale",
            description="<p>Great <b>sound</b></p>",
            option_names=["Color"],
            variants=[
                {"code": "B", "option_values": {"Color": "Black"}, "price": "29.99",
                 "compare_at": "49.99", "stock": 12},
                {"code": "W", "option_values": {"Color": "White"}, "price": "31.50", "stock": 0},
                {"code": "R", "option_values": {"Color": "Red"}, "price": "30.00", "stock": 2},
            ],
        )  # fmt: skip
        ids["speaker"] = _create(s, me, title="Pocket Bluetooth Speaker", brand="Boomly")
        ids["shoes"] = _create(s, me, title="Trail Running Shoes", category="fashion/shoes")
        ids["draft"] = _create(s, me, title="Secret Earbuds Prototype", status="draft")
        for n in range(3):
            s.add(
                ProductImage(
                    product_id=ids["earbuds"],
                    position=n,
                    storage_key=f"products/x/{n}.webp",
                    thumb_key=f"products/x/{n}-thumb.webp",
                    content_type="image/webp",
                    width=800,
                    height=800,
                )
            )
    with unit_of_work(writer) as s:
        index_products(session=s, product_ids=ids.values())
    return {"ids": ids, "seller": seller}


def test_browse_shows_the_category_grid_with_counts(
    client: TestClient, shop: dict[str, Any]
) -> None:
    page = client.get("/shop/browse")
    assert page.status_code == 200
    assert 'href="/shop/browse/electronics"' in page.text
    assert 'href="/shop/browse/fashion"' in page.text
    assert "beauty" not in page.text.lower().split("<main")[1]  # nothing to shop there yet
    assert re.search(r"Electronics</span>\s*<span[^>]*>2 products", page.text)


def test_category_listing_has_facets_sort_and_subcategories(
    client: TestClient, shop: dict[str, Any]
) -> None:
    page = client.get("/shop/browse/electronics")
    assert page.status_code == 200
    assert "Wireless Earbuds Pro" in page.text and "Pocket Bluetooth Speaker" in page.text
    assert "Trail Running Shoes" not in page.text
    assert 'href="/shop/browse/electronics/audio"' in page.text  # sub-category chip
    assert "Soundvale" in page.text and "?brand=soundvale" in page.text  # brand facet
    assert "$29.99" in page.text and '<s class="compare-at muted">$49.99</s>' in page.text
    cheap_first = client.get("/shop/browse/electronics", params={"sort": "price_asc"})
    assert cheap_first.text.index("Pocket Bluetooth") < cheap_first.text.index("Wireless Earbuds")
    filtered = client.get("/shop/browse/electronics", params={"brand": "boomly"})
    assert "Pocket Bluetooth Speaker" in filtered.text
    assert "Wireless Earbuds Pro" not in filtered.text
    assert client.get("/shop/browse/no-such-thing").status_code == 404


def test_search_page_finds_products_with_typos(client: TestClient, shop: dict[str, Any]) -> None:
    page = client.get("/shop/search", params={"q": "wireles earbud"})
    assert page.status_code == 200
    assert "Wireless Earbuds Pro" in page.text
    assert "Secret Earbuds Prototype" not in page.text  # a draft
    assert 'value="wireles earbud"' in page.text
    empty = client.get("/shop/search", params={"q": "zzzzqqq"})
    assert "No products match" in empty.text


def test_search_page_bad_filters_are_a_clear_4xx(client: TestClient, shop: dict[str, Any]) -> None:
    page = client.get(
        "/shop/search",
        params={"q": "earbuds", "min_price": "abc"},
        headers={"accept": "text/html"},
    )
    assert page.status_code == 422
    assert "min_price is not an amount" in page.text
    page = client.get("/shop/search", params={"sort": "cheapest"}, headers={"accept": "text/html"})
    assert page.status_code == 422


def test_product_page_gallery_variants_seller_and_placeholders(
    client: TestClient, shop: dict[str, Any]
) -> None:
    product_id = shop["ids"]["earbuds"]
    page = client.get(f"/products/{product_id}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Wireless Earbuds Pro</h1>" in html
    assert html.count('<li id="image-') == 3  # the gallery
    assert "$29.99" in html and '<s class="compare-at muted">$49.99</s>' in html
    assert f'href="/sellers/{shop["seller"].id}"' in html and "Lumi Electronics" in html
    assert 'data-placeholder="shipping"' in html and 'data-placeholder="reviews"' in html
    assert "<b>" not in html.split("About this product")[1][:200]  # description shown as text
    # the add-to-cart form the checkout wires: sku and quantity, with the CSRF field
    form = re.search(r'<form class="add-to-cart" method="post" action="/cart/items".*?</form>',
                     html, re.S)  # fmt: skip
    assert form and 'name="sku_id"' in form.group(0) and 'name="quantity"' in form.group(0)
    assert 'name="csrf_token"' in form.group(0)
    assert "In stock" in html

    # picking a variant changes the price and stock shown
    skus = re.findall(r'href="/products/[^"?]+\?sku=(sku_[^"]+)"', html)
    assert len(skus) == 3
    white = client.get(f"/products/{product_id}", params={"sku": skus[1]}).text
    assert "$31.50" in white and "Sold out" in white and " disabled" in white
    red = client.get(f"/products/{product_id}", params={"sku": skus[2]}).text
    assert "$30.00" in red and "Only 2 left" in red
    assert f'name="sku_id" value="{skus[2]}"' in red


def test_product_page_hides_drafts_and_unapproved_sellers(
    client: TestClient, session: Session, shop: dict[str, Any]
) -> None:
    assert client.get(f"/products/{shop['ids']['draft']}").status_code == 404
    assert client.get("/products/prd_doesnotexist0000000000000").status_code == 404
    seller = session.get(SellerProfile, shop["seller"].id)
    assert seller is not None
    seller.status = SellerStatus.SUSPENDED
    session.commit()
    assert client.get(f"/products/{shop['ids']['earbuds']}").status_code == 404


def test_product_page_query_count_does_not_grow_with_variants_or_images(
    client: TestClient, app: Any, shop: dict[str, Any]
) -> None:
    counts = []
    for key in ("earbuds", "speaker", "earbuds"):  # 3 variants and images vs 1 and none
        with count_queries(app.state.engine) as statements:
            assert client.get(f"/products/{shop['ids'][key]}").status_code == 200
        counts.append(len(statements))
    assert len(set(counts)) == 1, counts


def test_shopper_tabs_link_the_shop(client: TestClient, shop: dict[str, Any]) -> None:
    from tests.factories import PASSWORD, make_user, page_login

    with make_session_factory(client.app.state.engine)() as s:  # type: ignore[attr-defined]
        user = make_user(s)
        email = user.email
    page_login(client, email, PASSWORD)
    home = client.get("/shop")
    assert 'href="/shop/browse"' in home.text
    assert 'action="/shop/search"' in home.text
