"""API shapes of delivery promises, delay cases and the staff dashboard."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from reelshop.logistics.dashboard import Dashboard
from reelshop.logistics.estimate_models import DelayCase, DeliveryPromise, ParcelEstimate
from reelshop.logistics.estimates import Window


class WindowOut(BaseModel):
    earliest: datetime
    latest: datetime
    source: str
    samples: int

    @classmethod
    def of(cls, window: Window) -> WindowOut:
        return cls(
            earliest=window.earliest,
            latest=window.latest,
            source=window.source,
            samples=window.samples,
        )


class SellerEstimateOut(BaseModel):
    seller_id: str
    market: str
    lane: str
    window: WindowOut


class ParcelEstimateOut(BaseModel):
    shipment_id: str
    milestone: str
    earliest: datetime
    latest: datetime
    source: str

    @classmethod
    def of(cls, e: ParcelEstimate) -> ParcelEstimateOut:
        return cls(
            shipment_id=e.shipment_id,
            milestone=e.milestone,
            earliest=e.earliest,
            latest=e.latest,
            source=e.source,
        )


class DelayCaseOut(BaseModel):
    id: str
    shipment_id: str
    order_id: str
    carrier: str
    lane: str
    reason: str
    milestone: str
    opened_at: datetime
    new_earliest: datetime
    new_latest: datetime
    resolved_at: datetime | None
    resolution: str | None

    @classmethod
    def of(cls, c: DelayCase) -> DelayCaseOut:
        return cls(
            id=c.id,
            shipment_id=c.shipment_id,
            order_id=c.order_id,
            carrier=c.carrier,
            lane=c.lane,
            reason=c.reason,
            milestone=c.milestone,
            opened_at=c.created_at,
            new_earliest=c.new_earliest,
            new_latest=c.new_latest,
            resolved_at=c.resolved_at,
            resolution=c.resolution,
        )


class OrderEstimateOut(BaseModel):
    order_id: str
    promised_earliest: datetime | None
    promised_latest: datetime | None
    promise_source: str | None
    current_earliest: datetime | None
    current_latest: datetime | None
    parcels: list[ParcelEstimateOut]
    open_delays: list[DelayCaseOut]

    @classmethod
    def of(
        cls,
        order_id: str,
        promise: DeliveryPromise | None,
        parcels: list[ParcelEstimate],
        cases: list[DelayCase],
    ) -> OrderEstimateOut:
        return cls(
            order_id=order_id,
            promised_earliest=promise.earliest if promise else None,
            promised_latest=promise.latest if promise else None,
            promise_source=promise.source if promise else None,
            current_earliest=promise.current_earliest if promise else None,
            current_latest=promise.current_latest if promise else None,
            parcels=[ParcelEstimateOut.of(p) for p in parcels],
            open_delays=[DelayCaseOut.of(c) for c in cases],
        )


class HotSpotOut(BaseModel):
    lane: str
    carrier: str
    parcels: int
    open_delays: int
    delivered: int
    late: int
    late_share: float | None
    median_transit_days: float | None
    median_promise_days: float | None


class SellerDispatchOut(BaseModel):
    seller_id: str
    seller_name: str
    deadlines: int
    late: int
    late_rate: float
    auto_cancelled: int


class DashboardOut(BaseModel):
    days: int
    since: datetime
    dead_letters: int
    open_delays: int
    hot_spots: list[HotSpotOut]
    sellers: list[SellerDispatchOut]
    open_cases: list[DelayCaseOut]

    @classmethod
    def of(cls, d: Dashboard) -> DashboardOut:
        return cls(
            days=d.days,
            since=d.since,
            dead_letters=d.dead_letters,
            open_delays=d.open_delays,
            hot_spots=[HotSpotOut(**vars(s)) for s in d.hot_spots],
            sellers=[SellerDispatchOut(**vars(s)) for s in d.sellers],
            open_cases=[DelayCaseOut.of(c) for c in d.open_cases],
        )
