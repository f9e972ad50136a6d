"""Tables of cross-border customs: per-market rules and duty rates (reference data,
seeded), the declaration of each cross-border parcel and the landed-cost estimate
shown to the shopper and kept with the order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base, CreatedAtMixin
from reelshop.ids import new_id


class CustomsRule(Base):
    """What a market charges on imports (reference data: change rows, not code)."""

    __tablename__ = "customs_rules"

    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    # Shipments whose declared value is at or below this enter duty- and fee-free.
    de_minimis_amount: Mapped[int]
    # Duty for HS chapters without a row of their own, in basis points of value.
    default_duty_bp: Mapped[int] = mapped_column(default=0)
    # Flat fees per dutiable shipment: customs processing and the carrier's brokerage.
    processing_fee_amount: Mapped[int] = mapped_column(default=0)
    brokerage_fee_amount: Mapped[int] = mapped_column(default=0)
    source_note: Mapped[str] = mapped_column(String(300), default="")


class CustomsDutyRate(Base):
    """Duty for one HS chapter (the code's first two digits) in one market."""

    __tablename__ = "customs_duty_rates"
    __table_args__ = (CheckConstraint("duty_bp >= 0", name="duty_not_negative"),)

    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"), primary_key=True)
    hs_chapter: Mapped[str] = mapped_column(String(2), primary_key=True)
    duty_bp: Mapped[int]
    description: Mapped[str] = mapped_column(String(120), default="")


class CustomsDeclaration(CreatedAtMixin, Base):
    """The customs data of one cross-border parcel, taken from the catalog."""

    __tablename__ = "customs_declarations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cdc"))
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), unique=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    origin_country: Mapped[str] = mapped_column(String(2))
    destination_country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    declared_value_amount: Mapped[int]
    # [{"sku_id", "description", "hs_code", "origin_country", "quantity", "unit_value", "value"}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)  # every item had an HS code


class LandedCostEstimate(CreatedAtMixin, Base):
    """Import duty and fees the shopper was told to expect for one order."""

    __tablename__ = "landed_cost_estimates"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    market_code: Mapped[str] = mapped_column(String(2))
    origin_country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    declared_value_amount: Mapped[int]
    duty_amount: Mapped[int]
    fees_amount: Mapped[int]
    de_minimis_applied: Mapped[bool] = mapped_column(Boolean)
