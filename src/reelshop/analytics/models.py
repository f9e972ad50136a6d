"""Targets the dashboards measure against: the platform's yearly GMV target and each
seller's monthly sales target. The events themselves live in Parquet, not here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base, utcnow

ALL_MARKETS = "ALL"


class GmvTarget(Base):
    """ "From $5B to $20B": last year's GMV (the baseline) and this year's target, for
    the whole platform (market ``ALL``) or one market, in one currency."""

    __tablename__ = "analytics_gmv_targets"
    __table_args__ = (
        CheckConstraint("target_amount > 0", name="target_positive"),
        CheckConstraint("baseline_amount >= 0", name="baseline_not_negative"),
        CheckConstraint("year BETWEEN 2000 AND 2200", name="year_range"),
    )

    year: Mapped[int] = mapped_column(primary_key=True)
    market_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    baseline_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    target_amount: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[str | None] = mapped_column(String(40), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SellerSalesTarget(Base):
    """The GMV and units a seller expects to sell in one calendar month."""

    __tablename__ = "analytics_seller_targets"
    __table_args__ = (
        CheckConstraint("gmv_target_amount >= 0", name="gmv_not_negative"),
        CheckConstraint("units_target >= 0", name="units_not_negative"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
    )

    seller_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    gmv_target_amount: Mapped[int] = mapped_column(BigInteger)
    units_target: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
