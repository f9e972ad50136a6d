"""The order state machine: the only way an order's status changes.

Allowed transitions (anything else is a 409 ``/problems/illegal-transition`` and
changes nothing):

| from               | to                                   |
|--------------------|--------------------------------------|
| placed             | paid, cancelled                      |
| paid               | shipped, cancelled, refunded         |
| shipped            | delivered, refunded                  |
| delivered          | completed, refunded                  |
| completed          | refunded                             |
| cancelled/refunded | — (final)                            |

A partial refund is not a status: it is recorded in ``Order.refunded_amount`` and the
order keeps moving (a partly refunded order still ships, is delivered and settles what
is left). Only a refund of the whole total moves it to ``refunded``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.checkout.models import Order, OrderStatus, OrderStatusChange
from reelshop.db import utcnow
from reelshop.errors import Conflict, NotFound, problem_type
from reelshop.ids import looks_like
from reelshop.outbox.service import emit

ILLEGAL_TRANSITION = problem_type(
    "illegal-transition", 409, "The order cannot move to that status from where it is"
)

S = OrderStatus
ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PLACED: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.SHIPPED, S.CANCELLED, S.REFUNDED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUNDED}),
    S.DELIVERED: frozenset({S.COMPLETED, S.REFUNDED}),
    S.COMPLETED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

_TIMESTAMP = {
    S.PAID: "paid_at",
    S.SHIPPED: "shipped_at",
    S.DELIVERED: "delivered_at",
    S.COMPLETED: "completed_at",
    S.CANCELLED: "cancelled_at",
}


class IllegalTransition(Conflict):
    default_type = ILLEGAL_TRANSITION


def can_transition(current: str, to: str) -> bool:
    try:
        return OrderStatus(to) in ALLOWED_TRANSITIONS[OrderStatus(current)]
    except ValueError:
        return False


def lock_order(*, session: Session, order_id: str) -> Order:
    """The order row, locked for update on PostgreSQL (SQLite's writer lock covers it)."""
    query = select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    query = query.with_for_update()
    order = session.scalars(query).first() if looks_like("ord", order_id) else None
    if order is None:
        raise NotFound("no such order")
    return order


def order_event_payload(order: Order) -> dict[str, object]:
    return {
        "order_id": order.id,
        "checkout_id": order.checkout_id,
        "seller_id": order.seller_id,
        "shopper_id": order.shopper_id,
        "status": order.status,
        "currency": order.currency,
        "subtotal_amount": order.subtotal_amount,
        "shipping_amount": order.shipping_amount,
        "discount_amount": order.discount_amount,
        "platform_discount_amount": order.platform_discount_amount,
        "seller_discount_amount": order.seller_discount_amount,
        "total_amount": order.total_amount,
        "refunded_amount": order.refunded_amount,
    }


def apply_transition(
    *,
    session: Session,
    order: Order,
    to: OrderStatus,
    actor_id: str | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> Order:
    """Move a loaded (locked) order; raises IllegalTransition without touching it."""
    if not can_transition(order.status, to):
        raise IllegalTransition(
            f"order {order.id} is {order.status}; it cannot become {to}",
            order_id=order.id,
            current_status=order.status,
            requested_status=str(to),
        )
    at = at or utcnow()
    previous = order.status
    order.status = to
    stamp = _TIMESTAMP.get(to)
    if stamp is not None:
        setattr(order, stamp, at)
    session.add(
        OrderStatusChange(
            order_id=order.id,
            from_status=previous,
            to_status=to,
            actor_id=actor_id,
            reason=reason,
            at=at,
        )
    )
    emit(
        session=session,
        topic=f"order.{to}",
        payload={**order_event_payload(order), "previous_status": previous, "reason": reason},
        subject_id=order.id,
    )
    session.flush()
    return order


def transition(
    *,
    session: Session,
    order_id: str,
    to: OrderStatus | str,
    actor_id: str | None = None,
    reason: str | None = None,
) -> Order:
    """Move an order to ``to`` if the table above allows it; 409 otherwise."""
    try:
        target = OrderStatus(to)
    except ValueError:
        raise IllegalTransition(f"{to!r} is not an order status") from None
    order = lock_order(session=session, order_id=order_id)
    return apply_transition(
        session=session, order=order, to=target, actor_id=actor_id, reason=reason
    )
