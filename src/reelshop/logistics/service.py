"""Logistics: parcels of seller orders, carrier events applied in carrier-time order,
ship-by deadlines and late dispatch.

An order is shipped at its carriers' first in-transit scan (not when a number is
typed in) and delivered when every parcel of it is delivered.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reelshop.checkout import service as checkout
from reelshop.checkout.models import Checkout, Order, OrderStatus
from reelshop.checkout.orders import apply_transition, lock_order
from reelshop.db import utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.ids import looks_like
from reelshop.logistics import fulfilment
from reelshop.logistics.carriers import (
    Carrier,
    Checkpoint,
    SimulatedCarrier,
    checkpoint_of,
    validate_tracking_number,
)
from reelshop.logistics.holidays import HOLIDAYS
from reelshop.logistics.models import (
    FINAL,
    MOVING,
    DeadLetterEvent,
    Lane,
    ShipByDeadline,
    Shipment,
    ShipmentStatus,
    SimulatedCarrierEvent,
    TrackingEvent,
)
from reelshop.markets.models import Market
from reelshop.outbox.service import emit
from reelshop.sellers.models import SellerProfile

DEFAULT_HANDLING_DAYS = 2
SHIPPABLE = (OrderStatus.PAID, OrderStatus.SHIPPED)


# --- shipping an order ------------------------------------------------------------------------


@dataclass(frozen=True)
class ParcelItem:
    order_line_id: str
    quantity: int


def lane_for(seller: SellerProfile | None) -> Lane:
    return (
        Lane.CN_US if seller is not None and seller.ships_from_country == "CN" else Lane.DOMESTIC_US
    )


def _check_items(
    session: Session, order: Order, items: Sequence[ParcelItem]
) -> list[dict[str, object]]:
    if not items:
        return [{"order_line_id": line.id, "quantity": line.quantity} for line in order.lines]
    lines = {line.id: line for line in order.lines}
    already: dict[str, int] = {}
    for shipment in session.scalars(select(Shipment).where(Shipment.order_id == order.id)):
        for shipped in shipment.items:
            key = str(shipped["order_line_id"])
            already[key] = already.get(key, 0) + int(shipped["quantity"])
    wanted: dict[str, int] = {}
    for item in items:
        if item.order_line_id not in lines:
            raise InvalidInput(
                "that line is not on this order", field="items", order_line_id=item.order_line_id
            )
        if item.quantity < 1:
            raise InvalidInput("quantity must be at least 1", field="items")
        wanted[item.order_line_id] = wanted.get(item.order_line_id, 0) + item.quantity
    for line_id, quantity in wanted.items():
        if already.get(line_id, 0) + quantity > lines[line_id].quantity:
            raise InvalidInput(
                "more units than the order has left to ship", field="items", order_line_id=line_id
            )
    return [{"order_line_id": k, "quantity": v} for k, v in wanted.items()]


def create_shipment(
    *,
    session: Session,
    seller_id: str,
    order_id: str,
    carrier: Carrier,
    weight_grams: int,
    tracking_number: str | None = None,
    items: Sequence[ParcelItem] = (),
    now: datetime | None = None,
    lane: Lane | None = None,
) -> Shipment:
    """A parcel of the seller's paid order: with a label bought from ``carrier`` when no
    tracking number is given, otherwise with the seller's own number (format-checked)."""
    if not 1 <= weight_grams <= 70_000:
        raise InvalidInput("weight must be 1 g to 70 kg", field="weight_grams")
    order = lock_order(session=session, order_id=order_id)
    if order.seller_id != seller_id:
        raise NotFound("no such order")
    if order.status not in SHIPPABLE:
        raise Conflict(
            f"order {order.id} is {order.status}; only paid orders ship", order_status=order.status
        )
    seller = session.get(SellerProfile, seller_id)
    lane = lane or lane_for(seller)  # platform warehouses ship from where they stand
    stored_items = _check_items(session, order, items)
    now = now or utcnow()
    if tracking_number is None:
        label = carrier.buy_label(lane=lane, weight_grams=weight_grams)
        number, cost, purchased = label.tracking_number, label.price, True
    else:
        number = validate_tracking_number(carrier.code, tracking_number)
        cost, purchased = None, False
    taken = session.scalar(
        select(Shipment.id).where(
            Shipment.carrier == carrier.code, Shipment.tracking_number == number
        )
    )
    if taken is not None:
        raise Conflict("that tracking number is already on a parcel", field="tracking_number")
    shipment = Shipment(
        order_id=order.id,
        seller_id=seller_id,
        carrier=carrier.code,
        tracking_number=number,
        lane=lane,
        weight_grams=weight_grams,
        items=stored_items,
        label_purchased=purchased,
        label_cost_amount=cost.amount if cost else 0,
        currency=cost.currency if cost else order.currency,
    )
    session.add(shipment)
    session.flush()
    if purchased and isinstance(carrier, SimulatedCarrier):
        _plan_simulated_journey(session, carrier, shipment, now)
    replay_dead_letters(session=session, carrier=carrier.code, tracking_number=number, now=now)
    emit(
        session=session,
        topic="shipment.created",
        payload={
            "shipment_id": shipment.id,
            "order_id": order.id,
            "seller_id": seller_id,
            "carrier": shipment.carrier,
            "tracking_number": number,
            "label_purchased": purchased,
        },
        subject_id=shipment.id,
    )
    return shipment


