"""HTML pages for analytics: the staff GMV dashboard (finance staff) with the yearly
target form, and the seller's sales dashboard with their monthly target. Every chart
has its numbers in a table beside it, and every table downloads as CSV."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from reelshop.accounts.models import StaffPermission
from reelshop.analytics import service
from reelshop.analytics.service import Table
from reelshop.errors import InvalidInput, NotFound
from reelshop.money import Money, MoneyError, minor_digits
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
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

FinanceStaff = Annotated[Principal, Depends(require_staff(StaffPermission.FINANCE))]
GrainQuery = Annotated[service.Grain, Query()]
DayQuery = Annotated[date | None, Query()]
CurrencyQuery = Annotated[str, Query(pattern=r"^[A-Za-z]{3}$")]
MarketQuery = Annotated[str | None, Query(pattern=r"^[A-Za-z]{0,3}$")]


def _major(amount: int, currency: str) -> float:
    return float(amount) / float(10 ** minor_digits(currency))


def _parse_money(text: str, currency: str, field: str) -> int:
    cleaned = text.replace(",", "").replace("$", "").strip()
    multiplier = 1
    if cleaned[-1:].upper() in ("K", "M", "B"):
        multiplier = {"K": 10**3, "M": 10**6, "B": 10**9}[cleaned[-1].upper()]
        cleaned = cleaned[:-1]
    try:
        value = Decimal(cleaned) * multiplier
        return Money.from_decimal(value, currency).amount
    except (InvalidOperation, MoneyError, ValueError):
        raise InvalidInput(
            f"{text!r} is not an amount in {currency} (e.g. 20000000000 or 20B)", field=field
        ) from None


def _labels(table: Table) -> list[str]:
    """Short period labels for the x axis (the table keeps the full dates)."""
    periods = [str(r["period"]) for r in table.rows]
    monthly = len(periods) > 1 and all(p.endswith("-01") for p in periods)
    return [p[:7] if monthly else p[5:] for p in periods]


def _series_chart(table: Table, keys: list[tuple[str, str]], kind: str = "line") -> dict[str, Any]:
    return {
        "type": kind,
        "labels": _labels(table),
        "datasets": [
            {"label": label, "data": [_major(int(r[key]), table.currency) for r in table.rows]}
            for key, label in keys
        ],
        "y_format": "money",
        "currency": table.currency,
    }


def _count_chart(table: Table, key: str, label: str) -> dict[str, Any]:
    return {
        "type": "bar",
        "labels": _labels(table),
        "datasets": [{"label": label, "data": [int(r[key]) for r in table.rows]}],
        "y_format": "number",
    }


def _funnel_chart(table: Table) -> dict[str, Any]:
    return {
        "type": "bar",
        "labels": [r["stage"] for r in table.rows],
        "datasets": [{"label": "Events", "data": [int(r["events"]) for r in table.rows]}],
        "y_format": "number",
    }


def _breakdown_chart(table: Table, label_key: str = "key") -> dict[str, Any]:
    rows = table.rows[:10]
    return {
        "type": "bar",
        "labels": [str(r[label_key]) for r in rows],
        "datasets": [
            {"label": "GMV", "data": [_major(int(r["gmv"]), table.currency) for r in rows]}
        ],
        "y_format": "money",
        "currency": table.currency,
    }


def _query_string(**params: object) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


# --- staff -------------------------------------------------------------------------------------


@router.get("/staff/analytics", response_class=HTMLResponse)
def staff_analytics(
    request: Request,
    _staff: FinanceStaff,
    session: ReadDbSession,
    settings: AppSettings,
    grain: GrainQuery = "day",
    currency: CurrencyQuery = "USD",
    market: MarketQuery = None,
    start: DayQuery = None,
    end: DayQuery = None,
) -> Response:
    dashboard = service.staff_dashboard(
        session=session,
        root=settings.analytics_path,
        grain=grain,
        currency=currency,
        market=market or None,
        start=start,
        end=end,
    )
    query = _query_string(
        grain=grain,
        currency=currency.upper(),
        market=market,
        start=start.isoformat() if start else None,
        end=end.isoformat() if end else None,
    )
    charts = {
        "gmv": _series_chart(dashboard.series, [("gmv", "GMV"), ("refunds", "Refunds")]),
        "orders": _count_chart(dashboard.series, "orders", "Orders"),
        "funnel": _funnel_chart(dashboard.funnel),
        "by_market": _breakdown_chart(dashboard.by_market),
        "by_category": _breakdown_chart(dashboard.by_category),
        "by_seller_country": _breakdown_chart(dashboard.by_seller_country),
    }
    target_row = service.get_gmv_target(
        session=session, year=service.today_utc().year, market=market or None
    )
    return render(
        request,
        "analytics/staff.html",
        {
            "d": dashboard,
            "charts": charts,
            "query": query,
            "grain": grain,
            "currency": currency.upper(),
            "market": (market or "").upper(),
            "start": start,
            "end": end,
            "target_row": target_row,
            "year": service.today_utc().year,
            "Money": Money,
        },
    )


@router.get("/staff/analytics/{name}.csv")
def staff_analytics_csv(
    name: str,
    _staff: FinanceStaff,
    session: ReadDbSession,
    settings: AppSettings,
    grain: GrainQuery = "day",
    currency: CurrencyQuery = "USD",
    market: MarketQuery = None,
    start: DayQuery = None,
    end: DayQuery = None,
) -> Response:
    dashboard = service.staff_dashboard(
        session=session,
        root=settings.analytics_path,
        grain=grain,
        currency=currency,
        market=market or None,
        start=start,
        end=end,
    )
    table = service.table_or_404(dashboard.tables, name)
    return csv_response(service.table_csv(table), f"gmv-{name}.csv")


@router.post("/staff/analytics/target")
def staff_set_target(
    staff: FinanceStaff,
    session: DbSession,
    year: Annotated[int, Form()],
    baseline: Annotated[str, Form(max_length=30)],
    target: Annotated[str, Form(max_length=30)],
    currency: Annotated[str, Form(pattern=r"^[A-Za-z]{3}$")] = "USD",
    market: Annotated[str, Form(pattern=r"^[A-Za-z]{0,3}$")] = "",
) -> Response:
    code = currency.upper()
    service.set_gmv_target(
        session=session,
        actor_id=staff.id,
        year=year,
        market=market or None,
        currency=code,
        baseline_amount=_parse_money(baseline, code, "baseline"),
        target_amount=_parse_money(target, code, "target"),
    )
    suffix = f"&market={market.upper()}" if market else ""
    return RedirectResponse(f"/staff/analytics?currency={code}{suffix}", status_code=303)


# --- seller -----------------------------------------------------------------------------------


def _seller(session: Session, principal: Principal) -> SellerProfile:
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if seller is None:
        raise NotFound("you have no shop yet")
    return seller


@router.get("/seller/analytics", response_class=HTMLResponse)
def seller_analytics(
    request: Request,
    principal: SellerPrincipal,
    session: ReadDbSession,
    settings: AppSettings,
    grain: GrainQuery = "day",
    start: DayQuery = None,
    end: DayQuery = None,
) -> Response:
    seller = _seller(session, principal)
    dashboard = service.seller_dashboard(
        session=session,
        root=settings.analytics_path,
        seller=seller,
        grain=grain,
        start=start,
        end=end,
    )
    tables = dashboard.tables
    charts = {
        "gmv": _series_chart(tables["series"], [("gmv", "GMV"), ("refunds", "Refunds")]),
        "units": _count_chart(tables["series"], "units", "Units"),
        "funnel": _funnel_chart(tables["funnel"]),
        "by_video": _breakdown_chart(tables["by_video"], "caption"),
        "by_creator": _breakdown_chart(tables["by_creator"], "creator"),
    }
    today = service.today_utc()
    return render(
        request,
        "analytics/seller.html",
        {
            "seller": seller,
            "d": dashboard,
            "charts": charts,
            "grain": grain,
            "start": start,
            "end": end,
            "query": _query_string(
                grain=grain,
                start=start.isoformat() if start else None,
                end=end.isoformat() if end else None,
            ),
            "year": today.year,
            "month": today.month,
            "currency": seller.currency,
            "Money": Money,
        },
    )


@router.get("/seller/analytics/{name}.csv")
def seller_analytics_csv(
    name: str,
    principal: SellerPrincipal,
    session: ReadDbSession,
    settings: AppSettings,
    grain: GrainQuery = "day",
    start: DayQuery = None,
    end: DayQuery = None,
) -> Response:
    dashboard = service.seller_dashboard(
        session=session,
        root=settings.analytics_path,
        seller=_seller(session, principal),
        grain=grain,
        start=start,
        end=end,
    )
    table = service.table_or_404(dashboard.tables, name)
    return csv_response(service.table_csv(table), f"sales-{name}.csv")


@router.post("/seller/analytics/target")
def seller_set_target(
    principal: SellerPrincipal,
    session: DbSession,
    year: Annotated[int, Form()],
    month: Annotated[int, Form()],
    gmv_target: Annotated[str, Form(max_length=30)],
    units_target: Annotated[int, Form(ge=0, le=10**9)] = 0,
) -> Response:
    seller = _seller(session, principal)
    service.set_seller_target(
        session=session,
        seller=seller,
        year=year,
        month=month,
        gmv_target_amount=_parse_money(gmv_target, seller.currency, "gmv_target"),
        units_target=units_target,
    )
    return RedirectResponse("/seller/analytics", status_code=303)
