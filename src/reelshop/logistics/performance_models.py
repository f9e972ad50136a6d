"""Tables of seller performance: per-market thresholds (reference data, seeded) and the
periodic snapshots the seller's trend charts are drawn from."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base
from reelshop.ids import new_id


class PerformancePolicy(Base):
    """How a market scores its sellers. Rates are in basis points (400 = 4 %)."""

    __tablename__ = "performance_policies"

    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"), primary_key=True)
    window_days: Mapped[int] = mapped_column(default=90)
    min_delivered_orders: Mapped[int] = mapped_column(default=30)
    # {"late_dispatch": {"good": 100, "bad": 800, "limit": 400, "weight": 3,
    #                   "higher_is_better": false}, ...}
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    warning_below: Mapped[float] = mapped_column(default=4.0)
    restricted_below: Mapped[float] = mapped_column(default=3.0)
    suspended_below: Mapped[float] = mapped_column(default=2.0)
    restricted_daily_order_cap: Mapped[int] = mapped_column(default=50)


class SellerPerformanceSnapshot(Base):
    """One seller's figures over the window ending on ``day`` (one row per day)."""

    __tablename__ = "seller_performance_snapshots"
    __table_args__ = (
        UniqueConstraint("seller_id", "day", name="uq_seller_performance_snapshots_day"),
        Index("ix_seller_performance_snapshots_seller_day", "seller_id", "day"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("sps"))
    seller_id: Mapped[str] = mapped_column(String(40))
    market_code: Mapped[str] = mapped_column(String(2))
    day: Mapped[date]
    computed_at: Mapped[datetime]
    delivered_orders: Mapped[int]
    eligible: Mapped[bool] = mapped_column(Boolean)
    # {"late_dispatch": {"rate_bp": 250, "numerator": 3, "denominator": 120}, ...}
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    rating_average: Mapped[float | None] = mapped_column(default=None)
    score: Mapped[float | None] = mapped_column(default=None)
    standing: Mapped[str] = mapped_column(String(16))
