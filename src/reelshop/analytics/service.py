"""Dashboard queries: GMV, orders, AOV, take rate, growth, run-rate against the yearly
target, funnels and attribution, over the Parquet events (DuckDB); targets and the
ledger cross-check over the OLTP database.

Definitions (docs/analytics.md has the long form):
- GMV: what escrow took at capture for paid orders (shopper's total plus platform
  voucher subsidy, shipping included), by the day the order was paid; refunds are not
  subtracted (net GMV is GMV minus refunds).
- Orders: distinct paid orders. AOV: GMV / orders.
- Take rate: platform commission at purchase-time rates / GMV.
- Refund share: GMV taken back by refunds in the window / GMV in the window.
"""

from __future__ import annotations

import calendar
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.accounts.models import User
from reelshop.analytics import store
from reelshop.analytics.events import FUNNEL
from reelshop.analytics.models import ALL_MARKETS, GmvTarget, SellerSalesTarget
from reelshop.catalog.models import Category, Product
from reelshop.errors import InvalidInput, NotFound
from reelshop.feed.models import Video
from reelshop.money import Money, check_currency
from reelshop.payments import ledger
from reelshop.payments.models import EntryKind, JournalEntry, JournalLine
from reelshop.security import audit
from reelshop.sellers.models import SellerProfile

