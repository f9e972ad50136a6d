"""Concurrent sellers' writes: real threads, each with its own unit of work."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from reelshop.catalog import service as catalog
from reelshop.catalog.models import Product, Sku
from reelshop.catalog.schemas import ProductInput
from reelshop.db import make_session_factory, unit_of_work
from reelshop.errors import Conflict
from reelshop.inventory import service as inventory
from reelshop.inventory.models import AdjustmentReason
from reelshop.sellers.models import SellerProfile
from tests.catalog.support import make_tree, product_body
from tests.factories import make_seller


def run_threads(n: int, work: Callable[[Session], None], engine: Engine) -> list[str]:
    """Run ``work`` in ``n`` threads at once; each outcome is "ok" or the error's class."""
    factory = make_session_factory(engine)
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one() -> None:
        start.wait()
        try:
            with unit_of_work(factory) as session:
                work(session)
            outcome = "ok"
        except Conflict:
            outcome = "conflict"
        except Exception as exc:
            outcome = repr(exc)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _seller(session: Session) -> SellerProfile:
    make_tree(session)
    _, seller = make_seller(session)
    return seller


def test_concurrent_creates_with_one_handle_make_one_product(
    session: Session, engine: Engine
) -> None:
    seller = _seller(session)
    data = ProductInput.model_validate(product_body(handle="the-one"))

    def create(s: Session) -> None:
        mine = s.get(SellerProfile, seller.id)
        assert mine is not None
        catalog.create_product(session=s, seller=mine, data=data, actor_id=None)

    outcomes = run_threads(6, create, engine)
    assert sorted(outcomes) == ["conflict"] * 5 + ["ok"], outcomes
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Product)) == 1
    assert session.scalar(select(func.count()).select_from(Sku)) == 2


def test_concurrent_stock_removals_never_go_below_reserved(
    session: Session, engine: Engine
) -> None:
    seller = _seller(session)
    data = ProductInput.model_validate(product_body())
    product = catalog.create_product(session=session, seller=seller, data=data, actor_id=None)
    sku_id = product.skus[1].id  # 5 on hand
    inventory.reserve(session=session, sku_id=sku_id, quantity=2, ttl=timedelta(minutes=10))
    session.commit()

    def remove_one(s: Session) -> None:
        mine = s.get(SellerProfile, seller.id)
        assert mine is not None
        catalog.adjust_sku_stock(
            session=s,
            seller=mine,
            sku_id=sku_id,
            delta=-1,
            reason=AdjustmentReason.DAMAGED,
            note=None,
            location_id=None,
            actor_id=None,
        )

    outcomes = run_threads(10, remove_one, engine)
    assert sorted(outcomes) == ["conflict"] * 7 + ["ok"] * 3, outcomes
    session.expire_all()
    summary = inventory.summary(session=session, sku_id=sku_id)
    assert (summary.on_hand, summary.reserved) == (2, 2)