def _plan_simulated_journey(
    session: Session, carrier: SimulatedCarrier, shipment: Shipment, start: datetime
) -> None:
    """Queue the simulated carrier's webhooks; some will be told late (carriers batch)."""
    for body in carrier.journey(
        tracking_number=shipment.tracking_number, lane=Lane(shipment.lane), start=start
    ):
        occurred = datetime.fromisoformat(body["data"]["checkpoint"]["occurred_at"])
        lag = timedelta(minutes=carrier.rng.expovariate(1 / 20))
        if carrier.rng.random() < 0.1:
            lag += timedelta(hours=carrier.rng.uniform(6, 48))
        session.add(
            SimulatedCarrierEvent(
                event_id=body["id"],
                tracking_number=shipment.tracking_number,
                payload=body,
                occurred_at=occurred,
                send_after=occurred + lag,
            )
        )
    session.flush()


def order_shipments(*, session: Session, order_id: str) -> list[Shipment]:
    return list(
        session.scalars(
            select(Shipment)
            .where(Shipment.order_id == order_id)
            .order_by(Shipment.created_at, Shipment.id)
        )
    )


def seller_order_shipments(*, session: Session, seller_id: str, order_id: str) -> list[Shipment]:
    order = session.get(Order, order_id) if looks_like("ord", order_id) else None
    if order is None or order.seller_id != seller_id:
        raise NotFound("no such order")
    return order_shipments(session=session, order_id=order_id)


def shopper_order_shipments(*, session: Session, shopper_id: str, order_id: str) -> list[Shipment]:
    order = session.get(Order, order_id) if looks_like("ord", order_id) else None
    if order is None or order.shopper_id != shopper_id:
        raise NotFound("no such order")
    return order_shipments(session=session, order_id=order_id)


# --- carrier events ---------------------------------------------------------------------------


def _lock_shipment(session: Session, carrier: str, tracking_number: str) -> Shipment | None:
    query = (
        select(Shipment)
        .where(Shipment.carrier == carrier, Shipment.tracking_number == tracking_number)
        .execution_options(populate_existing=True)
    )
    query = query.with_for_update()
    return session.scalars(query).first()


def _dead_letter(session: Session, carrier: str, point: Checkpoint, reason: str) -> str:
    exists = session.scalar(
        select(DeadLetterEvent.id).where(
            DeadLetterEvent.carrier == carrier, DeadLetterEvent.event_id == point.event_id
        )
    )
    if exists is not None:
        return "duplicate"
    try:
        with session.begin_nested():
            session.add(
                DeadLetterEvent(
                    carrier=carrier,
                    event_id=point.event_id,
                    tracking_number=point.tracking_number,
                    reason=reason,
                    payload=point.raw,
                )
            )
    except IntegrityError:
        return "duplicate"
    return "dead_lettered"


