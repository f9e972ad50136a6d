"""API shapes of platform fulfilment, customs and seller performance."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from reelshop.logistics.customs import LandedCost
from reelshop.logistics.fulfilment_models import FulfilmentFeeCharge, InboundShipment


class InboundLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: str = Field(min_length=1, max_length=40)
    quantity: StrictInt = Field(ge=1, le=10_000)


class InboundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location_id: str | None = Field(default=None, min_length=1, max_length=40)
    reference: str = Field(default="", max_length=80)
    lines: list[InboundLineIn] = Field(min_length=1, max_length=50)


class ReceivedLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: str = Field(min_length=1, max_length=40)
    received_quantity: StrictInt = Field(ge=0, le=10_000)
    damaged_quantity: StrictInt = Field(default=0, ge=0, le=10_000)


class ReceiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[ReceivedLineIn] = Field(default_factory=list, max_length=50)


class InboundLineOut(BaseModel):
    sku_id: str
    announced_quantity: int
    received_quantity: int | None
    damaged_quantity: int
    discrepancy: int | None


class InboundOut(BaseModel):
    id: str
    seller_id: str
    location_id: str
    status: str
    reference: str
    created_at: datetime
    received_at: datetime | None
    lines: list[InboundLineOut]

    @classmethod
    def of(cls, inbound: InboundShipment) -> InboundOut:
        return cls(
            id=inbound.id,
            seller_id=inbound.seller_id,
            location_id=inbound.location_id,
            status=inbound.status,
            reference=inbound.reference,
            created_at=inbound.created_at,
            received_at=inbound.received_at,
            lines=[
                InboundLineOut(
                    sku_id=line.sku_id,
                    announced_quantity=line.announced_quantity,
                    received_quantity=line.received_quantity,
                    damaged_quantity=line.damaged_quantity,
                    discrepancy=line.discrepancy,
                )
                for line in inbound.lines
            ],
        )


class FeeChargeOut(BaseModel):
    order_id: str
    units: int
    amount: int
    currency: str
    created_at: datetime
    breakdown: list[dict[str, Any]]

    @classmethod
    def of(cls, charge: FulfilmentFeeCharge) -> FeeChargeOut:
        return cls(
            order_id=charge.order_id,
            units=charge.units,
            amount=charge.amount,
            currency=charge.currency,
            created_at=charge.created_at,
            breakdown=charge.breakdown,
        )


class PlatformShipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier: str = Field(default="simulated", min_length=1, max_length=32)


class PlatformShipOut(BaseModel):
    order_id: str
    shipment_id: str


class LandedCostOut(BaseModel):
    seller_id: str
    seller_name: str
    available: bool
    currency: str | None = None
    declared_value: int | None = None
    duty: int | None = None
    fees: int | None = None
    total: int | None = None
    de_minimis_applied: bool | None = None
    de_minimis: int | None = None

    @classmethod
    def of(cls, seller_id: str, seller_name: str, cost: LandedCost | None) -> LandedCostOut:
        if cost is None:
            return cls(seller_id=seller_id, seller_name=seller_name, available=False)
        return cls(
            seller_id=seller_id,
            seller_name=seller_name,
            available=True,
            currency=cost.currency,
            declared_value=cost.declared_value,
            duty=cost.duty,
            fees=cost.fees,
            total=cost.duty + cost.fees,
            de_minimis_applied=cost.de_minimis_applied,
            de_minimis=cost.de_minimis,
        )


class MetricOut(BaseModel):
    key: str
    label: str
    value: int | None
    numerator: int
    denominator: int
    order_ids: list[str]


class PerformanceOut(BaseModel):
    seller_id: str
    market_code: str
    since: datetime
    until: datetime
    delivered_orders: int
    min_delivered_orders: int
    eligible: bool
    score: float | None
    standing: str
    breaches: list[str]
    metrics: list[MetricOut]


class SnapshotOut(BaseModel):
    day: date
    score: float | None
    standing: str
    delivered_orders: int
    metrics: dict[str, Any]
