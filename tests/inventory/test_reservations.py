"""Reservations never take stock below zero, even with many concurrent reservers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from reelshop.catalog.models import Category, Product, Sku
from reelshop.db import make_session_factory, unit_of_work, utcnow
from reelshop.errors import Conflict, InvalidInput
from reelshop.inventory import service as inventory
from reelshop.inventory.models import AdjustmentReason, Reservation, ReservationStatus, StockLevel
from tests.factories import make_seller


def make_sku(session: Session, *, on_hand: int, locations: int = 1) -> tuple[str, list[str]]:
    _, seller = make_seller(session, commit=False)
    category = Category(slug="gadgets", name="Gadgets", path="gadgets")
    session.add(category)
    session.flush()
    product = Product(
        seller_id=seller.id,
        handle="lamp",
        title="Desk lamp",
        currency="USD",
        category_id=category.id,
        status="active",
    )
    product.skus.append(Sku(code="LAMP-1", price_amount=1999))
    session.add(product)
    session.flush()
    sku_id = product.skus[0].id
    location_ids = []
    for i in range(locations):
        loc = inventory.create_location(
            session=session, seller_id=seller.id, name=f"W{i}", country="CN"
        )
        inventory.adjust(
            session=session,
            sku_id=sku_id,
            location_id=loc.id,
            delta=on_hand,
            reason=AdjustmentReason.RECEIVED,
        )
        location_ids.append(loc.id)
    session.commit()
    return sku_id, location_ids


def test_reserve_commit_release_and_expire(session: Session) -> None:
    sku_id, _ = make_sku(session, on_hand=10)
    r1 = inventory.reserve(session=session, sku_id=sku_id, quantity=3, ttl=timedelta(minutes=15))
    r2 = inventory.reserve(
        session=session,
        sku_id=sku_id,
        quantity=2,
        ttl=timedelta(seconds=1),
        now=utcnow() - timedelta(minutes=5),
    )
    assert inventory.available(session=session, sku_ids=[sku_id]) == {sku_id: 5}
    inventory.commit(session=session, reservation_id=r1.id)
    inventory.commit(session=session, reservation_id=r1.id)  # idempotent
    assert inventory.summary(session=session, sku_id=sku_id) == inventory.StockSummary(7, 2)
    assert inventory.expire_due(session=session) == 1
    assert session.get(Reservation, r2.id).status == ReservationStatus.EXPIRED
    with pytest.raises(Conflict):
        inventory.commit(session=session, reservation_id=r2.id)
    inventory.release(session=session, reservation_id=r2.id)  # no double give-back
    assert inventory.summary(session=session, sku_id=sku_id) == inventory.StockSummary(7, 0)
    session.commit()


def test_out_of_stock_and_bad_quantities(session: Session) -> None:
    sku_id, _ = make_sku(session, on_hand=2)
    with pytest.raises(inventory.OutOfStock):
        inventory.reserve(session=session, sku_id=sku_id, quantity=3, ttl=timedelta(minutes=1))
    for bad in (0, -1, True):
        with pytest.raises(InvalidInput):
            inventory.reserve(
                session=session, sku_id=sku_id, quantity=bad, ttl=timedelta(minutes=1)
            )


def test_adjustment_cannot_undercut_reservations(session: Session) -> None:
    sku_id, [loc] = make_sku(session, on_hand=5)
    inventory.reserve(session=session, sku_id=sku_id, quantity=4, ttl=timedelta(minutes=5))
    with pytest.raises(Conflict):
        inventory.adjust(
            session=session,
            sku_id=sku_id,
            location_id=loc,
            delta=-2,
            reason=AdjustmentReason.DAMAGED,
        )
    inventory.adjust(
        session=session, sku_id=sku_id, location_id=loc, delta=-1, reason=AdjustmentReason.DAMAGED
    )
    assert inventory.summary(session=session, sku_id=sku_id) == inventory.StockSummary(4, 4)


@pytest.mark.parametrize("locations", [1, 3])
def test_concurrent_reservers_never_oversell(
    session: Session, engine: Engine, locations: int
) -> None:
    per_location = 25
    sku_id, _ = make_sku(session, on_hand=per_location, locations=locations)
    stock = per_location * locations
    threads = 16
    attempts_each = 12  # 192 attempts of 1-2 units for 25-75 units
    won: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    writer_factory = make_session_factory(engine)  # what the app's requests use

    def shopper(n: int) -> None:
        barrier.wait()
        for i in range(attempts_each):
            qty = 1 + (n + i) % 2
            try:
                with unit_of_work(writer_factory) as s:
                    inventory.reserve(
                        session=s, sku_id=sku_id, quantity=qty, ttl=timedelta(minutes=10)
                    )
                with lock:
                    won.append(qty)
            except inventory.OutOfStock:
                with lock:
                    refused.append(qty)
            except BaseException as exc:
                with lock:
                    errors.append(exc)

    pool = [threading.Thread(target=shopper, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()

    assert errors == []
    session.expire_all()
    levels = session.scalars(select(StockLevel).where(StockLevel.sku_id == sku_id)).all()
    reserved = sum(lv.reserved for lv in levels)
    assert all(lv.reserved <= lv.on_hand for lv in levels)
    assert reserved == sum(won)
    assert sum(won) <= stock
    # Demand far exceeded stock, so all but at most one unit per location was sold.
    assert sum(won) >= stock - locations
    held = session.scalars(select(Reservation.quantity).where(Reservation.sku_id == sku_id)).all()
    assert sum(held) == sum(won)