def apply_tracking_event(*, session: Session, carrier: str, point: Checkpoint) -> str:
    """Apply one verified carrier event; returns ``applied``, ``duplicate``, ``stale``
    (recorded, but older than what the parcel already shows) or ``dead_lettered``."""
    shipment = _lock_shipment(session, carrier, point.tracking_number)
    if shipment is None:
        return _dead_letter(session, carrier, point, "no parcel with this tracking number")
    seen = session.scalar(
        select(TrackingEvent.id).where(
            TrackingEvent.carrier == carrier, TrackingEvent.event_id == point.event_id
        )
    )
    if seen is not None:
        return "duplicate"
    try:
        with session.begin_nested():
            session.add(
                TrackingEvent(
                    shipment_id=shipment.id,
                    carrier=carrier,
                    event_id=point.event_id,
                    status=point.status,
                    code=point.code,
                    message=point.message,
                    location=point.location,
                    occurred_at=point.occurred_at,
                )
            )
    except IntegrityError:
        return "duplicate"

    if point.status in MOVING and (
        shipment.first_transit_at is None or point.occurred_at < shipment.first_transit_at
    ):
        shipment.first_transit_at = point.occurred_at
    newest = shipment.last_event_at is None or point.occurred_at >= shipment.last_event_at
    outcome = "stale"
    if point.status == ShipmentStatus.DELIVERED and shipment.status != ShipmentStatus.DELIVERED:
        shipment.status = ShipmentStatus.DELIVERED
        shipment.delivered_at = point.occurred_at
        outcome = "applied"
    elif newest and shipment.status not in FINAL:
        shipment.status = point.status
        outcome = "applied"
    if newest:
        shipment.last_event_at = point.occurred_at
    session.flush()
    if outcome == "applied":
        emit(
            session=session,
            topic="shipment.tracking_updated",
            payload={
                "shipment_id": shipment.id,
                "order_id": shipment.order_id,
                "status": shipment.status,
                "code": point.code,
                "occurred_at": point.occurred_at.isoformat(),
            },
            subject_id=shipment.id,
        )
    _advance_order(session, shipment.order_id)
    return outcome


def _advance_order(session: Session, order_id: str) -> None:
    """Ship the order at its first in-transit scan; deliver it when every parcel is."""
    parcels = order_shipments(session=session, order_id=order_id)
    moving = [s.first_transit_at for s in parcels if s.first_transit_at is not None]
    if not moving:
        return
    first_scan = min(moving)
    deadline = session.get(ShipByDeadline, order_id)
    if deadline is not None and (
        deadline.first_transit_at is None or first_scan < deadline.first_transit_at
    ):
        deadline.first_transit_at = first_scan
    order = lock_order(session=session, order_id=order_id)
    if order.status == OrderStatus.PAID:
        apply_transition(
            session=session,
            order=order,
            to=OrderStatus.SHIPPED,
            reason="first carrier scan",
            at=first_scan,
        )
    if order.status == OrderStatus.SHIPPED and all(
        s.status == ShipmentStatus.DELIVERED for s in parcels
    ):
        delivered = max(s.delivered_at for s in parcels if s.delivered_at is not None)
        checkout.mark_delivered(session=session, order_id=order_id, delivered_at=delivered)


def replay_dead_letters(
    *, session: Session, carrier: str, tracking_number: str, now: datetime | None = None
) -> int:
    """Apply the events that arrived before their parcel was registered (a seller who
    types the number in after the carrier's first scan loses nothing)."""
    waiting = list(
        session.scalars(
            select(DeadLetterEvent)
            .where(
                DeadLetterEvent.carrier == carrier,
                DeadLetterEvent.tracking_number == tracking_number,
                DeadLetterEvent.resolved_at.is_(None),
            )
            .order_by(DeadLetterEvent.received_at, DeadLetterEvent.id)
        )
    )
    for letter in waiting:
        point = checkpoint_of(json.dumps(letter.payload).encode())
        apply_tracking_event(session=session, carrier=carrier, point=point)
        letter.resolved_at = now or utcnow()
    session.flush()
    return len(waiting)


