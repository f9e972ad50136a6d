"""Stock and reservations. Stock moves only through the guarded statements here.

The one lock per resource: a reservation is a single ``UPDATE stock_levels SET
reserved = reserved + :n WHERE ... AND on_hand - reserved >= :n``. Checking and
taking are one statement, so no interleaving of concurrent reservers can take
more than is there (on SQLite the statement runs under the database's write lock;
on PostgreSQL the row lock serialises the updates and re-checks the predicate).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reelshop.db import utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound, problem_type
from reelshop.inventory.models import (
    AdjustmentReason,
    LocationKind,
    Reservation,
    ReservationStatus,
    StockAdjustment,
    StockLevel,
    StockLocation,
)

OUT_OF_STOCK = problem_type("out-of-stock", 409, "Not enough stock")
MAX_QUANTITY = 10_000


class OutOfStock(Conflict):
    default_type = OUT_OF_STOCK


def create_location(
    *,
    session: Session,
    seller_id: str | None,
    name: str,
    country: str,
    kind: LocationKind = LocationKind.SELLER_WAREHOUSE,
) -> StockLocation:
    location = StockLocation(seller_id=seller_id, name=name, country=country.upper(), kind=kind)
    session.add(location)
    session.flush()
    return location


def default_location(*, session: Session, seller_id: str, country: str) -> StockLocation:
    """The seller's first warehouse, created on first use."""
    location = session.scalars(
        select(StockLocation)
        .where(StockLocation.seller_id == seller_id)
        .order_by(StockLocation.created_at)
        .limit(1)
    ).first()
    if location is None:
        location = create_location(
            session=session, seller_id=seller_id, name="Main warehouse", country=country
        )
    return location


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidInput("quantity must be a positive whole number", field="quantity")
    if quantity > MAX_QUANTITY:
        raise InvalidInput(f"quantity above {MAX_QUANTITY}", field="quantity")


