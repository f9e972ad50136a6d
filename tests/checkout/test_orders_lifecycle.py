"""Order state machine, what payments calls, the expiry job, and seller cancellation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from reelshop.checkout import jobs, promotions, service
from reelshop.checkout.models import (
    Checkout,
    CheckoutStatus,
    FlashDeal,
    Order,
    OrderStatus,
    OrderStatusChange,
    Voucher,
    VoucherFunding,
    VoucherKind,
)
from reelshop.checkout.orders import ALLOWED_TRANSITIONS
from reelshop.db import make_session_factory, utcnow
from reelshop.errors import Conflict
from reelshop.inventory import service as inventory
from reelshop.inventory.models import Reservation, ReservationStatus, StockLevel
from reelshop.money import Money
from reelshop.outbox.models import OutboxEvent
from tests.checkout.helpers import add, make_shop, place, shopper_headers
from tests.factories import api_login

ALL = list(OrderStatus)
ILLEGAL = [(a, b) for a in ALL for b in ALL if b not in ALLOWED_TRANSITIONS[a]]
LEGAL = [(a, b) for a in ALL for b in ALLOWED_TRANSITIONS[a]]


def _placed_order(session: Session, client: TestClient, **body: object) -> dict[str, object]:
    shop = make_shop(session, stock=10)
    _, headers = shopper_headers(session, client)
    add(client, headers, shop.sku_id, 2)
    r = place(client, headers, **body)
    assert r.status_code == 201, r.text
    result: dict[str, object] = r.json()
    result["shop"] = shop
    result["headers"] = headers
    return result


def _set_status(session: Session, order_id: str, status: OrderStatus) -> None:
    order = session.get(Order, order_id)
    assert order is not None
    order.status = status
    session.commit()


def test_every_illegal_transition_is_409_and_changes_nothing(
    session: Session, client: TestClient
) -> None:
    placed = _placed_order(session, client)
    order_id = str(placed["orders"][0]["id"])  # type: ignore[index]
    for current, target in ILLEGAL:
        _set_status(session, order_id, current)
        history = session.scalar(select(func.count()).select_from(OrderStatusChange))
        events = session.scalar(select(func.count()).select_from(OutboxEvent))
        with pytest.raises(Conflict) as err:
            service.transition(session=session, order_id=order_id, to=target)
        assert err.value.problem.slug == "illegal-transition"
        assert err.value.status == 409
        session.rollback()
        session.expire_all()
        assert session.get(Order, order_id).status == current  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(OrderStatusChange)) == history
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == events
    with pytest.raises(Conflict):
        service.transition(session=session, order_id=order_id, to="teleported")


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_legal_transitions_stamp_and_emit(
    session: Session, client: TestClient, current: OrderStatus, target: OrderStatus
) -> None:
    placed = _placed_order(session, client)
    order_id = str(placed["orders"][0]["id"])  # type: ignore[index]
    _set_status(session, order_id, current)
    order = service.transition(session=session, order_id=order_id, to=target, reason="test")
    session.commit()
    assert order.status == target
    topics = session.scalars(
        select(OutboxEvent.topic).where(OutboxEvent.subject_id == order_id)
    ).all()
    assert f"order.{target}" in topics


def test_paid_then_delivered_refunded_and_settlement_query(
    session: Session, client: TestClient
) -> None:
    placed = _placed_order(session, client)
    checkout_id = str(placed["id"])
    shop = placed["shop"]
    orders = service.mark_checkout_paid(session=session, checkout_id=checkout_id)
    session.commit()
    assert [o.status for o in orders] == [OrderStatus.PAID]
    assert service.mark_checkout_paid(session=session, checkout_id=checkout_id)  # idempotent
    session.commit()
    level = session.scalars(select(StockLevel).where(StockLevel.sku_id == shop.sku_id)).one()  # type: ignore[attr-defined]
    assert (level.on_hand, level.reserved) == (8, 0)
    paid_events = session.scalars(
        select(OutboxEvent).where(OutboxEvent.topic == "order.paid")
    ).all()
    assert len(paid_events) == 1
    assert paid_events[0].payload["seller_id"] == shop.seller.id  # type: ignore[attr-defined]
    assert paid_events[0].payload["total_amount"] == orders[0].total_amount
    with pytest.raises(Conflict):
        service.fail_checkout(session=session, checkout_id=checkout_id, reason="late")
    session.rollback()
    order_id = orders[0].id
    delivered_at = utcnow() - timedelta(days=10)
    service.mark_delivered(session=session, order_id=order_id, delivered_at=delivered_at)
    session.commit()
    due = service.orders_delivered_before(
        session=session, before=utcnow() - timedelta(days=7), limit=10
    )
    assert [o.id for o in due] == [order_id]
    assert not service.orders_delivered_before(
        session=session, before=utcnow() - timedelta(days=11), limit=10
    )
    total = orders[0].total_amount
    order = service.record_refund(session=session, order_id=order_id, amount=Money(100, "USD"))
    assert order.status == OrderStatus.DELIVERED and order.refunded_amount == 100
    with pytest.raises(Conflict):
        service.record_refund(session=session, order_id=order_id, amount=Money(total, "USD"))
    order = service.record_refund(
        session=session, order_id=order_id, amount=Money(total - 100, "USD")
    )
    assert order.status == OrderStatus.REFUNDED and order.refunded_amount == total
    session.commit()
    with pytest.raises(Conflict):
        service.transition(session=session, order_id=order_id, to=OrderStatus.SHIPPED)


def test_fail_checkout_gives_everything_back(session: Session, client: TestClient) -> None:
    shop = make_shop(session, price_cents=2000, stock=10)
    now = utcnow()
    promotions.create_voucher(
        session=session,
        code="GIVEBACK",
        funded_by=VoucherFunding.PLATFORM,
        kind=VoucherKind.FIXED,
        amount=300,
        currency="USD",
        market_code="US",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        max_uses_total=1,
    )
    promotions.create_flash_deal(
        session=session,
        sku_id=shop.sku_id,
        deal_price=Money(1500, "USD"),
        quantity=5,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        market_code="US",
    )
    session.commit()
    _, headers = shopper_headers(session, client)
    add(client, headers, shop.sku_id, 2)
    body = place(client, headers, voucher_codes=["GIVEBACK"]).json()
    assert body["subtotal_amount"] == 3000 and body["discount_amount"] == 300
    session.expire_all()
    assert session.scalars(select(FlashDeal.quantity_taken)).one() == 2
    service.fail_checkout(session=session, checkout_id=body["id"], reason="card declined")
    service.fail_checkout(session=session, checkout_id=body["id"], reason="again")  # idempotent
    session.commit()
    session.expire_all()
    assert session.get(Checkout, body["id"]).status == CheckoutStatus.CANCELLED  # type: ignore[union-attr]
    assert session.scalars(select(Order.status)).all() == [OrderStatus.CANCELLED]
    assert session.scalars(select(FlashDeal.quantity_taken)).one() == 0
    assert session.scalars(select(Voucher.uses_count)).one() == 0
    assert inventory.available(session=session, sku_ids=[shop.sku_id])[shop.sku_id] == 10
    with pytest.raises(Conflict):
        service.mark_checkout_paid(session=session, checkout_id=body["id"])


def test_expiry_job_releases_stock_and_cancels(
    session: Session, client: TestClient, engine: Engine
) -> None:
    placed = _placed_order(session, client)
    shop = placed["shop"]
    sku_id = shop.sku_id  # type: ignore[attr-defined]
    session.expire_all()
    assert inventory.available(session=session, sku_ids=[sku_id])[sku_id] == 8
    session.rollback()
    factory = make_session_factory(engine)
    assert jobs.expire_unpaid(factory) == 0  # not due yet
    later = utcnow() + timedelta(minutes=16)
    assert jobs.expire_unpaid(factory, now=later) == 1
    assert jobs.expire_unpaid(factory, now=later) == 0
    session.expire_all()
    checkout = session.get(Checkout, placed["id"])
    assert checkout is not None and checkout.status == CheckoutStatus.EXPIRED
    assert session.scalars(select(Order.status)).all() == [OrderStatus.CANCELLED]
    assert inventory.available(session=session, sku_ids=[sku_id])[sku_id] == 10
    assert session.scalars(select(Reservation.status)).all() == [ReservationStatus.RELEASED]
    session.rollback()
    with pytest.raises(Conflict):
        service.mark_checkout_paid(session=session, checkout_id=str(placed["id"]))


def test_seller_cancels_paid_order_before_shipping(session: Session, client: TestClient) -> None:
    placed = _placed_order(session, client)
    shop = placed["shop"]
    order_id = str(placed["orders"][0]["id"])  # type: ignore[index]
    seller_headers = api_login(client, shop.seller_email)  # type: ignore[attr-defined]
    url = f"/api/v1/seller/orders/{order_id}/cancel"
    r = client.post(url, json={"reason": "cannot ship"}, headers=seller_headers)
    assert r.status_code == 409 and r.json()["type"] == "/problems/illegal-transition"
    service.mark_checkout_paid(session=session, checkout_id=str(placed["id"]))
    session.commit()
    r = client.post(url, json={"reason": "out of stock in warehouse"}, headers=seller_headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert [h["to_status"] for h in r.json()["history"]] == ["placed", "paid", "cancelled"]
    session.expire_all()
    sku_id = shop.sku_id  # type: ignore[attr-defined]
    assert inventory.available(session=session, sku_ids=[sku_id])[sku_id] == 10
    r = client.post(url, json={"reason": "again"}, headers=seller_headers)
    assert r.status_code == 409
    # the shopper cannot use the seller route
    r = client.post(url, json={"reason": "mine"}, headers=placed["headers"])  # type: ignore[arg-type]
    assert r.status_code == 403


def test_a_partly_refunded_order_still_ships_is_delivered_and_can_be_refunded_in_full(
    session: Session, client: TestClient
) -> None:
    placed = _placed_order(session, client)
    orders = service.mark_checkout_paid(session=session, checkout_id=str(placed["id"]))
    session.commit()
    order_id = orders[0].id
    total = orders[0].total_amount
    order = service.record_refund(session=session, order_id=order_id, amount=Money(100, "USD"))
    assert (order.status, order.refunded_amount) == (OrderStatus.PAID, 100)
    service.transition(session=session, order_id=order_id, to=OrderStatus.SHIPPED)
    service.mark_delivered(session=session, order_id=order_id, delivered_at=utcnow())
    order = service.record_refund(
        session=session, order_id=order_id, amount=Money(total - 100, "USD")
    )
    assert order.status == OrderStatus.REFUNDED
    session.commit()
    topics = session.scalars(
        select(OutboxEvent.topic).where(OutboxEvent.subject_id == order_id)
    ).all()
    assert "order.partially_refunded" in topics and "order.refunded" in topics
    with pytest.raises(Conflict):
        service.record_refund(session=session, order_id=order_id, amount=Money(1, "USD"))


def test_an_unpaid_order_cannot_be_refunded(session: Session, client: TestClient) -> None:
    placed = _placed_order(session, client)
    order_id = str(placed["orders"][0]["id"])  # type: ignore[index]
    with pytest.raises(Conflict):
        service.record_refund(session=session, order_id=order_id, amount=Money(100, "USD"))
