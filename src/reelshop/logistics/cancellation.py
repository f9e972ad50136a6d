"""Automatic cancellation: paid orders nobody shipped are refunded in full.

An order still ``paid`` with no carrier scan when the market policy's grace period
(``cancel_grace_days`` business days, 3 in the US) after its ship-by deadline has run
out is refunded through ``payments.service.refund_order`` (the whole remaining total,
out of escrow), its units go back on hand, and shopper and seller are told.
Platform-fulfilled orders are refunded the same way but recorded as not counting
against the seller.

checkout's state machine moves a paid order refunded in full to ``refunded`` (its
``record_refund`` does not accept ``cancelled`` orders), so an automatically cancelled
order ends ``refunded`` with the reason in its status history; ``AutoCancellation`` and
the ``order.auto_cancelled`` event say it was a cancellation.

Race-safe: the order row is locked first and its status re-read, so two workers
running the job at once refund once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout.models import Checkout, Order, OrderLine, OrderStatus
from reelshop.checkout.orders import lock_order
from reelshop.db import unit_of_work, utcnow
from reelshop.inventory import service as inventory
from reelshop.inventory.models import AdjustmentReason
from reelshop.logistics import estimates
from reelshop.logistics import service as logistics
from reelshop.logistics.estimate_models import AutoCancellation
from reelshop.logistics.fulfilment_models import PlatformFulfilledOrder
from reelshop.logistics.models import ShipByDeadline, Shipment
from reelshop.money import Money
from reelshop.notifications import service as notifications
from reelshop.outbox.service import emit
from reelshop.payments import service as payments
from reelshop.payments.provider import PaymentProvider
from reelshop.security import audit
from reelshop.sellers.models import SellerProfile

log = logging.getLogger("reelshop.logistics.cancellation")

REASON = "not shipped in time: cancelled automatically"


@dataclass(frozen=True)
class Due:
    order_id: str
    cancel_after: datetime


def cancel_after(*, session: Session, deadline: ShipByDeadline, market_code: str) -> datetime:
    """The end of the grace period: N business days after the ship-by day."""
    seller = session.get(SellerProfile, deadline.seller_id)
    lane = logistics.lane_for(seller)
    policy = estimates.policy_for(session=session, market_code=market_code, lane=lane)
    return logistics.ship_by_time(
        paid_at=deadline.ship_by,
        handling_days=policy.cancel_grace_days,
        timezone=deadline.seller_timezone,
        country=seller.ships_from_country if seller is not None else "US",
    )


def due_for_cancellation(
    *, session: Session, now: datetime | None = None, limit: int = 200
) -> list[Due]:
    """Paid, unscanned orders whose grace period has run out, oldest deadline first."""
    now = now or utcnow()
    rows = session.execute(
        select(ShipByDeadline, Checkout.market_code)
        .join(Order, Order.id == ShipByDeadline.order_id)
        .join(Checkout, Checkout.id == Order.checkout_id)
        .where(
            Order.status == OrderStatus.PAID,
            ShipByDeadline.first_transit_at.is_(None),
            ShipByDeadline.ship_by < now,
        )
        .order_by(ShipByDeadline.ship_by)
        .limit(limit)
    ).all()
    due = []
    for deadline, market_code in rows:
        until = cancel_after(session=session, deadline=deadline, market_code=market_code)
        if until < now:
            due.append(Due(deadline.order_id, until))
    return due


def _restock(session: Session, order: Order) -> None:
    """Paid units left stock when the order was paid; put them back on hand."""
    lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
    for line in lines:
        if line.reservation_id is None:
            continue
        reservation = inventory.commit(session=session, reservation_id=line.reservation_id)
        inventory.adjust(
            session=session,
            sku_id=line.sku_id,
            location_id=reservation.location_id,
            delta=line.quantity,
            reason=AdjustmentReason.RETURNED,
            note=f"{order.id} cancelled automatically before shipping",
        )


def cancel_unshipped_order(
    *, session: Session, provider: PaymentProvider, order_id: str, now: datetime | None = None
) -> AutoCancellation | None:
    """Cancel and refund one order if it is still due; None when it no longer is."""
    now = now or utcnow()
    order = lock_order(session=session, order_id=order_id)  # the race is decided here
    if order.status != OrderStatus.PAID:
        return None
    deadline = session.get(ShipByDeadline, order.id)
    checkout_row = session.get(Checkout, order.checkout_id)
    if deadline is None or checkout_row is None or deadline.first_transit_at is not None:
        return None
    scanned = session.scalar(
        select(Shipment.id).where(
            Shipment.order_id == order.id, Shipment.first_transit_at.is_not(None)
        )
    )
    if scanned is not None:
        return None
    until = cancel_after(session=session, deadline=deadline, market_code=checkout_row.market_code)
    if until >= now:
        return None
    remaining = order.total_amount - order.refunded_amount
    refund = payments.refund_order(
        session=session,
        provider=provider,
        order_id=order.id,
        amount=Money(remaining, order.currency),
        reason=REASON,
    )
    _restock(session, order)
    record = AutoCancellation(
        order_id=order.id,
        seller_id=order.seller_id,
        ship_by=deadline.ship_by,
        cancel_after=until,
        refund_id=refund.id,
        amount=remaining,
        currency=order.currency,
        counts_against_seller=not (
            deadline.platform_fulfilled or session.get(PlatformFulfilledOrder, order.id) is not None
        ),
        details={"market_code": checkout_row.market_code},
    )
    session.add(record)
    audit.record(
        session=session,
        actor_id=None,
        action="order.auto_cancelled",
        target_type="order",
        target_id=order.id,
        reason=REASON,
        detail={"refund_id": refund.id, "amount": remaining, "currency": order.currency},
    )
    emit(
        session=session,
        topic="order.auto_cancelled",
        payload={
            "order_id": order.id,
            "seller_id": order.seller_id,
            "shopper_id": order.shopper_id,
            "refund_id": refund.id,
            "amount": remaining,
            "currency": order.currency,
            "counts_against_seller": record.counts_against_seller,
        },
        subject_id=order.id,
    )
    amount = Money(remaining, order.currency)
    notifications.notify(
        session=session,
        user_id=order.shopper_id,
        kind="order.auto_cancelled",
        title="Your order was cancelled and refunded",
        body=(
            f"The seller did not ship order {order.id[-8:].upper()} in time, so we cancelled "
            f"it and refunded {amount} in full to your original payment method."
        ),
        link=f"/orders/{order.id}",
    )
    seller = session.get(SellerProfile, order.seller_id)
    grace = estimates.policy_for(
        session=session, market_code=checkout_row.market_code, lane=logistics.lane_for(seller)
    ).cancel_grace_days
    if seller is not None:
        notifications.notify(
            session=session,
            user_id=seller.user_id,
            kind="order.auto_cancelled",
            title="An unshipped order was cancelled",
            body=(
                f"Order {order.id[-8:].upper()} had no carrier scan {grace} business days "
                f"after its ship-by deadline, so it was cancelled and the shopper refunded "
                f"{amount}."
            ),
            link=f"/seller/orders/{order.id}",
        )
    session.flush()
    return record


def cancel_unshipped(
    factory: sessionmaker[Session],
    provider_for: Callable[[], PaymentProvider],
    *,
    now: datetime | None = None,
    limit: int = 200,
) -> int:
    """The periodic job: each order in its own transaction, so one failure costs one."""
    now = now or utcnow()
    with unit_of_work(factory) as session:
        due = due_for_cancellation(session=session, now=now, limit=limit)
    cancelled = 0
    for item in due:
        try:
            with unit_of_work(factory) as session:
                if cancel_unshipped_order(
                    session=session, provider=provider_for(), order_id=item.order_id, now=now
                ):
                    cancelled += 1
        except Exception:  # this order stays due; the next run tries again
            log.exception("automatic cancellation failed", extra={"order_id": item.order_id})
    return cancelled