def adjust(
    *,
    session: Session,
    sku_id: str,
    location_id: str,
    delta: int,
    reason: AdjustmentReason,
    actor_id: str | None = None,
    note: str | None = None,
) -> StockLevel:
    """Add or remove units on hand, never below what is reserved (guarded)."""
    if delta == 0:
        raise InvalidInput("an adjustment changes stock by at least one unit", field="delta")
    if abs(delta) > 1_000_000:
        raise InvalidInput("adjustment too large", field="delta")
    level = session.get(StockLevel, (sku_id, location_id))
    if level is None:
        if delta < 0:
            raise Conflict("cannot remove stock that was never there")
        level = StockLevel(sku_id=sku_id, location_id=location_id, on_hand=0, reserved=0)
        session.add(level)
        session.flush()
    result = session.execute(
        update(StockLevel)
        .where(
            StockLevel.sku_id == sku_id,
            StockLevel.location_id == location_id,
            StockLevel.on_hand + delta >= StockLevel.reserved,
        )
        .values(on_hand=StockLevel.on_hand + delta)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("that would leave less on hand than is reserved for open checkouts")
    session.add(
        StockAdjustment(
            sku_id=sku_id,
            location_id=location_id,
            delta=delta,
            reason=reason,
            actor_id=actor_id,
            note=note,
        )
    )
    session.flush()
    session.refresh(level)
    return level


def set_on_hand(
    *,
    session: Session,
    sku_id: str,
    location_id: str,
    on_hand: int,
    reason: AdjustmentReason,
    actor_id: str | None = None,
) -> StockLevel | None:
    """Make on-hand equal ``on_hand`` by recording the difference as an adjustment."""
    if on_hand < 0:
        raise InvalidInput("stock cannot be negative", field="on_hand")
    level = session.get(StockLevel, (sku_id, location_id))
    current = level.on_hand if level else 0
    if on_hand == current:
        return level
    return adjust(
        session=session,
        sku_id=sku_id,
        location_id=location_id,
        delta=on_hand - current,
        reason=reason,
        actor_id=actor_id,
    )


def reserve(
    *,
    session: Session,
    sku_id: str,
    quantity: int,
    ttl: timedelta,
    owner_ref: str | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Hold ``quantity`` units of a SKU at one location until ``now + ttl``.

    Raises OutOfStock (409) when no single location has that many available.
    """
    _check_quantity(quantity)
    if ttl <= timedelta(0):
        raise InvalidInput("a reservation needs a positive time to live")
    now = now or utcnow()
    candidates = select(StockLevel.location_id).where(
        StockLevel.sku_id == sku_id, StockLevel.on_hand - StockLevel.reserved >= quantity
    )
    # First the fullest location no other reserver holds right now (SKIP LOCKED never
    # waits); failing that, wait for the others in one global order. PostgreSQL keeps the
    # lock on a row whose re-checked WHERE no longer matched, so reservers walking the
    # locations in different orders could wait on each other in a cycle.
    free = session.scalars(
        candidates.order_by((StockLevel.on_hand - StockLevel.reserved).desc())
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    location_ids = [] if free is None else [free]
    location_ids += [
        loc for loc in session.scalars(candidates.order_by(StockLevel.location_id)) if loc != free
    ]
    for location_id in location_ids:
        taken = session.execute(
            update(StockLevel)
            .where(
                StockLevel.sku_id == sku_id,
                StockLevel.location_id == location_id,
                StockLevel.on_hand - StockLevel.reserved >= quantity,
            )
            .values(reserved=StockLevel.reserved + quantity)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            reservation = Reservation(
                sku_id=sku_id,
                location_id=location_id,
                quantity=quantity,
                status=ReservationStatus.ACTIVE,
                expires_at=now + ttl,
                owner_ref=owner_ref,
            )
            session.add(reservation)
            session.flush()
            return reservation
    raise OutOfStock(
        f"only {available(session=session, sku_ids=[sku_id]).get(sku_id, 0)} left", sku_id=sku_id
    )


def _lock_reservation(session: Session, reservation_id: str) -> Reservation:
    query = select(Reservation).where(Reservation.id == reservation_id)
    query = query.with_for_update()
    reservation = session.scalars(query).first()
    if reservation is None:
        raise NotFound("no such reservation")
    return reservation


def _give_back(session: Session, reservation: Reservation, status: ReservationStatus) -> None:
    session.execute(
        update(StockLevel)
        .where(
            StockLevel.sku_id == reservation.sku_id,
            StockLevel.location_id == reservation.location_id,
        )
        .values(reserved=StockLevel.reserved - reservation.quantity)
        .execution_options(synchronize_session=False)
    )
    reservation.status = status


def release(*, session: Session, reservation_id: str) -> Reservation:
    """Give the units back (checkout cancelled). Idempotent."""
    reservation = _lock_reservation(session, reservation_id)
    if reservation.status == ReservationStatus.ACTIVE:
        _give_back(session, reservation, ReservationStatus.RELEASED)
        session.flush()
    return reservation


def commit(*, session: Session, reservation_id: str) -> Reservation:
    """The order is paid: the reserved units leave stock for good. Idempotent.

    An expired reservation cannot be committed (its units may be someone else's now):
    the caller must reserve again.
    """
    reservation = _lock_reservation(session, reservation_id)
    if reservation.status == ReservationStatus.COMMITTED:
        return reservation
    if reservation.status != ReservationStatus.ACTIVE:
        raise Conflict(f"reservation is {reservation.status}; it can no longer be committed")
    session.execute(
        update(StockLevel)
        .where(
            StockLevel.sku_id == reservation.sku_id,
            StockLevel.location_id == reservation.location_id,
        )
        .values(
            reserved=StockLevel.reserved - reservation.quantity,
            on_hand=StockLevel.on_hand - reservation.quantity,
        )
        .execution_options(synchronize_session=False)
    )
    reservation.status = ReservationStatus.COMMITTED
    session.add(
        StockAdjustment(
            sku_id=reservation.sku_id,
            location_id=reservation.location_id,
            delta=-reservation.quantity,
            reason=AdjustmentReason.SOLD,
            note=reservation.owner_ref,
        )
    )
    session.flush()
    return reservation


def expire_due(*, session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """Release active reservations past their expiry (the worker's periodic job)."""
    now = now or utcnow()
    query = (
        select(Reservation.id)
        .where(Reservation.status == ReservationStatus.ACTIVE, Reservation.expires_at <= now)
        .limit(limit)
    )
    count = 0
    for reservation_id in session.scalars(query).all():
        reservation = _lock_reservation(session, reservation_id)
        if reservation.status == ReservationStatus.ACTIVE and reservation.expires_at <= now:
            _give_back(session, reservation, ReservationStatus.EXPIRED)
            count += 1
    session.flush()
    return count


@dataclass(frozen=True)
class StockSummary:
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def available(*, session: Session, sku_ids: Iterable[str]) -> dict[str, int]:
    """Units free to reserve per SKU, over all its locations (one query)."""
    ids = list(sku_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(StockLevel.sku_id, func.sum(StockLevel.on_hand - StockLevel.reserved))
        .where(StockLevel.sku_id.in_(ids))
        .group_by(StockLevel.sku_id)
    ).all()
    found = {sku_id: int(total or 0) for sku_id, total in rows}
    return {sku_id: found.get(sku_id, 0) for sku_id in ids}


def summary(*, session: Session, sku_id: str) -> StockSummary:
    row = session.execute(
        select(
            func.coalesce(func.sum(StockLevel.on_hand), 0),
            func.coalesce(func.sum(StockLevel.reserved), 0),
        ).where(StockLevel.sku_id == sku_id)
    ).one()
    return StockSummary(int(row[0]), int(row[1]))


def levels(*, session: Session, sku_ids: Iterable[str]) -> list[tuple[StockLevel, StockLocation]]:
    """Stock rows of these SKUs with their locations, oldest location first."""
    ids = list(sku_ids)
    if not ids:
        return []
    rows = session.execute(
        select(StockLevel, StockLocation)
        .join(StockLocation, StockLocation.id == StockLevel.location_id)
        .where(StockLevel.sku_id.in_(ids))
        .order_by(StockLevel.sku_id, StockLocation.created_at, StockLocation.id)
    ).all()
    return [(level, location) for level, location in rows]


def list_adjustments(*, session: Session, sku_id: str, limit: int = 100) -> list[StockAdjustment]:
    """The SKU's stock movements, newest first."""
    return list(
        session.scalars(
            select(StockAdjustment)
            .where(StockAdjustment.sku_id == sku_id)
            .order_by(StockAdjustment.created_at.desc(), StockAdjustment.id)
            .limit(max(1, min(limit, 1000)))
        ).all()
    )
