"""API shapes of the analytics dashboards and targets. Money is integer minor units
with its currency; shares and growth are fractions (0.25 = 25 %)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from reelshop.analytics.service import (
    SellerDashboard,
    SellerTargetProgress,
    StaffDashboard,
    Table,
    TargetProgress,
    Totals,
)


class TotalsOut(BaseModel):
    currency: str
    gmv: int
    net_gmv: int
    orders: int
    units: int
    aov: int
    commission: int
    take_rate: float | None
    refunds: int
    refund_share: float | None

    @classmethod
    def of(cls, t: Totals) -> TotalsOut:
        return cls(
            currency=t.currency,
            gmv=t.gmv,
            net_gmv=t.net_gmv,
            orders=t.orders,
            units=t.units,
            aov=t.aov,
            commission=t.commission,
            take_rate=t.take_rate,
            refunds=t.refunds,
            refund_share=t.refund_share,
        )


class TableOut(BaseModel):
    name: str
    title: str
    currency: str
    columns: list[str]
    rows: list[dict[str, Any]]

    @classmethod
    def of(cls, t: Table) -> TableOut:
        return cls(
            name=t.name,
            title=t.title,
            currency=t.currency,
            columns=[c.key for c in t.columns],
            rows=t.rows,
        )


class TargetProgressOut(BaseModel):
    year: int
    market: str
    currency: str
    baseline: int
    target: int
    target_growth: float | None
    ytd: int
    run_rate: int
    run_rate_share: float | None
    projected: int
    required_daily: int
    on_track: bool

    @classmethod
    def of(cls, t: TargetProgress) -> TargetProgressOut:
        return cls(
            year=t.year,
            market=t.market,
            currency=t.currency,
            baseline=t.baseline,
            target=t.target,
            target_growth=t.target_growth,
            ytd=t.ytd,
            run_rate=t.run_rate,
            run_rate_share=t.run_rate_share,
            projected=t.projected,
            required_daily=t.required_daily,
            on_track=t.on_track,
        )


class GmvDashboardOut(BaseModel):
    start: date
    end: date
    grain: str
    market: str | None
    totals: TotalsOut
    previous: TotalsOut
    growth: dict[str, float | None]
    target: TargetProgressOut | None
    ledger_sales: int | None
    claims_opened: int | None
    claims_refunded: int | None
    claims_share: float | None
    tables: list[TableOut]

    @classmethod
    def of(cls, d: StaffDashboard) -> GmvDashboardOut:
        return cls(
            start=d.window.start,
            end=d.window.last_day,
            grain=d.grain,
            market=d.scope.market,
            totals=TotalsOut.of(d.totals),
            previous=TotalsOut.of(d.previous),
            growth={k: d.growth_of(k) for k in ("gmv", "orders", "units", "refunds")},
            target=TargetProgressOut.of(d.target) if d.target else None,
            ledger_sales=d.ledger_sales,
            claims_opened=d.claims.opened if d.claims else None,
            claims_refunded=d.claims.refunded if d.claims else None,
            claims_share=d.claims_share,
            tables=[TableOut.of(t) for t in d.tables.values()],
        )


class SellerTargetOut(BaseModel):
    year: int
    month: int
    currency: str
    gmv_target: int
    units_target: int
    gmv: int
    units: int
    projected_gmv: int
    projected_units: int
    on_track: bool

    @classmethod
    def of(cls, t: SellerTargetProgress) -> SellerTargetOut:
        return cls(
            year=t.year,
            month=t.month,
            currency=t.currency,
            gmv_target=t.gmv_target,
            units_target=t.units_target,
            gmv=t.gmv,
            units=t.units,
            projected_gmv=t.projected_gmv,
            projected_units=t.projected_units,
            on_track=t.on_track,
        )


class SellerDashboardOut(BaseModel):
    start: date
    end: date
    grain: str
    totals: TotalsOut
    previous: TotalsOut
    growth: dict[str, float | None]
    target: SellerTargetOut | None
    tables: list[TableOut]

    @classmethod
    def of(cls, d: SellerDashboard) -> SellerDashboardOut:
        return cls(
            start=d.window.start,
            end=d.window.last_day,
            grain=d.grain,
            totals=TotalsOut.of(d.totals),
            previous=TotalsOut.of(d.previous),
            growth={k: d.growth_of(k) for k in ("gmv", "orders", "units", "refunds")},
            target=SellerTargetOut.of(d.target) if d.target else None,
            tables=[TableOut.of(t) for t in d.tables.values()],
        )


class GmvTargetIn(BaseModel):
    market: str | None = Field(default=None, max_length=3, description="two letters, or ALL")
    currency: str = Field(default="USD", min_length=3, max_length=3)
    baseline_amount: int = Field(ge=0, le=10**15, description="last year's GMV, minor units")
    target_amount: int = Field(gt=0, le=10**15, description="this year's target, minor units")


class GmvTargetOut(BaseModel):
    year: int
    market: str
    currency: str
    baseline_amount: int
    target_amount: int


class SellerTargetIn(BaseModel):
    gmv_target_amount: int = Field(ge=0, le=10**15, description="minor units, your currency")
    units_target: int = Field(default=0, ge=0, le=10**9)


class SellerTargetSetOut(BaseModel):
    year: int
    month: int
    currency: str
    gmv_target_amount: int
    units_target: int
