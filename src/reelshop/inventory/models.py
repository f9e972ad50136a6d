from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base, CreatedAtMixin
from reelshop.ids import new_id


class LocationKind(StrEnum):
    SELLER_WAREHOUSE = "seller_warehouse"
    FULFILMENT_CENTRE = "fulfilment_centre"  # platform fulfilment (logistics capability)


class StockLocation(CreatedAtMixin, Base):
    __tablename__ = "stock_locations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("loc"))
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("seller_profiles.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24), default=LocationKind.SELLER_WAREHOUSE)
    country: Mapped[str] = mapped_column(String(2))


class StockLevel(Base):
    """Units of one SKU at one location. ``reserved`` units are held for checkouts.

    The CHECK constraint is the last line of defence; the service's guarded UPDATE is
    what keeps concurrent reservers from ever reaching it.
    """

    __tablename__ = "stock_levels"
    __table_args__ = (
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("on_hand >= reserved", name="reserved_within_on_hand"),
    )

    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("stock_locations.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)


class ReservationStatus(StrEnum):
    ACTIVE = "active"  # holding stock until expires_at
    COMMITTED = "committed"  # paid: units left on_hand for good
    RELEASED = "released"  # given back (cancelled checkout)
    EXPIRED = "expired"  # given back by the expiry job


class Reservation(CreatedAtMixin, Base):
    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_reservations_due", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("rsv"))
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("stock_locations.id"))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=ReservationStatus.ACTIVE)
    expires_at: Mapped[datetime]
    owner_ref: Mapped[str | None] = mapped_column(String(40), default=None, index=True)


class AdjustmentReason(StrEnum):
    RECEIVED = "received"
    COUNT_CORRECTION = "count_correction"
    DAMAGED = "damaged"
    RETURNED = "returned"
    SOLD = "sold"
    IMPORT = "import"
    OTHER = "other"


class StockAdjustment(CreatedAtMixin, Base):
    __tablename__ = "stock_adjustments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("adj"))
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("stock_locations.id"))
    delta: Mapped[int]
    reason: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    actor_id: Mapped[str | None] = mapped_column(String(40), default=None)
