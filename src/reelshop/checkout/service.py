"""Checkout: placing a cart as one checkout with one order per seller, and what
happens to it afterwards (paid, failed, expired, refunded, delivered).

Payments calls :func:`get_checkout`, :func:`mark_checkout_paid`,
:func:`fail_checkout`, :func:`record_refund`, :func:`mark_delivered` and
:func:`orders_delivered_before`; checkout never imports payments.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reelshop.checkout import promotions
from reelshop.checkout.models import (
    Checkout,
    CheckoutStatus,
    Order,
    OrderLine,
    OrderStatus,
)
from reelshop.checkout.orders import (
    ALLOWED_TRANSITIONS,
    IllegalTransition,
    apply_transition,
    lock_order,
    transition,
)
from reelshop.db import utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.ids import looks_like
from reelshop.inventory import service as inventory
from reelshop.money import Money
from reelshop.outbox.service import emit

__all__ = [
    "ALLOWED_TRANSITIONS",
    "IllegalTransition",
    "fail_checkout",
    "get_checkout",
    "mark_checkout_paid",
    "mark_delivered",
    "orders_delivered_before",
    "record_refund",
    "transition",
]


# --- reads ----------------------------------------------------------------------------------


def get_checkout(*, session: Session, checkout_id: str, shopper_id: str | None) -> Checkout:
    """The shopper's checkout; someone else's (or none) is 404. ``shopper_id=None`` is for
    trusted callers (webhooks, jobs) that act on any checkout."""
    checkout = session.get(Checkout, checkout_id) if looks_like("chk", checkout_id) else None
    if checkout is None or (shopper_id is not None and checkout.shopper_id != shopper_id):
        raise NotFound("no such checkout")
    return checkout


def _lock_checkout(session: Session, checkout_id: str) -> Checkout:
    query = (
        select(Checkout).where(Checkout.id == checkout_id).execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    checkout = session.scalars(query).first() if looks_like("chk", checkout_id) else None
    if checkout is None:
        raise NotFound("no such checkout")
    return checkout


def _orders_of(session: Session, checkout_id: str) -> list[Order]:
    return list(
        session.scalars(
            select(Order)
            .where(Order.checkout_id == checkout_id)
            .options(selectinload(Order.lines))
            .order_by(Order.created_at, Order.id)
        ).all()
    )


def checkout_total(checkout: Checkout) -> Money:
    return Money(checkout.total_amount, checkout.currency)


# --- what payments reports ------------------------------------------------------------------


def mark_checkout_paid(*, session: Session, checkout_id: str) -> list[Order]:
    """The payment succeeded: reserved stock is sold, every order becomes paid. Idempotent.

    A checkout that already expired or was cancelled cannot be paid (its stock may be
    someone else's now): that is a 409 and payments must refund.
    """
    checkout = _lock_checkout(session, checkout_id)
    orders = _orders_of(session, checkout.id)
    if checkout.status == CheckoutStatus.PAID:
        return orders
    if checkout.status not in (CheckoutStatus.AWAITING_PAYMENT, CheckoutStatus.OPEN):
        raise Conflict(
            f"checkout {checkout.id} is {checkout.status}; it can no longer be paid",
            checkout_id=checkout.id,
            checkout_status=checkout.status,
        )
    now = utcnow()
    for order in orders:
        for line in order.lines:
            if line.reservation_id is not None:
                inventory.commit(session=session, reservation_id=line.reservation_id)
        if order.status == OrderStatus.PLACED:
            apply_transition(session=session, order=order, to=OrderStatus.PAID, at=now)
    checkout.status = CheckoutStatus.PAID
    checkout.paid_at = now
    emit(
        session=session,
        topic="checkout.paid",
        payload={
            "checkout_id": checkout.id,
            "shopper_id": checkout.shopper_id,
            "currency": checkout.currency,
            "total_amount": checkout.total_amount,
            "order_ids": [o.id for o in orders],
        },
        subject_id=checkout.id,
    )
    session.flush()
    return orders


def _close_unpaid(
    session: Session, checkout: Checkout, status: CheckoutStatus, reason: str
) -> list[Order]:
    orders = _orders_of(session, checkout.id)
    for order in orders:
        for line in order.lines:
            if line.reservation_id is not None:
                inventory.release(session=session, reservation_id=line.reservation_id)
        if order.status == OrderStatus.PLACED:
            apply_transition(session=session, order=order, to=OrderStatus.CANCELLED, reason=reason)
    promotions.release_checkout_promotions(session=session, checkout_id=checkout.id)
    checkout.status = status
    checkout.closed_reason = reason[:200]
    emit(
        session=session,
        topic=f"checkout.{status}",
        payload={"checkout_id": checkout.id, "shopper_id": checkout.shopper_id, "reason": reason},
        subject_id=checkout.id,
    )
    session.flush()
    return orders


def fail_checkout(*, session: Session, checkout_id: str, reason: str) -> Checkout:
    """The payment failed or was abandoned: stock, deal units and vouchers go back, orders
    are cancelled. Idempotent; a paid checkout is a 409 (refund it instead)."""
    checkout = _lock_checkout(session, checkout_id)
    if checkout.status in (CheckoutStatus.CANCELLED, CheckoutStatus.EXPIRED):
        return checkout
    if checkout.status == CheckoutStatus.PAID:
        raise Conflict(f"checkout {checkout.id} is paid; refund its orders instead")
    _close_unpaid(session, checkout, CheckoutStatus.CANCELLED, reason)
    return checkout


def record_refund(*, session: Session, order_id: str, amount: Money) -> Order:
    """Add a refund to the order: partially_refunded, or refunded once it covers the total."""
    order = lock_order(session=session, order_id=order_id)
    if amount.currency != order.currency:
        raise InvalidInput(f"refund is in {amount.currency}, the order in {order.currency}")
    if amount.amount <= 0:
        raise InvalidInput("a refund is a positive amount")
    if order.refunded_amount + amount.amount > order.total_amount:
        raise Conflict(
            "refunds would exceed what the order cost",
            refunded_amount=order.refunded_amount,
            total_amount=order.total_amount,
        )
    order.refunded_amount += amount.amount
    target = (
        OrderStatus.REFUNDED
        if order.refunded_amount == order.total_amount
        else OrderStatus.PARTIALLY_REFUNDED
    )
    apply_transition(session=session, order=order, to=target, reason=f"refund {amount}")
    return order


def mark_delivered(*, session: Session, order_id: str, delivered_at: datetime) -> Order:
    """The carrier delivered the order. Idempotent. A paid order that was never marked
    shipped (no shipment recorded yet) passes through shipped at the same instant."""
    order = lock_order(session=session, order_id=order_id)
    if order.status == OrderStatus.DELIVERED:
        return order
    if order.status == OrderStatus.PAID:
        apply_transition(session=session, order=order, to=OrderStatus.SHIPPED, at=delivered_at)
    return apply_transition(session=session, order=order, to=OrderStatus.DELIVERED, at=delivered_at)


def orders_delivered_before(*, session: Session, before: datetime, limit: int) -> list[Order]:
    """Delivered (or completed) orders delivered before ``before``, oldest first: settlement
    candidates. Payments decides which it has already settled."""
    return list(
        session.scalars(
            select(Order)
            .where(
                Order.status.in_([OrderStatus.DELIVERED, OrderStatus.COMPLETED]),
                Order.delivered_at.is_not(None),
                Order.delivered_at < before,
            )
            .order_by(Order.delivered_at, Order.id)
            .limit(limit)
        ).all()
    )


def order_lines(*, session: Session, order_id: str) -> list[OrderLine]:
    return list(
        session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
        ).all()
    )