Grain = Literal["day", "week", "month"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month")
DEFAULT_SPAN_DAYS = {"day": 30, "week": 84, "month": 365}
MAX_SPAN_DAYS = 3 * 366
TRAILING_DAYS = 30
MAX_TARGET = 10**15  # minor units: ten trillion dollars is past any plausible target


def today_utc() -> date:
    return datetime.now(UTC).date()


# --- windows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Window:
        return Window(self.start - timedelta(days=self.days), self.start)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def _align(day: date, grain: Grain) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def window_for(
    *, grain: Grain, today: date, start: date | None = None, end: date | None = None
) -> Window:
    """The dashboard's window: explicit dates (end inclusive), or the grain's default
    span ending today, aligned to whole weeks or months."""
    if grain not in GRAINS:
        raise InvalidInput("grain is day, week or month", field="grain")
    last = end or today
    if start is not None:
        first = start
    elif grain == "month":  # the current month and the eleven before it
        months = last.year * 12 + last.month - 1 - 11
        first = date(months // 12, months % 12 + 1, 1)
    else:
        first = _align(last - timedelta(days=DEFAULT_SPAN_DAYS[grain] - 1), grain)
    if first > last:
        raise InvalidInput("the start is after the end", field="start")
    if (last - first).days + 1 > MAX_SPAN_DAYS:
        raise InvalidInput(f"a window is at most {MAX_SPAN_DAYS} days", field="start")
    return Window(first, last + timedelta(days=1))


def buckets(window: Window, grain: Grain) -> list[date]:
    out = []
    day = _align(window.start, grain)
    while day < window.end:
        out.append(day)
        if grain == "day":
            day += timedelta(days=1)
        elif grain == "week":
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


# --- tables (what pages show and CSV exports) -------------------------------------------------

ColumnKind = Literal["text", "money", "int", "percent", "date"]


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: ColumnKind = "text"


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    currency: str = "USD"

    def csv_rows(self) -> list[list[str]]:
        """Header then rows; money in major units with the currency in the header."""
        header = [
            f"{c.title} ({self.currency})" if c.kind == "money" else c.title for c in self.columns
        ]
        out = [header]
        for row in self.rows:
            cells = []
            for c in self.columns:
                value = row.get(c.key)
                if value is None:
                    cells.append("")
                elif c.kind == "money":
                    cells.append(str(Money(int(value), self.currency).to_decimal()))
                elif c.kind == "percent":
                    cells.append(f"{float(value):.4f}")
                else:
                    cells.append(str(value))
            out.append(cells)
        return out


def _ratio(numerator: int | float, denominator: int | float) -> float | None:
    return None if not denominator else numerator / denominator


def growth(current: int | float, previous: int | float) -> float | None:
    """Change against the previous period (0.25 = +25 %); None when there was nothing."""
    return None if not previous else (current - previous) / previous


@dataclass(frozen=True)
class Totals:
    currency: str
    gmv: int = 0
    orders: int = 0
    units: int = 0
    commission: int = 0
    refunds: int = 0

    @property
    def aov(self) -> int:
        return self.gmv // self.orders if self.orders else 0

    @property
    def take_rate(self) -> float | None:
        return _ratio(self.commission, self.gmv)

    @property
    def refund_share(self) -> float | None:
        return _ratio(self.refunds, self.gmv)

    @property
    def net_gmv(self) -> int:
        return self.gmv - self.refunds


# --- queries -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which money events a query sees: one currency, optionally one market or seller."""

    currency: str
    market: str | None = None
    seller_id: str | None = None

    def where(self, *, money: bool = True) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if money:
            clauses.append("currency = ?")
            params.append(self.currency)
        if self.market:
            clauses.append("market = ?")
            params.append(self.market)
        if self.seller_id:
            clauses.append("seller_id = ?")
            params.append(self.seller_id)
        return (" AND ".join(clauses) or "TRUE"), params


def _ts(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


_TOTALS_SQL = """
SELECT
  coalesce(sum(amount) FILTER (WHERE kind = 'purchase'), 0),
  count(DISTINCT order_id) FILTER (WHERE kind = 'purchase'),
  coalesce(sum(units) FILTER (WHERE kind = 'purchase'), 0),
  coalesce(sum(commission) FILTER (WHERE kind = 'purchase'), 0),
  coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0)
FROM money WHERE {where} AND occurred_at >= ? AND occurred_at < ?
"""


def _totals(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window) -> Totals:
    where, params = scope.where()
    row = con.execute(
        _TOTALS_SQL.format(where=where), [*params, _ts(window.start), _ts(window.end)]
    ).fetchone()
    assert row is not None
    return Totals(scope.currency, *(int(v) for v in row))


def _series(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window, grain: Grain) -> Table:
    where, params = scope.where()
    rows = con.execute(
        f"""
        SELECT CAST(date_trunc('{grain}', occurred_at) AS DATE) AS bucket,
          coalesce(sum(amount) FILTER (WHERE kind = 'purchase'), 0),
          count(DISTINCT order_id) FILTER (WHERE kind = 'purchase'),
          coalesce(sum(units) FILTER (WHERE kind = 'purchase'), 0),
          coalesce(sum(commission) FILTER (WHERE kind = 'purchase'), 0),
          coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0)
        FROM money WHERE {where} AND occurred_at >= ? AND occurred_at < ?
        GROUP BY bucket ORDER BY bucket
        """,  # noqa: S608 - grain is one of three literals, values are parameters
        [*params, _ts(window.start), _ts(window.end)],
    ).fetchall()
    by_bucket = {r[0]: r for r in rows}
    out = []
    for bucket in buckets(window, grain):
        r = by_bucket.get(bucket, (bucket, 0, 0, 0, 0, 0))
        gmv, orders, units, commission, refunds = (int(v) for v in r[1:])
        out.append(
            {
                "period": bucket.isoformat(),
                "gmv": gmv,
                "orders": orders,
                "units": units,
                "aov": gmv // orders if orders else 0,
                "take_rate": _ratio(commission, gmv),
                "refunds": refunds,
            }
        )
    return Table(
        "series",
        f"GMV by {grain}",
        [
            Column("period", grain.title(), "date"),
            Column("gmv", "GMV", "money"),
            Column("orders", "Orders", "int"),
            Column("units", "Units", "int"),
            Column("aov", "AOV", "money"),
            Column("take_rate", "Take rate", "percent"),
            Column("refunds", "Refunds", "money"),
        ],
        out,
        scope.currency,
    )


def _breakdown(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    window: Window,
    *,
    column: str,
    name: str,
    title: str,
    label: str,
    limit: int = 50,
) -> Table:
    where, params = scope.where()
    previous = window.previous()
    rows = con.execute(
        f"""
        SELECT coalesce({column}, '(none)') AS key,
          coalesce(sum(amount) FILTER (WHERE kind = 'purchase' AND occurred_at >= ?), 0) AS gmv,
          count(DISTINCT order_id) FILTER (WHERE kind = 'purchase' AND occurred_at >= ?),
          coalesce(sum(units) FILTER (WHERE kind = 'purchase' AND occurred_at >= ?), 0),
          coalesce(sum(commission) FILTER (WHERE kind = 'purchase' AND occurred_at >= ?), 0),
          coalesce(sum(amount) FILTER (WHERE kind = 'refund' AND occurred_at >= ?), 0),
          coalesce(sum(amount) FILTER (WHERE kind = 'purchase' AND occurred_at < ?), 0)
        FROM money WHERE {where} AND occurred_at >= ? AND occurred_at < ?
        GROUP BY key ORDER BY gmv DESC, key LIMIT {int(limit)}
        """,  # noqa: S608 - column is chosen from a fixed set by the caller
        [
            *([_ts(window.start)] * 5),
            _ts(window.start),
            *params,
            _ts(previous.start),
            _ts(window.end),
        ],
    ).fetchall()
    total = sum(int(r[1]) for r in rows)
    out = [
        {
            "key": key,
            "gmv": int(gmv),
            "share": _ratio(int(gmv), total),
            "orders": int(orders),
            "units": int(units),
            "aov": int(gmv) // int(orders) if orders else 0,
            "take_rate": _ratio(int(commission), int(gmv)),
            "refunds": int(refunds),
            "growth": growth(int(gmv), int(before)),
        }
        for key, gmv, orders, units, commission, refunds, before in rows
        if gmv or refunds
    ]
    return Table(
        name,
        title,
        [
            Column("key", label),
            Column("gmv", "GMV", "money"),
            Column("share", "Share", "percent"),
            Column("orders", "Orders", "int"),
            Column("units", "Units", "int"),
            Column("aov", "AOV", "money"),
            Column("take_rate", "Take rate", "percent"),
            Column("refunds", "Refunds", "money"),
            Column("growth", "Growth", "percent"),
        ],
        out,
        scope.currency,
    )


FUNNEL_TITLES = {
    "impression": "Impressions",
    "product_click": "Product clicks",
    "add_to_cart": "Add to cart",
    "checkout_start": "Checkout",
    "purchase": "Purchase",
}


def _funnel(con: duckdb.DuckDBPyConnection, scope: Scope, window: Window) -> Table:
    where, params = scope.where(money=False)
    counts = dict(
        con.execute(
            f"""
            SELECT kind, count(*) FROM ev
            WHERE kind IN ('impression', 'product_click', 'add_to_cart', 'checkout_start')
              AND {where}
            GROUP BY kind
            """,  # noqa: S608 - where is built from fixed clauses, values are parameters
            params,
        ).fetchall()
    )
    purchase_where, purchase_params = scope.where(money=False)
    purchases = con.execute(
        f"SELECT count(*) FROM money WHERE kind = 'purchase' AND {purchase_where} "  # noqa: S608
        "AND occurred_at >= ? AND occurred_at < ?",
        [*purchase_params, _ts(window.start), _ts(window.end)],
    ).fetchone()
    counts["purchase"] = purchases[0] if purchases else 0
    rows = []
    first = int(counts.get(FUNNEL[0], 0))
    previous: int | None = None
    for kind in FUNNEL:
        n = int(counts.get(kind, 0))
        rows.append(
            {
                "stage": FUNNEL_TITLES[kind],
                "events": n,
                "from_previous": _ratio(n, previous) if previous is not None else None,
                "from_impression": _ratio(n, first),
            }
        )
        previous = n
    return Table(
        "funnel",
        "Funnel",
        [
            Column("stage", "Stage"),
            Column("events", "Events", "int"),
            Column("from_previous", "From previous stage", "percent"),
            Column("from_impression", "From impression", "percent"),
        ],
        rows,
        scope.currency,
    )


# --- the yearly target -----------------------------------------------------------------------


@dataclass(frozen=True)
class TargetProgress:
    year: int
    market: str
    currency: str
    baseline: int
    target: int
    ytd: int
    trailing: int  # GMV of the last TRAILING_DAYS days
    run_rate: int  # trailing GMV annualised
    projected: int  # year to date plus the trailing daily pace for the rest of the year
    required_daily: int  # what each remaining day must sell to reach the target
    days_elapsed: int
    days_in_year: int

    @property
    def target_growth(self) -> float | None:
        return growth(self.target, self.baseline)

    @property
    def run_rate_share(self) -> float | None:
        return _ratio(self.run_rate, self.target)

    @property
    def ytd_share(self) -> float | None:
        return _ratio(self.ytd, self.target)

    @property
    def on_track(self) -> bool:
        return self.projected >= self.target


def target_progress(*, target: GmvTarget, ytd: int, trailing: int, today: date) -> TargetProgress:
    days_in_year = 366 if calendar.isleap(target.year) else 365
    elapsed = (today - date(target.year, 1, 1)).days + 1
    elapsed = max(0, min(elapsed, days_in_year))
    remaining = days_in_year - elapsed
    daily = trailing / TRAILING_DAYS
    return TargetProgress(
        year=target.year,
        market=target.market_code,
        currency=target.currency,
        baseline=target.baseline_amount,
        target=target.target_amount,
        ytd=ytd,
        trailing=trailing,
        run_rate=round(daily * days_in_year),
        projected=ytd + round(daily * remaining),
        required_daily=-(-max(0, target.target_amount - ytd) // remaining) if remaining else 0,
        days_elapsed=elapsed,
        days_in_year=days_in_year,
    )


def get_gmv_target(*, session: Session, year: int, market: str | None) -> GmvTarget | None:
    return session.get(GmvTarget, (year, market or ALL_MARKETS))


def set_gmv_target(
    *,
    session: Session,
    actor_id: str,
    year: int,
    market: str | None,
    currency: str,
    baseline_amount: int,
    target_amount: int,
) -> GmvTarget:
    """Set (or replace) the yearly GMV target; audited."""
    if not 2000 <= year <= 2200:
        raise InvalidInput("the year is between 2000 and 2200", field="year")
    currency = check_currency(currency.upper())
    if not 0 < target_amount <= MAX_TARGET:
        raise InvalidInput("the target is a positive amount", field="target_amount")
    if not 0 <= baseline_amount <= MAX_TARGET:
        raise InvalidInput("the baseline is zero or more", field="baseline_amount")
    code = (market or ALL_MARKETS).upper()
    if code != ALL_MARKETS and (len(code) != 2 or not code.isalpha()):
        raise InvalidInput("a market is a two-letter country code or ALL", field="market")
    row = session.get(GmvTarget, (year, code))
    if row is None:
        row = GmvTarget(year=year, market_code=code)
        session.add(row)
    row.currency = currency
    row.baseline_amount = baseline_amount
    row.target_amount = target_amount
    row.set_by = actor_id
    session.flush()
    audit.record(
        session=session,
        actor_id=actor_id,
        action="analytics.gmv_target_set",
        target_type="gmv_target",
        target_id=f"{year}:{code}",
        detail={"currency": currency, "baseline": baseline_amount, "target": target_amount},
    )
    return row


# --- the ledger cross-check ------------------------------------------------------------------


def ledger_sales(*, session: Session, currency: str, window: Window) -> int:
    """GMV as the ledger records it: escrow credited by capture entries in the window."""
    total = session.scalar(
        select(func.coalesce(func.sum(JournalLine.amount), 0))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalEntry.kind == EntryKind.CAPTURE,
            JournalLine.account == ledger.PLATFORM_ESCROW,
            JournalLine.currency == currency,
            JournalEntry.created_at >= _ts(window.start),
            JournalEntry.created_at < _ts(window.end),
        )
    )
    return -int(total or 0)


@dataclass(frozen=True)
class ClaimsSummary:
    """Buyer-protection claims in the window: opened (by when they were opened) and the
    money refunded through upheld claims (by when they were decided)."""

    opened: int
    upheld: int
    refunded: int


def claims_summary(*, session: Session, currency: str, window: Window) -> ClaimsSummary:
    # Read straight from trust's claims table: a read-only aggregate trust does not offer.
    from reelshop.trust.claim_models import Claim, ClaimStatus

    start, end = _ts(window.start), _ts(window.end)
    opened = session.scalar(
        select(func.count())
        .select_from(Claim)
        .where(Claim.currency == currency, Claim.created_at >= start, Claim.created_at < end)
    )
    upheld, refunded = session.execute(
        select(func.count(), func.coalesce(func.sum(Claim.refund_amount), 0)).where(
            Claim.currency == currency,
            Claim.status == ClaimStatus.UPHELD,
            Claim.decided_at >= start,
            Claim.decided_at < end,
        )
    ).one()
    return ClaimsSummary(int(opened or 0), int(upheld or 0), int(refunded or 0))


# --- the staff dashboard ---------------------------------------------------------------------


@dataclass(frozen=True)
class StaffDashboard:
    window: Window
    grain: Grain
    scope: Scope
    totals: Totals
    previous: Totals
    series: Table
    by_market: Table
    by_category: Table
    by_seller_country: Table
    funnel: Table
    target: TargetProgress | None
    ledger_sales: int | None
    tables: dict[str, Table] = field(default_factory=dict)
    claims: ClaimsSummary | None = None

    @property
    def claims_share(self) -> float | None:
        return _ratio(self.claims.refunded, self.totals.gmv) if self.claims else None

    def growth_of(self, name: str) -> float | None:
        return growth(getattr(self.totals, name), getattr(self.previous, name))


def _category_names(session: Session, slugs: Sequence[str]) -> dict[str, str]:
    if not slugs:
        return {}
    return dict(
        session.execute(
            select(Category.slug, Category.name).where(Category.slug.in_(list(slugs)))
        ).all()
    )


@store.retry_when_files_vanish
def staff_dashboard(
    *,
    session: Session | None,
    root: Path,
    grain: Grain = "day",
    currency: str = "USD",
    market: str | None = None,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> StaffDashboard:
    """Everything the staff GMV page shows. ``session`` None skips the OLTP parts (the
    benchmark times the Parquet queries alone)."""
    today = today or today_utc()
    currency = check_currency(currency.upper())
    market = market.upper() if market else None
    window = window_for(grain=grain, today=today, start=start, end=end)
    scope = Scope(currency, market=market)
    target_row = (
        get_gmv_target(session=session, year=today.year, market=market)
        if session is not None
        else None
    )
    if target_row is not None and target_row.currency != currency:
        target_row = None
    year_to_date = Window(date(today.year, 1, 1), today + timedelta(days=1))
    trailing_window = Window(today - timedelta(days=TRAILING_DAYS - 1), today + timedelta(days=1))
    money_start = window.previous().start
    money_end = window.end
    if target_row is not None:
        money_start = min(money_start, year_to_date.start, trailing_window.start)
        money_end = max(money_end, year_to_date.end)
    with store.events_view(
        root, window.start, window.end, money_start=money_start, money_end=money_end
    ) as con:
        totals = _totals(con, scope, window)
        previous = _totals(con, scope, window.previous())
        series = _series(con, scope, window, grain)
        by_market = _breakdown(
            con, scope, window, column="market", name="by_market", title="By market", label="Market"
        )
        by_category = _breakdown(
            con,
            scope,
            window,
            column="category",
            name="by_category",
            title="By category",
            label="Category",
        )
        by_country = _breakdown(
            con,
            scope,
            window,
            column="seller_country",
            name="by_seller_country",
            title="By seller country",
            label="Seller country",
        )
        funnel = _funnel(con, scope, window)
        target = None
        if target_row is not None:
            ytd = _totals(con, scope, year_to_date)
            trailing = _totals(con, scope, trailing_window)
            target = target_progress(
                target=target_row, ytd=ytd.gmv, trailing=trailing.gmv, today=today
            )
    if session is not None:
        names = _category_names(session, [r["key"] for r in by_category.rows])
        for row in by_category.rows:
            row["key"] = names.get(row["key"], row["key"])
    sales = (
        ledger_sales(session=session, currency=currency, window=window)
        if session is not None and market is None
        else None
    )
    claims = (
        claims_summary(session=session, currency=currency, window=window)
        if session is not None and market is None
        else None
    )
    tables = {t.name: t for t in (series, by_market, by_category, by_country, funnel)}
    return StaffDashboard(
        window,
        grain,
        scope,
        totals,
        previous,
        series,
        by_market,
        by_category,
        by_country,
        funnel,
        target,
        sales,
        tables,
        claims,
    )


# --- the seller dashboard --------------------------------------------------------------------


@dataclass(frozen=True)
class SellerTargetProgress:
    year: int
    month: int
    currency: str
    gmv_target: int
    units_target: int
    gmv: int
    units: int
    days_elapsed: int
    days_in_month: int

    @property
    def gmv_share(self) -> float | None:
        return _ratio(self.gmv, self.gmv_target)

    @property
    def units_share(self) -> float | None:
        return _ratio(self.units, self.units_target)

    @property
    def time_share(self) -> float:
        return self.days_elapsed / self.days_in_month

    @property
    def projected_gmv(self) -> int:
        return round(self.gmv / self.days_elapsed * self.days_in_month) if self.days_elapsed else 0

    @property
    def projected_units(self) -> int:
        if not self.days_elapsed:
            return 0
        return round(self.units / self.days_elapsed * self.days_in_month)

    @property
    def on_track(self) -> bool:
        return self.projected_gmv >= self.gmv_target and self.projected_units >= self.units_target


@dataclass(frozen=True)
class SellerDashboard:
    seller_id: str
    window: Window
    grain: Grain
    totals: Totals
    previous: Totals
    target: SellerTargetProgress | None
    tables: dict[str, Table]

    def growth_of(self, name: str) -> float | None:
        return growth(getattr(self.totals, name), getattr(self.previous, name))


def _grouped(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    window: Window,
    column: str,
    limit: int,
) -> list[tuple[str, int, int, int, int]]:
    where, params = scope.where()
    rows = con.execute(
        f"""
        SELECT {column} AS key,
          coalesce(sum(amount) FILTER (WHERE kind = 'purchase'), 0) AS gmv,
          coalesce(sum(units) FILTER (WHERE kind = 'purchase'), 0),
          count(DISTINCT order_id) FILTER (WHERE kind = 'purchase'),
          coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0)
        FROM money WHERE {where} AND {column} IS NOT NULL AND occurred_at >= ? AND occurred_at < ?
        GROUP BY key ORDER BY gmv DESC, key LIMIT {int(limit)}
        """,  # noqa: S608 - column is chosen from a fixed set below
        [*params, _ts(window.start), _ts(window.end)],
    ).fetchall()
    return [(str(k), int(g), int(u), int(o), int(r)) for k, g, u, o, r in rows]


def _product_events(
    con: duckdb.DuckDBPyConnection, scope: Scope, window: Window
) -> dict[str, dict[str, int]]:
    where, params = scope.where(money=False)
    out: dict[str, dict[str, int]] = {}
    for product_id, kind, n in con.execute(
        f"""
        SELECT product_id, kind, count(*) FROM ev
        WHERE kind IN ('impression', 'product_click', 'add_to_cart') AND {where}
          AND product_id IS NOT NULL
        GROUP BY product_id, kind
        """,  # noqa: S608 - fixed clauses, values are parameters
        params,
    ).fetchall():
        out.setdefault(product_id, {})[kind] = int(n)
    return out


@store.retry_when_files_vanish
def seller_dashboard(
    *,
    session: Session,
    root: Path,
    seller: SellerProfile,
    grain: Grain = "day",
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> SellerDashboard:
    today = today or today_utc()
    window = window_for(grain=grain, today=today, start=start, end=end)
    scope = Scope(seller.currency, seller_id=seller.id)
    month = Window(today.replace(day=1), today + timedelta(days=1))
    with store.events_view(
        root,
        window.start,
        window.end,
        money_start=min(window.previous().start, month.start),
        money_end=max(window.end, month.end),
    ) as con:
        totals = _totals(con, scope, window)
        previous = _totals(con, scope, window.previous())
        month_totals = _totals(con, scope, month)
        series = _series(con, scope, window, grain)
        funnel = _funnel(con, scope, window)
        by_video = _grouped(con, scope, window, "video_id", 20)
        by_creator = _grouped(con, scope, window, "creator_id", 20)
        products = _grouped(con, scope, window, "product_id", 20)
        engagement = _product_events(con, scope, window)
    titles = dict(
        session.execute(
            select(Product.id, Product.title).where(Product.id.in_([p[0] for p in products]))
        ).all()
    )
    captions = dict(
        session.execute(
            select(Video.id, Video.caption).where(Video.id.in_([v[0] for v in by_video]))
        ).all()
    )
    creators = dict(
        session.execute(
            select(User.id, User.handle).where(User.id.in_([c[0] for c in by_creator]))
        ).all()
    )
    money_columns = [
        Column("gmv", "GMV", "money"),
        Column("units", "Units", "int"),
        Column("orders", "Orders", "int"),
        Column("refunds", "Refunds", "money"),
    ]
    cur = seller.currency
    video_table = Table(
        "by_video",
        "Sales by video",
        [Column("caption", "Video"), *money_columns, Column("video", "Video id")],
        [
            {
                "video": k,
                "caption": (captions.get(k) or k)[:40],
                "gmv": g,
                "units": u,
                "orders": o,
                "refunds": r,
            }
            for k, g, u, o, r in by_video
        ],
        cur,
    )
    creator_table = Table(
        "by_creator",
        "Sales by creator",
        [Column("creator", "Creator"), *money_columns],
        [
            {
                "creator": f"@{creators[k]}" if creators.get(k) else k,
                "gmv": g,
                "units": u,
                "orders": o,
                "refunds": r,
            }
            for k, g, u, o, r in by_creator
        ],
        cur,
    )
    product_table = Table(
        "top_products",
        "Top products",
        [
            Column("product", "Product"),
            *money_columns,
            Column("impressions", "Impressions", "int"),
            Column("clicks", "Clicks", "int"),
            Column("add_to_cart", "Add to cart", "int"),
            Column("refund_share", "Refund share", "percent"),
        ],
        [
            {
                "product": titles.get(k) or k,
                "gmv": g,
                "units": u,
                "orders": o,
                "refunds": r,
                "impressions": engagement.get(k, {}).get("impression", 0),
                "clicks": engagement.get(k, {}).get("product_click", 0),
                "add_to_cart": engagement.get(k, {}).get("add_to_cart", 0),
                "refund_share": _ratio(r, g),
            }
            for k, g, u, o, r in products
        ],
        cur,
    )
    refunds_table = Table(
        "refunds",
        "Returns and refunds",
        [
            Column("product", "Product"),
            Column("refunds", "Refunded", "money"),
            Column("gmv", "GMV", "money"),
            Column("refund_share", "Refund share", "percent"),
        ],
        [
            {
                "product": titles.get(k) or k,
                "refunds": r,
                "gmv": g,
                "refund_share": _ratio(r, g),
            }
            for k, g, _u, _o, r in products
            if r
        ],
        cur,
    )
    target_row = session.get(SellerSalesTarget, (seller.id, today.year, today.month))
    target = None
    if target_row is not None:
        target = SellerTargetProgress(
            year=today.year,
            month=today.month,
            currency=target_row.currency,
            gmv_target=target_row.gmv_target_amount,
            units_target=target_row.units_target,
            gmv=month_totals.gmv if target_row.currency == cur else 0,
            units=month_totals.units,
            days_elapsed=today.day,
            days_in_month=calendar.monthrange(today.year, today.month)[1],
        )
    tables = {
        t.name: t
        for t in (series, funnel, video_table, creator_table, product_table, refunds_table)
    }
    return SellerDashboard(seller.id, window, grain, totals, previous, target, tables)


def set_seller_target(
    *,
    session: Session,
    seller: SellerProfile,
    year: int,
    month: int,
    gmv_target_amount: int,
    units_target: int,
) -> SellerSalesTarget:
    """The seller's own monthly target, in their currency (set again to change it)."""
    if not 2000 <= year <= 2200:
        raise InvalidInput("the year is between 2000 and 2200", field="year")
    if not 1 <= month <= 12:
        raise InvalidInput("the month is 1 to 12", field="month")
    if not 0 <= gmv_target_amount <= MAX_TARGET:
        raise InvalidInput("the GMV target is zero or more", field="gmv_target_amount")
    if not 0 <= units_target <= 10**9:
        raise InvalidInput("the units target is zero or more", field="units_target")
    row = session.get(SellerSalesTarget, (seller.id, year, month))
    if row is None:
        row = SellerSalesTarget(seller_id=seller.id, year=year, month=month)
        session.add(row)
    row.currency = seller.currency
    row.gmv_target_amount = gmv_target_amount
    row.units_target = units_target
    session.flush()
    return row


def table_or_404(tables: dict[str, Table], name: str) -> Table:
    table = tables.get(name)
    if table is None:
        raise NotFound(f"no table {name!r}; there are {', '.join(sorted(tables))}")
    return table


def table_csv(table: Table) -> str:
    """The table as CSV; a text cell that a spreadsheet would run as a formula is quoted
    with a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in table.csv_rows():
        writer.writerow(
            [
                f"'{cell}" if cell[:1] in ("=", "+", "-", "@") and not _is_number(cell) else cell
                for cell in row
            ]
        )
    return out.getvalue()


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
