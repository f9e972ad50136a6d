"""Tables of platform fulfilment ("fulfilled by the platform"): per-market policy and
fee bands (reference data), inbound shipments of seller stock with what arrived, the
orders the platform picks and ships, and the fee charged for each."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reelshop.db import Base, CreatedAtMixin
from reelshop.ids import new_id


class FulfilmentPolicy(Base):
    """A market's platform-fulfilment terms (reference data, seeded)."""

    __tablename__ = "fulfilment_policies"

    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    # Business days the platform's warehouse takes to hand an order to the carrier.
    handling_days: Mapped[int] = mapped_column(default=1)
    # Dimensional weight = L x W x H (inches) / divisor, in pounds.
    dim_divisor: Mapped[int] = mapped_column(default=166)
    warehouse_timezone: Mapped[str] = mapped_column(String(64), default="America/Chicago")


class FulfilmentFeeBand(Base):
    """Fee per unit for billable weights up to ``up_to_oz`` (inclusive). The open band
    (``up_to_oz`` NULL) adds ``extra_per_lb_amount`` per started pound above the
    heaviest closed band."""

    __tablename__ = "fulfilment_fee_bands"
    __table_args__ = (CheckConstraint("fee_amount >= 0", name="fee_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"), index=True)
    up_to_oz: Mapped[int | None] = mapped_column(default=None)
    fee_amount: Mapped[int]
    extra_per_lb_amount: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))


class InboundStatus(StrEnum):
    ANNOUNCED = "announced"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class InboundShipment(CreatedAtMixin, Base):
    """Seller stock on its way to a platform warehouse."""

    __tablename__ = "inbound_shipments"
    __table_args__ = (Index("ix_inbound_shipments_status", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("ibs"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("seller_profiles.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("stock_locations.id"))
    status: Mapped[str] = mapped_column(String(16), default=InboundStatus.ANNOUNCED)
    reference: Mapped[str] = mapped_column(String(80), default="")
    received_at: Mapped[datetime | None] = mapped_column(default=None)
    received_by: Mapped[str | None] = mapped_column(String(40), default=None)

    lines: Mapped[list[InboundShipmentLine]] = relationship(
        back_populates="inbound", cascade="all, delete-orphan", order_by="InboundShipmentLine.id"
    )


class InboundShipmentLine(Base):
    """One SKU of an inbound shipment: what the seller announced and what was counted."""

    __tablename__ = "inbound_shipment_lines"
    __table_args__ = (
        UniqueConstraint("inbound_id", "sku_id", name="uq_inbound_shipment_lines_sku"),
        CheckConstraint("announced_quantity > 0", name="announced_positive"),
        CheckConstraint("received_quantity IS NULL OR received_quantity >= 0", name="received_ok"),
        CheckConstraint("damaged_quantity >= 0", name="damaged_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("ibl"))
    inbound_id: Mapped[str] = mapped_column(
        ForeignKey("inbound_shipments.id", ondelete="CASCADE"), index=True
    )
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"))
    announced_quantity: Mapped[int]
    received_quantity: Mapped[int | None] = mapped_column(default=None)
    damaged_quantity: Mapped[int] = mapped_column(default=0)

    inbound: Mapped[InboundShipment] = relationship(back_populates="lines")

    @property
    def discrepancy(self) -> int | None:
        """Counted sellable units minus announced (negative: short, positive: over)."""
        if self.received_quantity is None:
            return None
        return self.received_quantity - self.damaged_quantity - self.announced_quantity


class PlatformFulfilledOrder(CreatedAtMixin, Base):
    """An order whose every unit was reserved at a platform warehouse: the platform
    picks and ships it, so its dispatch never counts against the seller."""

    __tablename__ = "platform_fulfilled_orders"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(40), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("stock_locations.id"))
    shipment_id: Mapped[str | None] = mapped_column(String(40), default=None)
    shipped_by: Mapped[str | None] = mapped_column(String(40), default=None)
    picked_at: Mapped[datetime | None] = mapped_column(default=None)


class FulfilmentFeeCharge(CreatedAtMixin, Base):
    """The fee charged to the seller for one platform-fulfilled order (once)."""

    __tablename__ = "fulfilment_fee_charges"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(40), index=True)
    units: Mapped[int]
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    journal_ref: Mapped[str] = mapped_column(String(120), unique=True)
    # [{"sku_id", "quantity", "actual_oz", "dimensional_oz", "billable_oz", "unit_fee"}]
    breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