def dead_letters(*, session: Session, limit: int = 100) -> list[DeadLetterEvent]:
    return list(
        session.scalars(
            select(DeadLetterEvent).order_by(DeadLetterEvent.received_at.desc()).limit(limit)
        )
    )


# --- ship-by deadlines -------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def ship_by_time(
    *, paid_at: datetime, handling_days: int, timezone: str, country: str = "US"
) -> datetime:
    """The end (23:59:59, seller's local time) of the ``handling_days``-th business day
    after the day of payment; weekends and the country's holidays do not count."""
    zone = _zone(timezone)
    day = paid_at.astimezone(zone).date()
    holidays = HOLIDAYS.get(country, frozenset())
    counted = 0
    while counted < handling_days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            counted += 1
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone).astimezone(paid_at.tzinfo)


def ensure_ship_by(
    *, session: Session, order_id: str, platform_fulfilled: bool = False
) -> ShipByDeadline | None:
    """The paid order's ship-by deadline, created once. None for orders not yet paid."""
    existing = session.get(ShipByDeadline, order_id)
    if existing is not None:
        return existing
    order = session.get(Order, order_id)
    if order is None or order.paid_at is None:
        return None
    checkout_row = session.get(Checkout, order.checkout_id)
    market = session.get(Market, checkout_row.market_code) if checkout_row else None
    seller = session.get(SellerProfile, order.seller_id)
    handling = (
        market.handling_days
        if market is not None and market.handling_days
        else DEFAULT_HANDLING_DAYS
    )
    zone = seller.timezone if seller is not None else "America/New_York"
    country = seller.ships_from_country if seller is not None else "US"
    platform = fulfilment.platform_handling(session=session, order=order)
    if platform is not None:  # the platform's warehouse ships it, on the platform's clock
        handling, zone, country = platform.handling_days, platform.timezone, platform.country
        platform_fulfilled = True
    deadline = ShipByDeadline(
        order_id=order.id,
        seller_id=order.seller_id,
        paid_at=order.paid_at,
        ship_by=ship_by_time(
            paid_at=order.paid_at, handling_days=handling, timezone=zone, country=country
        ),
        handling_days=handling,
        seller_timezone=zone,
        platform_fulfilled=platform_fulfilled,
    )
    try:
        with session.begin_nested():
            session.add(deadline)
    except IntegrityError:
        return session.get(ShipByDeadline, order_id)
    return deadline


def mark_late_dispatch(*, session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """Flag deadlines passed without a first in-transit scan (platform-fulfilled orders
    never count against the seller). Idempotent."""
    now = now or utcnow()
    late = list(
        session.scalars(
            select(ShipByDeadline)
            .join(Order, Order.id == ShipByDeadline.order_id)
            .where(
                Order.status.in_(SHIPPABLE),
                ShipByDeadline.late_dispatch_at.is_(None),
                ShipByDeadline.platform_fulfilled.is_(False),
                ShipByDeadline.ship_by < now,
                (ShipByDeadline.first_transit_at.is_(None))
                | (ShipByDeadline.first_transit_at > ShipByDeadline.ship_by),
            )
            .order_by(ShipByDeadline.ship_by)
            .limit(limit)
        )
    )
    for deadline in late:
        deadline.late_dispatch_at = now
        emit(
            session=session,
            topic="order.late_dispatch",
            payload={
                "order_id": deadline.order_id,
                "seller_id": deadline.seller_id,
                "ship_by": deadline.ship_by.isoformat(),
            },
            subject_id=deadline.order_id,
        )
    session.flush()
    return len(late)


def late_dispatch_count(*, session: Session, seller_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ShipByDeadline)
            .where(
                ShipByDeadline.seller_id == seller_id, ShipByDeadline.late_dispatch_at.is_not(None)
            )
        )
        or 0
    )
