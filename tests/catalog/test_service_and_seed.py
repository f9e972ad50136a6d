"""Catalog service rules beyond the API, and the catalog seed step."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop import seed as seeding
from reelshop import storage
from reelshop.catalog import service as catalog
from reelshop.catalog.models import Brand, Category, Product, ProductImage, Sku
from reelshop.catalog.schemas import ProductInput
from reelshop.catalog.seed import TREE
from reelshop.db import make_engine, make_session_factory
from reelshop.errors import Forbidden, InvalidInput, NotFound
from reelshop.ids import looks_like
from reelshop.inventory.models import StockLevel
from reelshop.sellers.models import SellerProfile, SellerStatus
from tests.catalog.support import make_tree, product_body
from tests.factories import make_seller


def test_activation_refused_for_a_seller_no_longer_approved(session: Session) -> None:
    make_tree(session)
    _, seller = make_seller(session)
    product = catalog.create_product(
        session=session,
        seller=seller,
        data=ProductInput.model_validate(product_body()),
        actor_id=None,
    )
    session.commit()
    seller.status = SellerStatus.SUSPENDED
    session.commit()
    with pytest.raises(Forbidden) as refused:
        catalog.set_status(
            session=session, seller=seller, product_id=product.id, status="active", actor_id=None
        )
    session.rollback()
    assert "not approved" in refused.value.detail
    assert session.get(Product, product.id).status == "draft"  # type: ignore[union-attr]


def test_market_matters_for_activation(session: Session) -> None:
    make_tree(session)
    _, seller = make_seller(session, market_codes=["GB"])
    with pytest.raises(Forbidden):
        catalog.create_product(
            session=session,
            seller=seller,
            data=ProductInput.model_validate(product_body(status="active")),
            actor_id=None,
        )


def test_variants_come_back_when_listed_again(session: Session) -> None:
    make_tree(session)
    _, seller = make_seller(session)
    data = ProductInput.model_validate(product_body())
    product = catalog.create_product(session=session, seller=seller, data=data, actor_id=None)
    only_black = product_body()
    only_black["variants"] = only_black["variants"][:1]
    catalog.update_product(
        session=session,
        seller=seller,
        product_id=product.id,
        data=ProductInput.model_validate(only_black),
        actor_id=None,
    )
    assert [s.is_active for s in product.skus] == [True, False]
    catalog.update_product(
        session=session, seller=seller, product_id=product.id, data=data, actor_id=None
    )
    assert [s.is_active for s in product.skus] == [True, True]
    assert catalog.find_by_handle(session=session, seller=seller, handle=product.handle) is product


def test_categories_by_slug_or_path_and_tree_order(session: Session) -> None:
    make_tree(session)
    assert catalog.get_category(session=session, slug_or_path="audio").path == "electronics/audio"
    assert catalog.get_category(session=session, slug_or_path="electronics/audio").slug == "audio"
    with pytest.raises(NotFound):
        catalog.get_category(session=session, slug_or_path="garden")
    order = [c.slug for c in catalog.list_categories(session=session)]
    assert order.index("electronics") < order.index("audio") < order.index("fashion")


def test_listing_validates_paging(session: Session) -> None:
    _, seller = make_seller(session)
    with pytest.raises(InvalidInput):
        catalog.list_seller_products(session=session, seller=seller, page=0)
    with pytest.raises(InvalidInput):
        catalog.list_seller_products(session=session, seller=seller, per_page=10_000)


TINY = seeding.Scale("tiny", shoppers=5, sellers=40, creators=2)  # enough for repeated shop names
CATALOG_STEPS = ("accounts", "sellers", "catalog")


def _seed_tiny(
    factory: sessionmaker[Session], media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.configure(storage.LocalStorage(media))
    monkeypatch.setitem(seeding.SCALES, "tiny", TINY)
    steps = [s for s in seeding.SEED_STEPS if s[0] in CATALOG_STEPS]
    monkeypatch.setattr(seeding, "SEED_STEPS", steps)
    seeding.run_seed(factory, scale="tiny", seed=7)


def test_seed_step_builds_a_believable_catalog(
    session_factory: sessionmaker[Session],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _seed_tiny(session_factory, tmp_path / "media", monkeypatch)
    categories = session.scalars(select(Category)).all()
    assert len(categories) == len(TREE) + sum(len(children) for _, _, children in TREE)
    assert session.scalar(select(func.count()).select_from(Brand)) >= 40
    products = session.scalars(select(Product)).all()
    assert len(products) == 400
    paths = {c.id: c.path for c in categories}
    sellers = {s.id: s for s in session.scalars(select(SellerProfile)).all()}
    for product in products:
        assert looks_like("prd", product.id)
        assert all(looks_like("sku", sku.id) for sku in product.skus)
        seller = sellers[product.seller_id]
        assert seller.status == SellerStatus.APPROVED
        assert paths[product.category_id].split("/")[0] in seller.categories
        assert product.hs_code and len(product.hs_code) == 6
        if seller.country == "CN":
            assert product.origin_country == "CN"
        assert product.skus and len({s.code for s in product.skus}) == len(product.skus)
        for sku in product.skus:
            assert sku.price_amount >= 99
            assert set(sku.option_values) == set(product.option_names)
            if sku.compare_at_amount is not None:
                assert sku.compare_at_amount > sku.price_amount
        assert len(product.images) == 1
    # Every SKU has a stock row, every image a stored file.
    sku_count = session.scalar(select(func.count()).select_from(Sku))
    assert session.scalar(select(func.count()).select_from(StockLevel)) == sku_count
    for image in session.scalars(select(ProductImage).limit(20)).all():
        assert image.storage_key and (tmp_path / "media" / image.storage_key).is_file()
        assert image.thumb_key and (tmp_path / "media" / image.thumb_key).is_file()
    titles = [p.title for p in products]
    assert len(set(titles)) > 300  # varied, not one template repeated


def test_seed_is_deterministic(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listings = []
    for run in ("a", "b"):
        path = tmp_path / f"{run}.db"
        shutil.copyfile(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        factory = make_session_factory(engine)
        _seed_tiny(factory, tmp_path / f"media-{run}", monkeypatch)
        with factory() as s:
            rows = s.execute(
                select(Product.title, Product.status, Sku.code, Sku.price_amount)
                .join(Sku, Sku.product_id == Product.id)
                .order_by(Product.title, Sku.code)
            ).all()
        engine.dispose()
        listings.append([tuple(r) for r in rows])
    assert listings[0] == listings[1]
    assert len(listings[0]) > 100
