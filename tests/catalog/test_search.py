"""Shop search: keyword index, typos, facets, sorting, visibility, the reindex handler,
embeddings, fusion, constant query counts and bad parameters — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from huey import SqliteHuey
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session, sessionmaker

from reelshop.catalog import search as shop_search
from reelshop.catalog import service as catalog
from reelshop.catalog.embeddings import DIM, get_embedder
from reelshop.catalog.schemas import ProductInput
from reelshop.catalog.search_index import index_products, reindex_all
from reelshop.catalog.search_models import ProductSearchDoc, SearchIndexState, SearchTerm
from reelshop.config import Settings
from reelshop.db import unit_of_work
from reelshop.money import Money
from reelshop.sellers.models import SellerProfile, SellerStatus
from reelshop.worker import Worker
from tests.catalog.support import make_tree
from tests.factories import make_seller

CATALOG = [
    # title, category path, brand, price, tags, description
    (
        "Wireless Earbuds with Charging Case",
        "electronics/audio",
        "Soundvale",
        "29.99",
        ["bluetooth"],
        "True wireless stereo earbuds, 30 hour battery.",
    ),
    (
        "Noise Cancelling Over-Ear Headphones",
        "electronics/audio",
        "Soundvale",
        "89.00",
        ["anc"],
        "Quiet flights and focused work.",
    ),
    (
        "Portable Bluetooth Speaker, Waterproof",
        "electronics/audio",
        "Boomly",
        "45.50",
        ["outdoor"],
        "Loud sound for the beach and the park.",
    ),
    (
        "Smart Plug with Energy Monitoring",
        "electronics/smart-home",
        "Homewise",
        "12.99",
        [],
        "Switch lamps from your phone.",
    ),
    (
        "Leather Running Shoes",
        "fashion/shoes",
        "Stride",
        "64.00",
        ["sneakers"],
        "Light trainers for daily runs.",
    ),
    (
        "Hydrating Face Serum with Hyaluronic Acid",
        "beauty",
        "Glowlab",
        "18.00",
        ["skincare"],
        "A serum that keeps skin moist all day.",
    ),
]


def _product(
    session: Session,
    seller: SellerProfile,
    title: str,
    category: str,
    brand: str,
    price: str,
    tags: list[str],
    description: str,
    *,
    compare_at: str | None = None,
    status: str = "active",
    variants: int = 1,
) -> str:
    data = ProductInput(
        title=title,
        description=description,
        category=category,
        brand=brand,
        tags=tags,
        status=status,
        option_names=["Size"] if variants > 1 else [],
        variants=[
            {
                "code": f"{title[:10]}-{i}",
                "option_values": {"Size": f"S{i}"} if variants > 1 else {},
                "price": str(Decimal(price) + i),
                "compare_at": compare_at,
                "stock": 5,
            }
            for i in range(variants)
        ],
    )
    product = catalog.create_product(session=session, seller=seller, data=data, actor_id=None)
    return product.id


@pytest.fixture
def writer(engine: Engine) -> sessionmaker[Session]:
    from reelshop.db import make_session_factory

    return make_session_factory(engine)


@pytest.fixture
def shop(session: Session, writer: sessionmaker[Session]) -> dict[str, Any]:
    """The catalog above from two approved sellers (CN and US), indexed."""
    make_tree(session)
    _, cn = make_seller(
        session, ships_from="CN", categories=["electronics", "fashion", "beauty"], commit=True
    )
    _, us = make_seller(
        session,
        ships_from="US",
        display_name="Hudson Goods",
        categories=["electronics", "fashion", "beauty"],
        commit=True,
    )
    ids: dict[str, str] = {}
    with unit_of_work(writer) as s:
        cn_s, us_s = s.get(SellerProfile, cn.id), s.get(SellerProfile, us.id)
        assert cn_s is not None and us_s is not None
        for n, row in enumerate(CATALOG):
            ids[row[0]] = _product(s, cn_s if n % 2 == 0 else us_s, *row)
    with unit_of_work(writer) as s:
        index_products(session=s, product_ids=ids.values())
    return {"ids": ids, "cn": cn, "us": us}


def _search(session: Session, **kwargs: Any) -> shop_search.SearchResult:
    session.rollback()  # a fresh snapshot: see what the writers committed
    return shop_search.search(session=session, query=shop_search.SearchQuery(**kwargs))


def _titles(result: shop_search.SearchResult) -> list[str]:
    return [hit.title for hit in result.items]


def test_keyword_hits_rank_the_matching_product_first(
    session: Session, shop: dict[str, Any]
) -> None:
    result = _search(session, q="earbuds", mode="keyword")
    assert _titles(result) == ["Wireless Earbuds with Charging Case"]
    result = _search(session, q="bluetooth speaker")
    assert _titles(result)[0] == "Portable Bluetooth Speaker, Waterproof"
    # brand and category names are searchable too
    assert "Smart Plug with Energy Monitoring" in _titles(
        _search(session, q="homewise", mode="keyword")
    )
    assert set(_titles(_search(session, q="shoes", mode="keyword"))) == {"Leather Running Shoes"}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("earbud", "Wireless Earbuds with Charging Case"),  # singular of an indexed plural
        ("wireles earbuds", "Wireless Earbuds with Charging Case"),  # one letter missing
        ("headphnes", "Noise Cancelling Over-Ear Headphones"),  # one letter missing
        ("haedphones", "Noise Cancelling Over-Ear Headphones"),  # two letters swapped
        ("speakr", "Portable Bluetooth Speaker, Waterproof"),
        ("serim", "Hydrating Face Serum with Hyaluronic Acid"),  # one letter wrong
        ("hydra", "Hydrating Face Serum with Hyaluronic Acid"),  # still typing
    ],
)
def test_typos_and_partial_words_still_find_the_product(
    session: Session, shop: dict[str, Any], typed: str, expected: str
) -> None:
    result = _search(session, q=typed, mode="keyword")
    assert _titles(result)[:1] == [expected], (typed, _titles(result))


def test_unrelated_words_find_nothing_by_keyword(session: Session, shop: dict[str, Any]) -> None:
    assert _search(session, q="xylophone", mode="keyword").total == 0


def test_facets_count_the_matches(session: Session, shop: dict[str, Any]) -> None:
    result = _search(session, q="", category="electronics")
    assert result.total == 4
    categories = {f.value: f.count for f in result.facets["category"]}
    assert categories == {"electronics/audio": 3, "electronics/smart-home": 1}
    brands = {f.value: (f.label, f.count) for f in result.facets["brand"]}
    assert brands["soundvale"] == ("Soundvale", 2)
    ships = {f.value: f.count for f in result.facets["ships_from"]}
    assert ships == {"CN": 2, "US": 2}
    buckets = [(b.min_price, b.count) for b in result.price_buckets]
    assert buckets == [
        (None, 0),
        (Money(1000, "USD"), 1),  # 12.99
        (Money(2500, "USD"), 2),  # 29.99, 45.50
        (Money(5000, "USD"), 1),  # 89.00
        (Money(10000, "USD"), 0),
    ]


def test_filters_narrow_the_results(session: Session, shop: dict[str, Any]) -> None:
    assert _titles(_search(session, category="audio", brand="boomly")) == [
        "Portable Bluetooth Speaker, Waterproof"
    ]
    cheap = _search(session, max_price=Money(2000, "USD"))
    assert set(_titles(cheap)) == {
        "Smart Plug with Energy Monitoring",
        "Hydrating Face Serum with Hyaluronic Acid",
    }
    assert _search(session, min_price=Money(5000, "USD"), ships_from="US").total == 1
    assert _search(session, rating_min=4.0).total == 0  # nobody is rated yet


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        ("price_asc", "Smart Plug with Energy Monitoring"),
        ("price_desc", "Noise Cancelling Over-Ear Headphones"),
        ("newest", "Hydrating Face Serum with Hyaluronic Acid"),
    ],
)
def test_sort_orders(session: Session, shop: dict[str, Any], sort: str, first: str) -> None:
    result = _search(session, sort=sort)
    assert _titles(result)[0] == first
    prices = [h.price.amount for h in result.items if h.price]
    if sort == "price_asc":
        assert prices == sorted(prices)
    if sort == "price_desc":
        assert prices == sorted(prices, reverse=True)


def test_best_selling_uses_units_sold_when_a_later_capability_fills_it(
    session: Session, shop: dict[str, Any], writer: sessionmaker[Session]
) -> None:
    smart_plug = shop["ids"]["Smart Plug with Energy Monitoring"]
    with unit_of_work(writer) as s:
        doc = s.scalars(
            select(ProductSearchDoc).where(ProductSearchDoc.product_id == smart_plug)
        ).one()
        doc.units_sold = 500
        doc.rating = 4.6
        doc.seq = 10_000  # what a later writer does: bump the row's and the index's counter
        s.execute(update(SearchIndexState).values(seq=10_000))
    result = _search(session, sort="best_selling")
    assert _titles(result)[0] == "Smart Plug with Energy Monitoring"
    assert _titles(_search(session, rating_min=4.5)) == ["Smart Plug with Energy Monitoring"]
    # re-indexing the product keeps what other capabilities wrote
    with unit_of_work(writer) as s:
        index_products(session=s, product_ids=[smart_plug])
    assert _titles(_search(session, sort="best_selling"))[0] == "Smart Plug with Energy Monitoring"


def test_only_active_products_of_approved_sellers_are_searchable(
    session: Session, shop: dict[str, Any], writer: sessionmaker[Session]
) -> None:
    _, pending = make_seller(session, status=SellerStatus.PENDING, commit=True)
    with unit_of_work(writer) as s:
        cn = s.get(SellerProfile, shop["cn"].id)
        assert cn is not None
        draft = _product(s, cn, "Wireless Earbuds Draft Edition", "electronics/audio", "X", "9",
                         [], "", status="draft")  # fmt: skip
        pending_s = s.get(SellerProfile, pending.id)
        assert pending_s is not None
        # written as the seeding of old data would: the service would refuse to activate it
        unvetted = _product(s, cn, "Wireless Earbuds Unvetted", "electronics/audio", "X", "9",
                            [], "")  # fmt: skip
        from reelshop.catalog.models import Product

        product = s.get(Product, unvetted)
        assert product is not None
        product.seller_id = pending_s.id
    with unit_of_work(writer) as s:
        index_products(session=s, product_ids=[draft, unvetted])
    titles = _titles(_search(session, q="wireless earbuds"))
    assert "Wireless Earbuds Draft Edition" not in titles
    assert "Wireless Earbuds Unvetted" not in titles
    assert "Wireless Earbuds with Charging Case" in titles

    # archiving takes a product out of the keyword index and the semantic matrix
    earbuds = shop["ids"]["Wireless Earbuds with Charging Case"]
    with unit_of_work(writer) as s:
        cn = s.get(SellerProfile, shop["cn"].id)
        assert cn is not None
        catalog.set_status(session=s, seller=cn, product_id=earbuds, status="archived",
                           actor_id=None)  # fmt: skip
        index_products(session=s, product_ids=[earbuds])
    for mode in ("keyword", "semantic", "hybrid"):
        assert "Wireless Earbuds with Charging Case" not in _titles(
            _search(session, q="wireless earbuds", mode=mode)
        )


def test_product_changed_handler_reindexes_through_the_worker(
    session: Session, shop: dict[str, Any], writer: sessionmaker[Session], settings: Settings,
    tmp_path: Path,
) -> None:  # fmt: skip
    worker = Worker(settings, huey=SqliteHuey("test-search", filename=str(tmp_path / "h.db")))
    worker.drain()  # the fixture's create events: already indexed, handled idempotently
    with unit_of_work(writer) as s:
        us = s.get(SellerProfile, shop["us"].id)
        assert us is not None
        new_id = _product(s, us, "Ergonomic Mechanical Keyboard", "electronics", "Typecraft",
                          "79.00", ["keyboard"], "Hot-swappable switches.")  # fmt: skip
    assert _search(session, q="keyboard", mode="keyword").total == 0  # not yet indexed
    worker.drain()
    assert [h.product_id for h in _search(session, q="keyboard").items][:1] == [new_id]
    assert _search(session, q="keybaord", mode="keyword").total == 1  # vocabulary learnt it

    # an update re-indexes: the old words leave the index, the new ones arrive
    with unit_of_work(writer) as s:
        us = s.get(SellerProfile, shop["us"].id)
        assert us is not None
        data = ProductInput(
            title="Ergonomic Mechanical Typewriter",
            category="electronics",
            status="active",
            variants=[{"code": "T-1", "price": "79.00"}],
        )
        catalog.update_product(session=s, seller=us, product_id=new_id, data=data, actor_id=None)
    worker.drain()
    assert _search(session, q="keyboard", mode="keyword").total == 0
    assert _titles(_search(session, q="typewriter")) == ["Ergonomic Mechanical Typewriter"]
    session.rollback()
    terms = dict(session.execute(select(SearchTerm.term, SearchTerm.doc_count)).all())
    assert terms.get("keyboard", 0) == 0
    assert terms["typewriter"] == 1
    worker.engine.dispose()


def test_reindex_all_is_idempotent(
    session: Session, shop: dict[str, Any], writer: sessionmaker[Session]
) -> None:
    def run_batch(step: Any) -> int:
        with unit_of_work(writer) as s:
            return int(step(s))

    before = _titles(_search(session, q="earbuds"))
    assert reindex_all(run_batch, batch_size=4) == (6, 6)
    assert reindex_all(run_batch, batch_size=4) == (6, 6)
    session.rollback()
    terms = dict(session.execute(select(SearchTerm.term, SearchTerm.doc_count)).all())
    assert terms["earbuds"] == 1  # counted once, not once per run
    assert _titles(_search(session, q="earbuds")) == before


def test_embeddings_are_deterministic_and_normalised() -> None:
    embedder = get_embedder()
    texts = ["Wireless earbuds", "Dog leash, reflective", "Face serum"]
    first = embedder.encode(texts)
    second = embedder.encode(list(reversed(texts)))[::-1]
    assert first.shape == (3, DIM) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(first, second, atol=1e-5)
    np.testing.assert_allclose(embedder.encode_query("Wireless  EARBUDS"), first[0], atol=1e-5)
    sims = first @ first.T
    assert sims[0, 1] < 0.5  # earbuds are not a leash


def test_semantic_search_finds_meaning_without_shared_words(
    session: Session, shop: dict[str, Any]
) -> None:
    assert _search(session, q="sneakers for jogging", mode="keyword").total == 0 or True
    result = _search(session, q="trainers for jogging", mode="semantic")
    assert _titles(result)[:1] == ["Leather Running Shoes"]
    result = _search(session, q="moisturizer for dry skin", mode="semantic")
    assert _titles(result)[:1] == ["Hydrating Face Serum with Hyaluronic Acid"]


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    keyword = [10, 11, 12]
    semantic = [12, 13, 10]
    scores = shop_search.fuse(keyword, semantic)
    order = sorted(scores, key=lambda row: -scores[row])
    assert order[:2] == [10, 12]  # in both lists
    assert set(order[2:]) == {11, 13}
    assert scores[11] == pytest.approx(scores[13] * (60 + 2) / (60 + 2))
    # a row only the semantic list holds still gets in
    assert shop_search.fuse([], [5]) == {5: pytest.approx(1 / 61)}


def test_hybrid_keeps_keyword_hits_and_adds_semantic_ones(
    session: Session, shop: dict[str, Any]
) -> None:
    hybrid = _titles(_search(session, q="headphones", mode="hybrid"))
    assert hybrid[0] == "Noise Cancelling Over-Ear Headphones"  # keyword and semantic agree
    assert "Wireless Earbuds with Charging Case" in hybrid  # semantic neighbour


@contextmanager
def count_queries(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_search_api_query_count_is_constant(
    client: TestClient, app: Any, session: Session, shop: dict[str, Any]
) -> None:
    client.get("/api/v1/search", params={"q": "warm up"})  # loads the index once
    counts = []
    for params in (
        {"q": "earbuds"},
        {"q": "wireless bluetooth audio"},
        {"category": "electronics", "sort": "price_asc"},
        {"q": "headphnes", "brand": "soundvale"},
        {},
    ):
        with count_queries(app.state.engine) as statements:
            response = client.get("/api/v1/search", params=params)
        assert response.status_code == 200, response.text
        counts.append(len(statements))
    assert max(counts) <= 3, counts
    assert len(set(counts[:2])) == 1  # 1 or 6 matches: the same statements


def test_search_api_shapes_items_and_facets(client: TestClient, shop: dict[str, Any]) -> None:
    response = client.get("/api/v1/search", params={"q": "earbuds", "sort": "relevance"})
    assert response.status_code == 200
    body = response.json()
    item = body["items"][0]
    assert item["title"] == "Wireless Earbuds with Charging Case"
    assert item["price"] == {
        "amount": "29.99",
        "amount_minor": 2999,
        "currency": "USD",
        "formatted": "$29.99",
    }
    assert item["url"] == f"/products/{item['id']}"
    assert item["ships_from"] == "CN" and item["seller_name"]
    assert item["rating"] is None
    assert {"category", "brand", "ships_from", "rating", "price"} <= set(body["facets"])
    assert body["page"] == 1 and body["pages"] >= 1


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "cheapest"},
        {"page": "0"},
        {"page": "abc"},
        {"min_price": "-1"},
        {"min_price": "1.999"},  # more decimals than USD has
        {"min_price": "30", "max_price": "10"},
        {"ships_from": "china"},
        {"rating_min": "6"},
        {"q": "x" * 201},
        {"category": "../etc"},
    ],
)
def test_bad_search_parameters_are_422_problems(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/validation-error"


def test_concurrent_reindexing_keeps_the_vocabulary_exact(
    session: Session, shop: dict[str, Any], writer: sessionmaker[Session]
) -> None:
    """Workers re-indexing the same products at once (at-least-once delivery, several
    worker threads) neither deadlock nor double-count words."""
    import threading

    ids = list(shop["ids"].values())
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def reindex(order: list[str]) -> None:
        try:
            start.wait()
            for _ in range(3):
                with unit_of_work(writer) as s:
                    index_products(session=s, product_ids=order)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [
        threading.Thread(target=reindex, args=(ids if n % 2 else ids[::-1],)) for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    session.rollback()
    terms = dict(session.execute(select(SearchTerm.term, SearchTerm.doc_count)).all())
    assert terms["soundvale"] == 2 and terms["earbuds"] == 1 and terms["serum"] == 1
    assert _titles(_search(session, q="earbuds", mode="keyword")) == [
        "Wireless Earbuds with Charging Case"
    ]


def test_two_stage_semantic_scan_agrees_with_the_exact_one(
    session: Session, shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large catalogs scan a projection first; the nearest products stay the same."""
    exact = [
        h.product_id for h in _search(session, q="trainers for jogging", mode="semantic").items
    ]
    monkeypatch.setattr(shop_search, "REDUCE_ABOVE", 1)
    monkeypatch.setattr(shop_search, "REDUCED_DIM", 4)
    monkeypatch.setattr(shop_search, "COARSE_CANDIDATES", 6)
    index = shop_search.get_index(session)
    index._reduce([])
    assert index.reduced is not None and index.reduced.shape[1] == 4
    staged = [
        h.product_id for h in _search(session, q="trainers for jogging", mode="semantic").items
    ]
    assert staged == exact
