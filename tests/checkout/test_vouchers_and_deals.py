"""Vouchers and flash deals: rules, stacking, and limits that hold under concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from reelshop.accounts.models import StaffPermission, User
from reelshop.catalog.models import Sku
from reelshop.checkout import cart as carts
from reelshop.checkout import promotions, service
from reelshop.checkout.models import (
    Checkout,
    FlashDeal,
    Order,
    SkuPriceRecord,
    Voucher,
    VoucherFunding,
    VoucherKind,
    VoucherRedemption,
    VoucherUsage,
)
from reelshop.db import make_session_factory, unit_of_work, utcnow
from reelshop.errors import ProblemError
from reelshop.money import Money
from tests.checkout.helpers import ADDRESS, add, make_shop, place, shopper_headers
from tests.factories import api_login, make_staff, make_user


def _window(hours: float = 24) -> dict[str, str]:
    now = utcnow()
    return {
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=hours)).isoformat(),
    }


def _platform_voucher(session: Session, **overrides: Any) -> Voucher:
    now = utcnow()
    fields: dict[str, Any] = {
        "code": "WELCOME10",
        "funded_by": VoucherFunding.PLATFORM,
        "kind": VoucherKind.PERCENT,
        "percent_bp": 1000,
        "currency": "USD",
        "market_code": "US",
        "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(days=7),
    }
    fields.update(overrides)
    voucher = promotions.create_voucher(session=session, **fields)
    session.commit()
    return voucher


def test_staff_and_seller_create_vouchers_with_validation(
    session: Session, client: TestClient
) -> None:
    shop = make_shop(session)
    staff = make_staff(session, StaffPermission.FINANCE)
    staff_headers = api_login(client, staff.email)
    seller_headers = api_login(client, shop.seller_email)
    body = {"code": "spring-5", "kind": "fixed", "amount": 500, **_window()}
    r = client.post("/api/v1/staff/vouchers", json=body, headers=staff_headers)
    assert r.status_code == 201, r.text
    assert r.json()["code"] == "SPRING-5" and r.json()["funded_by"] == "platform"
    assert (
        client.post("/api/v1/staff/vouchers", json=body, headers=staff_headers).status_code == 409
    )
    r = client.post(
        "/api/v1/seller/vouchers", json={**body, "code": "LUMI-5"}, headers=seller_headers
    )
    assert r.status_code == 201 and r.json()["seller_id"] == shop.seller.id
    r = client.post(
        "/api/v1/seller/vouchers",
        json={**body, "code": "LUMI-EUR", "currency": "EUR"},
        headers=seller_headers,
    )
    assert r.status_code == 422  # not the shop's currency
    # a seller cannot make platform vouchers; a shopper cannot make any
    assert (
        client.post("/api/v1/staff/vouchers", json=body, headers=seller_headers).status_code == 403
    )
    bad = [
        {**body, "code": "X1", "kind": "percent", "percent_bp": 20_000, "amount": None},
        {**body, "code": "X2", "amount": -5},
        {**body, "code": "X3", "starts_at": body["ends_at"], "ends_at": body["starts_at"]},
        {**body, "code": "X4", "starts_at": "2026-01-01T00:00:00"},  # naive time
        {**body, "code": "bad code!"},
    ]
    for payload in bad:
        r = client.post("/api/v1/staff/vouchers", json=payload, headers=staff_headers)
        assert r.status_code == 422, (payload, r.text)
    assert session.scalar(select(func.count()).select_from(Voucher)) == 2


def test_vouchers_stack_seller_first_then_platform_split_exactly(
    session: Session, client: TestClient
) -> None:
    a = make_shop(session, name="A", price_cents=1000, stock=10)
    b = make_shop(session, name="B", price_cents=2001, stock=10)
    _platform_voucher(session, code="TENOFF", kind=VoucherKind.FIXED, percent_bp=None, amount=1000)
    promotions.create_voucher(
        session=session,
        code="A-HALF",
        funded_by=VoucherFunding.SELLER,
        seller_id=a.seller.id,
        kind=VoucherKind.PERCENT,
        percent_bp=5000,
        currency="USD",
        market_code="US",
        starts_at=utcnow() - timedelta(hours=1),
        ends_at=utcnow() + timedelta(days=1),
    )
    session.commit()
    _, headers = shopper_headers(session, client)
    add(client, headers, a.sku_id, 2)  # 20.00
    add(client, headers, b.sku_id, 1)  # 20.01
    check = client.get("/api/v1/vouchers/tenoff/check", headers=headers).json()
    assert check["valid"] is True and check["discount_on_cart"]["amount"] == 1000
    r = place(client, headers, voucher_codes=["tenoff", "A-HALF"])
    assert r.status_code == 201, r.text
    body = r.json()
    orders = {o["seller_id"]: o for o in body["orders"]}
    assert orders[a.seller.id]["seller_discount_amount"] == 1000  # half of 20.00
    # platform 10.00 split over what is left: 10.00 and 20.01
    platform = [o["platform_discount_amount"] for o in body["orders"]]
    assert sum(platform) == 1000
    assert (
        orders[b.seller.id]["platform_discount_amount"]
        > orders[a.seller.id]["platform_discount_amount"]
    )
    assert body["discount_amount"] == 2000
    assert body["total_amount"] == 4001 - 2000 + 2 * 499
    assert sum(o["total_amount"] for o in body["orders"]) == body["total_amount"]
    assert session.scalar(select(func.count()).select_from(VoucherRedemption)) == 2
    # used once per user
    add(client, headers, a.sku_id, 1)
    r = place(client, headers, voucher_codes=["TENOFF"])
    assert r.status_code == 409 and r.json()["type"] == "/problems/voucher-exhausted"


def test_min_spend_and_expired_vouchers_refused_nothing_written(
    session: Session, client: TestClient
) -> None:
    shop = make_shop(session, price_cents=1000, stock=10)
    _platform_voucher(session, code="BIGSPEND", min_spend_amount=5000)
    _platform_voucher(
        session,
        code="OLD",
        starts_at=utcnow() - timedelta(days=10),
        ends_at=utcnow() - timedelta(days=1),
    )
    _, headers = shopper_headers(session, client)
    add(client, headers, shop.sku_id, 1)
    r = place(client, headers, voucher_codes=["BIGSPEND"])
    assert r.status_code == 422 and r.json()["type"] == "/problems/voucher-not-applicable"
    assert "minimum spend" in r.json()["detail"]
    r = place(client, headers, voucher_codes=["OLD"])
    assert r.status_code == 422 and r.json()["type"] == "/problems/voucher-expired"
    check = client.get("/api/v1/vouchers/OLD/check", headers=headers).json()
    assert check["valid"] is False and "valid from" in check["reason"]
    assert client.get("/api/v1/vouchers/NOPE/check", headers=headers).status_code == 404
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Checkout)) == 0
    assert session.scalar(select(func.sum(Voucher.uses_count))) == 0
    assert client.get("/api/v1/cart", headers=headers).json()["lines"][0]["quantity"] == 1


def _place_in_thread(
    factory: Any, barrier: threading.Barrier, user_id: str, codes: list[str]
) -> str:
    barrier.wait()
    try:
        with unit_of_work(factory) as s:
            user = s.get(User, user_id)
            assert user is not None
            service.place_checkout(
                session=s,
                shopper=user,
                address=service.AddressInput(**ADDRESS),
                voucher_codes=codes,
                reservation_ttl=timedelta(minutes=15),
            )
        return "ok"
    except ProblemError as exc:
        return exc.problem.slug


def test_voucher_total_limit_holds_under_concurrency(session: Session, engine: Engine) -> None:
    shop = make_shop(session, stock=100)
    voucher = _platform_voucher(session, code="FIRST3", max_uses_total=3)
    users = [make_user(session, commit=False) for _ in range(12)]
    for user in users:
        carts.add_line(session=session, shopper=user, sku_id=shop.sku_id, quantity=1)
    session.commit()
    factory = make_session_factory(engine)
    barrier = threading.Barrier(len(users))
    with ThreadPoolExecutor(len(users)) as pool:
        outcomes = list(
            pool.map(lambda u: _place_in_thread(factory, barrier, u.id, ["FIRST3"]), users)
        )
    assert outcomes.count("ok") == 3, outcomes
    assert set(outcomes) == {"ok", "voucher-exhausted"}
    session.expire_all()
    assert session.get(Voucher, voucher.id).uses_count == 3  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(VoucherRedemption)) == 3
    assert session.scalar(select(func.count()).select_from(Order)) == 3


def test_voucher_per_user_limit_holds_under_concurrency(session: Session, engine: Engine) -> None:
    user = make_user(session)
    voucher = _platform_voucher(session, code="TWICE", max_uses_per_user=2)
    checkout_ids = []
    for _ in range(8):
        checkout = Checkout(
            shopper_id=user.id,
            market_code="US",
            currency="USD",
            subtotal_amount=1000,
            total_amount=1000,
            shipping_address="{}",
            shipping_country="US",
            expires_at=utcnow() + timedelta(minutes=15),
        )
        session.add(checkout)
        session.flush()
        checkout_ids.append(checkout.id)
    session.commit()
    factory = make_session_factory(engine)
    barrier = threading.Barrier(len(checkout_ids))

    def take(checkout_id: str) -> str:
        barrier.wait()
        try:
            with unit_of_work(factory) as s:
                v = s.get(Voucher, voucher.id)
                assert v is not None
                promotions.redeem(
                    session=s,
                    voucher=v,
                    user_id=user.id,
                    checkout_id=checkout_id,
                    discount=Money(100, "USD"),
                )
            return "ok"
        except ProblemError as exc:
            return exc.problem.slug

    with ThreadPoolExecutor(len(checkout_ids)) as pool:
        outcomes = list(pool.map(take, checkout_ids))
    assert outcomes.count("ok") == 2, outcomes
    session.expire_all()
    usage = session.get(VoucherUsage, (voucher.id, user.id))
    assert usage is not None and usage.uses_count == 2
    assert session.get(Voucher, voucher.id).uses_count == 2  # type: ignore[union-attr]


# --- flash deals ----------------------------------------------------------------------------


def _deal_body(sku_id: str, price: int, quantity: int = 5, hours: float = 24) -> dict[str, Any]:
    return {"sku_id": sku_id, "deal_price_amount": price, "quantity": quantity, **_window(hours)}


def test_price_history_is_recorded_on_every_change(session: Session) -> None:
    shop = make_shop(session, price_cents=2000)
    sku = session.get(Sku, shop.sku_id)
    assert sku is not None
    sku.price_amount = 1800
    session.commit()
    sku.price_amount = 1800  # no change, no record
    session.commit()
    prices = session.scalars(
        select(SkuPriceRecord.price_amount)
        .where(SkuPriceRecord.sku_id == sku.id)
        .order_by(SkuPriceRecord.effective_at)
    ).all()
    assert list(prices) == [2000, 1800]


def test_flash_deal_rules_72_hours_and_30_day_lowest(session: Session, client: TestClient) -> None:
    shop = make_shop(session, price_cents=2500)
    seller_headers = api_login(client, shop.seller_email)
    # the price was 15.00 ten days ago, then went back up to 25.00
    now = utcnow()
    records = session.scalars(
        select(SkuPriceRecord).where(SkuPriceRecord.sku_id == shop.sku_id)
    ).all()
    for record in records:
        record.effective_at = now - timedelta(days=60)
    session.add(
        SkuPriceRecord(sku_id=shop.sku_id, price_amount=1500, effective_at=now - timedelta(days=10))
    )
    session.add(
        SkuPriceRecord(sku_id=shop.sku_id, price_amount=2500, effective_at=now - timedelta(days=9))
    )
    session.commit()
    r = client.post(
        "/api/v1/seller/flash-deals",
        json=_deal_body(shop.sku_id, 1000, hours=73),
        headers=seller_headers,
    )
    assert r.status_code == 422 and r.json()["type"] == "/problems/flash-deal-rules"
    assert "72 hours" in r.json()["detail"]
    r = client.post(
        "/api/v1/seller/flash-deals", json=_deal_body(shop.sku_id, 1800), headers=seller_headers
    )
    assert r.status_code == 422 and r.json()["type"] == "/problems/fake-discount"
    assert "$15.00" in r.json()["detail"] and r.json()["lowest_price_amount"] == 1500
    r = client.post(
        "/api/v1/seller/flash-deals", json=_deal_body(shop.sku_id, 1500), headers=seller_headers
    )
    assert r.status_code == 422  # equal is not lower
    assert session.scalar(select(func.count()).select_from(FlashDeal)) == 0
    r = client.post(
        "/api/v1/seller/flash-deals", json=_deal_body(shop.sku_id, 1499), headers=seller_headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["reference_price_amount"] == 1500
    # another seller cannot put a deal on this SKU
    session.rollback()  # end the read snapshot before writing (SQLite)
    other = make_shop(session, name="Other")
    other_headers = api_login(client, other.seller_email)
    r = client.post(
        "/api/v1/seller/flash-deals", json=_deal_body(shop.sku_id, 999), headers=other_headers
    )
    assert r.status_code == 404


def test_a_price_older_than_the_window_does_not_count(session: Session) -> None:
    shop = make_shop(session, price_cents=2000)
    now = utcnow()
    for record in session.scalars(select(SkuPriceRecord)).all():
        record.effective_at = now - timedelta(days=35)
    session.add(
        SkuPriceRecord(sku_id=shop.sku_id, price_amount=900, effective_at=now - timedelta(days=40))
    )
    session.commit()
    deal = promotions.create_flash_deal(
        session=session,
        sku_id=shop.sku_id,
        deal_price=Money(1900, "USD"),
        quantity=5,
        starts_at=now,
        ends_at=now + timedelta(hours=2),
        market_code="US",
    )
    assert deal.reference_price_amount == 2000


def test_deal_price_replaces_list_price_and_units_hold_under_concurrency(
    session: Session, engine: Engine
) -> None:
    shop = make_shop(session, price_cents=2000, stock=50)
    now = utcnow()
    promotions.create_flash_deal(
        session=session,
        sku_id=shop.sku_id,
        deal_price=Money(1200, "USD"),
        quantity=3,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        market_code="US",
    )
    session.commit()
    users = [make_user(session, commit=False) for _ in range(10)]
    for user in users:
        carts.add_line(session=session, shopper=user, sku_id=shop.sku_id, quantity=1)
    session.commit()
    factory = make_session_factory(engine)
    barrier = threading.Barrier(len(users))
    with ThreadPoolExecutor(len(users)) as pool:
        outcomes = list(pool.map(lambda u: _place_in_thread(factory, barrier, u.id, []), users))
    assert outcomes.count("ok") == 3, outcomes
    session.expire_all()
    deal = session.scalars(select(FlashDeal)).one()
    assert deal.quantity_taken == 3
    totals = session.scalars(select(Order.subtotal_amount)).all()
    assert sorted(totals) == [1200, 1200, 1200]


def test_bulk_loaded_sku_keeps_its_old_price_when_changed(session: Session) -> None:
    shop = make_shop(session, price_cents=2000)
    session.execute(SkuPriceRecord.__table__.delete())  # as if loaded with a bulk insert
    session.commit()
    sku = session.get(Sku, shop.sku_id)
    assert sku is not None
    sku.price_amount = 2600  # raise the price, then try a "deal" just below the new one
    session.commit()
    prices = sorted(
        session.scalars(
            select(SkuPriceRecord.price_amount).where(SkuPriceRecord.sku_id == sku.id)
        ).all()
    )
    assert prices == [2000, 2600]
    now = utcnow()
    try:
        promotions.create_flash_deal(
            session=session,
            sku_id=sku.id,
            deal_price=Money(2400, "USD"),
            quantity=5,
            starts_at=now,
            ends_at=now + timedelta(hours=2),
            market_code="US",
        )
    except ProblemError as exc:
        refused = exc.problem.slug
    else:
        refused = None
    assert refused == "fake-discount"
