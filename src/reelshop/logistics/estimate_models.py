"""Tables of delivery promises: the per-market policy (default windows when history is
thin, the percentile pair, the grace before automatic cancellation), cached transit-time
percentiles, each order's promise and each parcel's current estimate, delay cases and
automatic cancellations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base, CreatedAtMixin, utcnow
from reelshop.ids import new_id

ANY_CARRIER = "*"  # stats over every carrier of a lane (what checkout knows before a label)


class DeliveryPolicy(Base):
    """Per market and lane, as data: what to promise when history is thin, how wide a
    promise is (a percentile pair), when a quiet parcel counts as stalled, and how many
    business days after ship-by an unshipped order is cancelled and refunded."""

    __tablename__ = "delivery_policies"
    __table_args__ = (
        CheckConstraint(
            "default_min_days >= 0 AND default_max_days >= default_min_days", name="default_window"
        ),
        CheckConstraint(
            "low_percentile >= 0 AND high_percentile <= 100 AND low_percentile < high_percentile",
            name="percentile_pair",
        ),
    )

    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"), primary_key=True)
    lane: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Transit days after the first carrier scan, used when there are too few deliveries.
    default_min_days: Mapped[int]
    default_max_days: Mapped[int]
    min_history: Mapped[int] = mapped_column(default=30)
    low_percentile: Mapped[int] = mapped_column(default=5)
    high_percentile: Mapped[int] = mapped_column(default=95)
    stall_hours: Mapped[int] = mapped_column(default=96)
    cancel_grace_days: Mapped[int] = mapped_column(default=3)


class TransitStat(Base):
    """Hours from a milestone to delivery (and to the next scan) over recent deliveries,
    refreshed by a periodic job so no request computes percentiles.

    ``milestone`` is ``paid`` (order paid), ``shipped`` (first in-transit scan) or a
    carrier event code (``import_customs``…); ``carrier`` may be ``*``."""

    __tablename__ = "transit_stats"

    carrier: Mapped[str] = mapped_column(String(32), primary_key=True)
    lane: Mapped[str] = mapped_column(String(20), primary_key=True)
    milestone: Mapped[str] = mapped_column(String(40), primary_key=True)
    samples: Mapped[int]
    # {"5": hours, "10": hours, ...}: remaining hours to delivery at each percentile
    remaining_h: Mapped[dict[str, float]] = mapped_column(JSON)
    gap_samples: Mapped[int] = mapped_column(default=0)
    gap_p95_h: Mapped[float | None] = mapped_column(Float, default=None)
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryPromise(Base):
    """The window promised when the order was paid; kept as promised (delays compare
    against it), while ``current_*`` follow the parcels' re-estimates."""

    __tablename__ = "delivery_promises"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    market_code: Mapped[str] = mapped_column(String(2))
    lane: Mapped[str] = mapped_column(String(20))
    earliest: Mapped[datetime]
    latest: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))  # history | default
    current_earliest: Mapped[datetime]
    current_latest: Mapped[datetime]
    promised_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ParcelEstimate(Base):
    """A parcel's current delivery window, re-estimated from its latest milestone."""

    __tablename__ = "parcel_estimates"

    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    milestone: Mapped[str] = mapped_column(String(40))
    earliest: Mapped[datetime]
    latest: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DelayReason:
    STALLED = "stalled"  # no scan for longer than the lane's normal gap at this milestone
    PAST_PROMISE = "past_promise"  # not delivered by the promised date


class DelayCase(CreatedAtMixin, Base):
    """A parcel that is late or stuck. ``open_key`` holds the shipment id while the case
    is open and is unique, so a parcel has at most one open case however many workers
    look at it; it is cleared when the case resolves."""

    __tablename__ = "delay_cases"
    __table_args__ = (Index("ix_delay_cases_lane_carrier", "lane", "carrier", "resolved_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("dly"))
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    seller_id: Mapped[str] = mapped_column(String(40))
    carrier: Mapped[str] = mapped_column(String(32))
    lane: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(20))
    milestone: Mapped[str] = mapped_column(String(40))
    open_key: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    last_event_at: Mapped[datetime | None] = mapped_column(default=None)
    new_earliest: Mapped[datetime]
    new_latest: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution: Mapped[str | None] = mapped_column(String(20), default=None)


class AutoCancellation(CreatedAtMixin, Base):
    """An unshipped order cancelled and refunded in full by the platform, once."""

    __tablename__ = "auto_cancellations"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(40), index=True)
    ship_by: Mapped[datetime]
    cancel_after: Mapped[datetime]
    refund_id: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    # Platform-fulfilled orders are the platform's miss, not the seller's.
    counts_against_seller: Mapped[bool] = mapped_column(Boolean, default=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
