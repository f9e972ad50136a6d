"""API shapes of logistics."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from reelshop.logistics.models import Shipment, TrackingEvent


class ParcelItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_line_id: str = Field(min_length=1, max_length=40)
    quantity: StrictInt = Field(ge=1, le=999)


class ShipmentIn(BaseModel):
    """Leave ``tracking_number`` out to buy a label from the carrier (simulated only)."""

    model_config = ConfigDict(extra="forbid")

    carrier: str = Field(min_length=1, max_length=32)
    tracking_number: str | None = Field(default=None, min_length=1, max_length=60)
    weight_grams: StrictInt = Field(ge=1, le=70_000)
    items: list[ParcelItemIn] = Field(default_factory=list, max_length=100)


class ParcelItemOut(BaseModel):
    order_line_id: str
    quantity: int


class TrackingEventOut(BaseModel):
    status: str
    code: str
    message: str
    location: str | None
    occurred_at: datetime

    @classmethod
    def of(cls, event: TrackingEvent) -> TrackingEventOut:
        return cls(
            status=event.status,
            code=event.code,
            message=event.message,
            location=event.location,
            occurred_at=event.occurred_at,
        )


class ShipmentOut(BaseModel):
    id: str
    order_id: str
    carrier: str
    tracking_number: str
    lane: str
    status: str
    weight_grams: int
    items: list[ParcelItemOut]
    label_purchased: bool
    label_cost_amount: int
    currency: str
    first_transit_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    events: list[TrackingEventOut]

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentOut:
        return cls(
            id=shipment.id,
            order_id=shipment.order_id,
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            lane=shipment.lane,
            status=shipment.status,
            weight_grams=shipment.weight_grams,
            items=[ParcelItemOut.model_validate(i) for i in shipment.items],
            label_purchased=shipment.label_purchased,
            label_cost_amount=shipment.label_cost_amount,
            currency=shipment.currency,
            first_transit_at=shipment.first_transit_at,
            delivered_at=shipment.delivered_at,
            created_at=shipment.created_at,
            events=[TrackingEventOut.of(e) for e in shipment.events],
        )


class TrackingWebhookAck(BaseModel):
    received: bool
    outcome: str


class RateOut(BaseModel):
    carrier: str
    service: str
    lane: str
    amount: int = Field(description="minor units")
    currency: str
    min_days: int
    max_days: int
