"""Idempotency-Key behaviour, and concurrent checkouts that must never oversell."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from reelshop.accounts.models import User
from reelshop.checkout import cart as carts
from reelshop.checkout import service
from reelshop.checkout.models import Checkout, IdempotencyRecord, Order
from reelshop.db import make_session_factory, unit_of_work, utcnow
from reelshop.errors import ProblemError
from reelshop.idempotency import purge_expired
from reelshop.inventory import service as inventory
from reelshop.inventory.models import Reservation, ReservationStatus, StockLevel
from tests.checkout.helpers import ADDRESS, add, make_shop, place, shopper_headers
from tests.factories import make_user


def test_retry_returns_the_first_answer(session: Session, client: TestClient) -> None:
    shop = make_shop(session, stock=5)
    _, headers = shopper_headers(session, client)
    add(client, headers, shop.sku_id, 1)
    first = place(client, headers, key="buy-once")
    assert first.status_code == 201
    # the cart is empty now; a naive re-run would fail, a replay returns the first answer
    again = place(client, headers, key="buy-once")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert session.scalar(select(func.count()).select_from(Checkout)) == 1


def test_same_key_different_body_is_422(session: Session, client: TestClient) -> None:
    shop = make_shop(session, stock=5)
    _, headers = shopper_headers(session, client)
    add(client, headers, shop.sku_id, 1)
    assert place(client, headers, key="k").status_code == 201
    add(client, headers, shop.sku_id, 1)
    other = place(client, headers, key="k", shipping={shop.seller.id: "express"})
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    assert session.scalar(select(func.count()).select_from(Checkout)) == 1
    # key order and spacing do not make a different body
    body = {"shipping": {}, "address": ADDRESS}
    r = client.post(
        "/api/v1/checkouts",
        content=b'{"address": %s}' % str(ADDRESS).replace("'", '"').encode(),
        headers={**headers, "Idempotency-Key": "k2", "content-type": "application/json"},
    )
    assert r.status_code == 201, r.text
    r2 = client.post("/api/v1/checkouts", json=body, headers={**headers, "Idempotency-Key": "k2"})
    assert r2.status_code == 422  # a different body (has "shipping"): refused


def test_keys_are_per_user(session: Session, client: TestClient) -> None:
    shop = make_shop(session, stock=5)
    _, alice = shopper_headers(session, client)
    _, bob = shopper_headers(session, client)
    add(client, alice, shop.sku_id, 1)
    add(client, bob, shop.sku_id, 1)
    a = place(client, alice, key="same")
    b = place(client, bob, key="same")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_failed_call_keeps_no_key_and_can_be_retried(session: Session, client: TestClient) -> None:
    shop = make_shop(session, stock=5)
    _, headers = shopper_headers(session, client)
    assert place(client, headers, key="early").status_code == 422  # empty cart
    add(client, headers, shop.sku_id, 1)
    assert place(client, headers, key="early").status_code == 201


def test_expired_keys_are_purged(session: Session, client: TestClient) -> None:
    shop = make_shop(session, stock=5)
    _, headers = shopper_headers(session, client)
    add(client, headers, shop.sku_id, 1)
    assert place(client, headers, key="old").status_code == 201
    record = session.scalars(select(IdempotencyRecord)).one()
    assert record.expires_at - record.created_at >= timedelta(hours=24)
    record.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert purge_expired(session=session) == 1
    session.commit()
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


def test_concurrent_requests_with_one_key_make_one_order(
    session: Session, client: TestClient
) -> None:
    shop = make_shop(session, stock=50)
    _, headers = shopper_headers(session, client)
    add(client, headers, shop.sku_id, 1)
    barrier = threading.Barrier(8)

    def attempt() -> tuple[int, str | None]:
        barrier.wait()
        r = place(client, headers, key="double-click")
        return r.status_code, r.json().get("id")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: attempt(), range(8)))
    statuses = {s for s, _ in results}
    assert statuses <= {201, 409}, results
    ids = {i for s, i in results if s == 201}
    assert len(ids) == 1
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Checkout)) == 1
    assert session.scalar(select(func.count()).select_from(Order)) == 1


def _fill_cart(session: Session, user: User, sku_id: str, quantity: int) -> None:
    carts.add_line(session=session, shopper=user, sku_id=sku_id, quantity=quantity)


def test_concurrent_checkouts_for_the_last_units_never_oversell(
    session: Session, engine: Engine
) -> None:
    shop = make_shop(session, stock=5)
    shoppers = [make_user(session, commit=False) for _ in range(16)]
    for user in shoppers:
        _fill_cart(session, user, shop.sku_id, 1)
    session.commit()
    factory = make_session_factory(engine)
    barrier = threading.Barrier(len(shoppers))

    def buy(user_id: str) -> str:
        barrier.wait()
        try:
            with unit_of_work(factory) as s:
                user = s.get(User, user_id)
                assert user is not None
                service.place_checkout(
                    session=s,
                    shopper=user,
                    address=service.AddressInput(**ADDRESS),
                    reservation_ttl=timedelta(minutes=15),
                )
            return "ok"
        except ProblemError as exc:
            return exc.problem.slug

    with ThreadPoolExecutor(len(shoppers)) as pool:
        outcomes = list(pool.map(buy, [u.id for u in shoppers]))
    assert outcomes.count("ok") == 5, outcomes
    assert set(outcomes) == {"ok", "cart-needs-review"}
    session.expire_all()
    level = session.scalars(select(StockLevel).where(StockLevel.sku_id == shop.sku_id)).one()
    assert (level.on_hand, level.reserved) == (5, 5)
    assert session.scalar(select(func.count()).select_from(Order)) == 5
    reserved = session.scalar(
        select(func.sum(Reservation.quantity)).where(
            Reservation.sku_id == shop.sku_id, Reservation.status == ReservationStatus.ACTIVE
        )
    )
    assert reserved == 5
    assert inventory.available(session=session, sku_ids=[shop.sku_id])[shop.sku_id] == 0


def test_an_expired_key_is_new_again(session: Session, client: TestClient) -> None:
    shop = make_shop(session, stock=5)
    _, headers = shopper_headers(session, client)
    add(client, headers, shop.sku_id, 1)
    assert place(client, headers, key="reused-later").status_code == 201
    record = session.scalars(select(IdempotencyRecord)).one()
    record.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    add(client, headers, shop.sku_id, 1)
    r = place(client, headers, key="reused-later", shipping={shop.seller.id: "express"})
    assert r.status_code == 201, r.text
    assert session.scalar(select(func.count()).select_from(Checkout)) == 2


def test_a_burst_of_checkouts_over_http_is_all_answered_without_5xx(
    session: Session, client: TestClient
) -> None:
    """More concurrent requests than the server has threads: every one gets a 201 or a
    409, none waits out a lock timeout (the request gate keeps the thread pool free)."""
    from reelshop.accounts import service as accounts

    shop = make_shop(session, stock=20)
    secrets = []
    for _ in range(80):
        user = make_user(session, commit=False)
        carts.add_line(session=session, shopper=user, sku_id=shop.sku_id, quantity=1)
        secrets.append(accounts.create_api_token(session=session, user=user, name="t").secret)
    session.commit()
    barrier = threading.Barrier(len(secrets))

    def buy(secret: str) -> int:
        barrier.wait()
        return int(place(client, {"Authorization": f"Bearer {secret}"}).status_code)

    started = time.monotonic()
    with ThreadPoolExecutor(len(secrets)) as pool:
        statuses = list(pool.map(buy, secrets))
    assert sorted(set(statuses)) == [201, 409], statuses
    assert statuses.count(201) == 20
    assert time.monotonic() - started < 25  # no 30 s lock or pool timeouts on the way
