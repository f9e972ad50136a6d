"""Analytics API: the staff GMV dashboard and yearly target (finance staff), the seller
dashboard and monthly target (the seller's own only), every table as CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from reelshop.accounts.models import StaffPermission
from reelshop.analytics import service
from reelshop.analytics.schemas import (
    GmvDashboardOut,
    GmvTargetIn,
    GmvTargetOut,
    SellerDashboardOut,
    SellerTargetIn,
    SellerTargetSetOut,
)
from reelshop.errors import NotFound, problem_responses
from reelshop.payments.api import csv_response
from reelshop.security.authz import (
    AppSettings,
    DbSession,
    Principal,
    ReadDbSession,
    SellerPrincipal,
    require_staff,
)
from reelshop.sellers import service as sellers
from reelshop.sellers.models import SellerProfile

router = APIRouter(tags=["analytics"])

FinanceStaff = Annotated[Principal, Depends(require_staff(StaffPermission.FINANCE))]
GrainQuery = Annotated[service.Grain, Query(description="day, week or month")]
DayQuery = Annotated[date | None, Query(description="YYYY-MM-DD (inclusive)")]


def own_seller(session: Session, principal: Principal) -> SellerProfile:
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if seller is None:
        raise NotFound("you have no shop yet")
    return seller


@router.get(
    "/analytics/gmv",
    response_model=GmvDashboardOut,
    summary="GMV, orders, AOV, take rate, growth, target run-rate and funnel (finance staff)",
    responses=problem_responses(401, 403, 422),
)
def gmv_dashboard(
    session: ReadDbSession,
    _staff: FinanceStaff,
    settings: AppSettings,
    grain: GrainQuery = "day",
    currency: Annotated[str, Query(pattern=r"^[A-Za-z]{3}$")] = "USD",
    market: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    start: DayQuery = None,
    end: DayQuery = None,
) -> GmvDashboardOut:
    dashboard = service.staff_dashboard(
        session=session,
        root=settings.analytics_path,
        grain=grain,
        currency=currency,
        market=market,
        start=start,
        end=end,
    )
    return GmvDashboardOut.of(dashboard)


@router.get(
    "/analytics/gmv/tables/{name}.csv",
    summary="One table of the staff dashboard as CSV (finance staff)",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "CSV"},
        **problem_responses(401, 403, 404, 422),
    },
)
def gmv_table_csv(
    name: str,
    session: ReadDbSession,
    _staff: FinanceStaff,
    settings: AppSettings,
    grain: GrainQuery = "day",
    currency: Annotated[str, Query(pattern=r"^[A-Za-z]{3}$")] = "USD",
    market: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    start: DayQuery = None,
    end: DayQuery = None,
) -> Response:
    dashboard = service.staff_dashboard(
        session=session,
        root=settings.analytics_path,
        grain=grain,
        currency=currency,
        market=market,
        start=start,
        end=end,
    )
    table = service.table_or_404(dashboard.tables, name)
    return csv_response(service.table_csv(table), f"gmv-{name}.csv")


@router.put(
    "/analytics/targets/{year}",
    response_model=GmvTargetOut,
    summary="Set the yearly GMV target, e.g. from 5B to 20B (finance staff; audited)",
    responses=problem_responses(401, 403, 422),
)
def put_gmv_target(
    year: int, body: GmvTargetIn, session: DbSession, staff: FinanceStaff
) -> GmvTargetOut:
    row = service.set_gmv_target(
        session=session,
        actor_id=staff.id,
        year=year,
        market=body.market,
        currency=body.currency,
        baseline_amount=body.baseline_amount,
        target_amount=body.target_amount,
    )
    return GmvTargetOut(
        year=row.year,
        market=row.market_code,
        currency=row.currency,
        baseline_amount=row.baseline_amount,
        target_amount=row.target_amount,
    )


@router.get(
    "/seller/analytics",
    response_model=SellerDashboardOut,
    summary="Your GMV and units against your target, funnel, sales by video and creator",
    responses=problem_responses(401, 403, 404, 422),
)
def seller_dashboard(
    session: ReadDbSession,
    principal: SellerPrincipal,
    settings: AppSettings,
    grain: GrainQuery = "day",
    start: DayQuery = None,
    end: DayQuery = None,
) -> SellerDashboardOut:
    dashboard = service.seller_dashboard(
        session=session,
        root=settings.analytics_path,
        seller=own_seller(session, principal),
        grain=grain,
        start=start,
        end=end,
    )
    return SellerDashboardOut.of(dashboard)


@router.get(
    "/seller/analytics/tables/{name}.csv",
    summary="One table of your dashboard as CSV",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "CSV"},
        **problem_responses(401, 403, 404, 422),
    },
)
def seller_table_csv(
    name: str,
    session: ReadDbSession,
    principal: SellerPrincipal,
    settings: AppSettings,
    grain: GrainQuery = "day",
    start: DayQuery = None,
    end: DayQuery = None,
) -> Response:
    dashboard = service.seller_dashboard(
        session=session,
        root=settings.analytics_path,
        seller=own_seller(session, principal),
        grain=grain,
        start=start,
        end=end,
    )
    table = service.table_or_404(dashboard.tables, name)
    return csv_response(service.table_csv(table), f"sales-{name}.csv")


@router.put(
    "/seller/analytics/targets/{year}/{month}",
    response_model=SellerTargetSetOut,
    summary="Set your sales target (GMV in your currency, units) for a month",
    responses=problem_responses(401, 403, 404, 422),
)
def put_seller_target(
    year: int, month: int, body: SellerTargetIn, session: DbSession, principal: SellerPrincipal
) -> SellerTargetSetOut:
    row = service.set_seller_target(
        session=session,
        seller=own_seller(session, principal),
        year=year,
        month=month,
        gmv_target_amount=body.gmv_target_amount,
        units_target=body.units_target,
    )
    return SellerTargetSetOut(
        year=row.year,
        month=row.month,
        currency=row.currency,
        gmv_target_amount=row.gmv_target_amount,
        units_target=row.units_target,
    )
