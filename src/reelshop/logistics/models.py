"""Tables of logistics: parcels and their tracking events, events nobody could place,
ship-by deadlines, and the SIMULATED carrier network's outgoing webhook queue."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reelshop.db import Base, CreatedAtMixin, utcnow
from reelshop.ids import new_id


class ShipmentStatus(StrEnum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    LOST = "lost"


# A parcel has moved once the carrier scanned it with any of these.
MOVING = frozenset(
    {ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED}
)
FINAL = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.LOST})


class Lane(StrEnum):
    DOMESTIC_US = "domestic_us"
    CN_US = "cn_us"


class Shipment(CreatedAtMixin, Base):
    """One parcel of a seller order."""

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("carrier", "tracking_number", name="uq_shipments_carrier_tracking"),
        CheckConstraint("weight_grams > 0", name="weight_positive"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("shp"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    seller_id: Mapped[str] = mapped_column(String(40), index=True)
    carrier: Mapped[str] = mapped_column(String(32))
    tracking_number: Mapped[str] = mapped_column(String(40))
    lane: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=ShipmentStatus.LABEL_CREATED)
    weight_grams: Mapped[int]
    # [{"order_line_id": ..., "quantity": ...}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    label_purchased: Mapped[bool] = mapped_column(Boolean, default=False)
    label_cost_amount: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # Carrier time of the newest event applied (events older than this do not move status).
    last_event_at: Mapped[datetime | None] = mapped_column(default=None)
    first_transit_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)

    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment", order_by="TrackingEvent.occurred_at"
    )


class TrackingEvent(Base):
    """One carrier scan, as the carrier reported it; unique per carrier event id."""

    __tablename__ = "tracking_events"
    __table_args__ = (
        UniqueConstraint("carrier", "event_id", name="uq_tracking_events_carrier_event"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("trk"))
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(120), default=None)
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    shipment: Mapped[Shipment] = relationship(back_populates="events")


class DeadLetterEvent(Base):
    """A verified carrier event we could not apply (e.g. an unknown parcel), kept with why."""

    __tablename__ = "logistics_dead_letters"
    __table_args__ = (
        UniqueConstraint("carrier", "event_id", name="uq_logistics_dead_letters_carrier_event"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("dlq"))
    carrier: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(80))
    tracking_number: Mapped[str | None] = mapped_column(String(40), default=None)
    reason: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)


class ShipByDeadline(Base):
    """When a paid order must have its first in-transit scan, and whether it missed it."""

    __tablename__ = "ship_by_deadlines"
    __table_args__ = (Index("ix_ship_by_deadlines_open", "late_dispatch_at", "ship_by"),)

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(40), index=True)
    paid_at: Mapped[datetime]
    ship_by: Mapped[datetime]
    handling_days: Mapped[int]
    seller_timezone: Mapped[str] = mapped_column(String(64))
    platform_fulfilled: Mapped[bool] = mapped_column(Boolean, default=False)
    first_transit_at: Mapped[datetime | None] = mapped_column(default=None)
    late_dispatch_at: Mapped[datetime | None] = mapped_column(default=None)


class SimulatedCarrierEvent(CreatedAtMixin, Base):
    """The SIMULATED carrier's queue of tracking webhooks still to post to us."""

    __tablename__ = "simulated_carrier_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(80), unique=True)
    tracking_number: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime]
    # When the carrier gets round to telling us (later than occurred_at, sometimes much).
    send_after: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_status: Mapped[int | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
