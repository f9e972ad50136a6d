"""Demo analytics: the seeded orders as events, plus 90 days of SYNTHETIC history before
today so the dashboards have trends, a funnel and attribution to show; a yearly GMV
target and the demo seller's monthly target.

The history's orders exist only as events (ids ``seed-…``), not in the ledger: the staff
page's ledger check says so. Generated with numpy and written per day with pyarrow, so
the step stays well under a few seconds.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.analytics import facts
from reelshop.analytics.events import (
    BEHAVIOUR,
    MONEY,
    MONEY_KINDS,
    SCHEMA,
    partition_dir,
    write_rows,
    write_table,
)
from reelshop.analytics.models import ALL_MARKETS, GmvTarget, SellerSalesTarget
from reelshop.catalog.models import Category, Product, ProductStatus, Sku
from reelshop.checkout.models import Order
from reelshop.config import get_settings
from reelshop.feed.models import Video, VideoProductTag
from reelshop.payments.models import Refund
from reelshop.sellers.models import SellerProfile

if TYPE_CHECKING:
    from reelshop.seed import SeedContext

log = logging.getLogger("reelshop.analytics.seed")

HISTORY_DAYS = 90
COMMISSION_BP = 800
SHIPPING = 499
# Events per purchase at each earlier funnel stage (a plausible social-commerce shape).
FUNNEL_RATIOS = {
    "impression": 40.0,
    "product_click": 4.0,
    "add_to_cart": 2.0,
    "checkout_start": 1.3,
}


def _catalogue(session: Session) -> list[tuple[str, str, str, str, int, str]]:
    """(product, seller, top-level category, seller country, price, currency) of USD shops."""
    rows = session.execute(
        select(
            Product.id,
            Product.seller_id,
            Category.path,
            SellerProfile.country,
            Sku.price_amount,
            Product.currency,
        )
        .join(Category, Category.id == Product.category_id)
        .join(SellerProfile, SellerProfile.id == Product.seller_id)
        .join(Sku, Sku.product_id == Product.id)
        .where(Product.status == ProductStatus.ACTIVE, Product.currency == "USD")
        .order_by(Product.id, Sku.position)
    ).all()
    seen: dict[str, tuple[str, str, str, str, int, str]] = {}
    for pid, seller, path, country, price, currency in rows:
        seen.setdefault(pid, (pid, seller, path.split("/", 1)[0], country, int(price), currency))
    return list(seen.values())


def _day_table(columns: dict[str, Any], n: int) -> pa.Table:
    arrays = []
    for field in SCHEMA:
        value = columns.get(field.name)
        if value is None:
            arrays.append(pa.nulls(n, type=field.type))
        elif isinstance(value, pa.Array | pa.ChunkedArray):
            arrays.append(value.cast(field.type))
        else:
            arrays.append(pa.array(value, type=field.type))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def _ids(prefix: str, n: int) -> pa.Array:
    return pc.binary_join_element_wise(
        pa.scalar(prefix), pa.array(np.arange(n)).cast(pa.string()), ""
    )


def _times(day: datetime, seconds: np.ndarray[Any, Any]) -> pa.Array:
    base = np.datetime64(day.replace(tzinfo=None), "us")
    stamps = base + (seconds.astype(np.int64) * 1_000_000).astype("timedelta64[us]")
    return pa.array(stamps).cast(pa.timestamp("us", tz="UTC"))


def _repeat(value: str, n: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype=np.int32)), pa.array([value])
    ).cast(pa.string())


def _history(
    ctx: SeedContext,
    rng: np.random.Generator,
    catalogue: list[tuple[str, str, str, str, int, str]],
    videos: dict[str, list[tuple[str, str | None]]],
    demo_seller: str | None,
    root: Any,
    today: datetime,
) -> dict[str, int]:
    """Write the synthetic days; returns GMV figures for the targets' arithmetic."""
    products = pa.array([c[0] for c in catalogue])
    sellers_np = np.array([c[1] for c in catalogue], dtype=object)
    sellers = pa.array(sellers_np.tolist())
    categories = pa.array([c[2] for c in catalogue])
    countries = pa.array([c[3] for c in catalogue])
    prices = np.array([c[4] for c in catalogue], dtype=np.int64)
    weight = 1.0 / np.arange(1, len(catalogue) + 1) ** 0.7
    rng.shuffle(weight)
    if demo_seller is not None:
        weight[sellers_np == demo_seller] *= 4.0  # the demo seller is one of the bigger shops
    weight /= weight.sum()
    video_of = [videos.get(c[0], []) for c in catalogue]
    per_day = 40 + ctx.scale.sellers // 4
    shoppers = pa.array(ctx.shopper_ids or ["usr_seed"])
    totals = {"gmv": 0, "month_gmv": 0, "month_units": 0, "trailing_gmv": 0}
    month_start = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    def dims(rows: np.ndarray[Any, Any]) -> dict[str, Any]:
        idx = pa.array(rows)
        return {
            "product_id": pc.take(products, idx),
            "seller_id": pc.take(sellers, idx),
            "category": pc.take(categories, idx),
            "seller_country": pc.take(countries, idx),
            "user_id": pc.take(shoppers, pa.array(rng.integers(0, len(shoppers), len(rows)))),
            "market": _repeat("US", len(rows)),
        }

    for back in range(HISTORY_DAYS, 0, -1):
        day = (today - timedelta(days=back)).replace(hour=0, minute=0, second=0, microsecond=0)
        trend = 1.0 + 0.6 * (HISTORY_DAYS - back) / HISTORY_DAYS  # growing towards today
        weekend = 1.15 if day.weekday() >= 5 else 1.0
        n = int(rng.poisson(per_day * trend * weekend))
        if n == 0:
            continue
        pick = rng.choice(len(catalogue), size=n, p=weight)
        units = rng.choice([1, 1, 1, 2, 2, 3], size=n)
        amount = prices[pick] * units + SHIPPING
        with_video = rng.random(n) < 0.45
        vids: list[str | None] = [None] * n
        creators: list[str | None] = [None] * n
        for i in np.flatnonzero(with_video):
            options = video_of[pick[i]]
            if options:
                vids[i], creators[i] = options[int(rng.integers(len(options)))]
        stamp = f"{day:%Y%m%d}"
        order_ids = _ids(f"seed-{stamp}-", n)
        purchase = {
            **dims(pick),
            "event_id": pc.binary_join_element_wise(pa.scalar("purchase:"), order_ids, ""),
            "kind": _repeat("purchase", n),
            "occurred_at": _times(day, rng.integers(0, 86_400, n)),
            "video_id": vids,
            "creator_id": creators,
            "order_id": order_ids,
            "currency": _repeat("USD", n),
            "amount": amount,
            "commission": prices[pick] * units * COMMISSION_BP // 10_000,
            "units": units,
        }
        day_table = _day_table(purchase, n)
        tables = [day_table]
        refunded = np.flatnonzero(rng.random(n) < 0.04)
        if refunded.size:
            taken = day_table.take(pa.array(refunded))
            refund_ids = pc.binary_join_element_wise(
                pa.scalar("refund:"), taken.column("order_id"), ""
            )
            taken = taken.set_column(0, "event_id", refund_ids)
            taken = taken.set_column(1, "kind", _repeat("refund", refunded.size))
            for name in ("commission", "units"):
                i = SCHEMA.get_field_index(name)
                taken = taken.set_column(i, name, pa.nulls(refunded.size, SCHEMA.field(name).type))
            tables.append(taken)
        for kind, ratio in FUNNEL_RATIOS.items():
            m = int(n * ratio)
            src = (
                rng.choice(len(catalogue), size=m, p=weight)
                if kind == "impression"
                else pick[rng.integers(0, n, size=m)]
            )
            tables.append(
                _day_table(
                    {
                        **dims(src),
                        "event_id": _ids(f"seed:{kind}:{stamp}:", m),
                        "kind": _repeat(kind, m),
                        "occurred_at": _times(day, rng.integers(0, 86_400, m)),
                        "units": np.ones(m, dtype=np.int32)
                        if kind in ("add_to_cart", "checkout_start")
                        else None,
                    },
                    m,
                )
            )
        everything = pa.concat_tables(tables)
        is_money = pc.is_in(everything.column("kind"), pa.array(sorted(MONEY_KINDS)))
        for stream, part in (
            (MONEY, everything.filter(is_money)),
            (BEHAVIOUR, everything.filter(pc.invert(is_money))),
        ):
            folder = partition_dir(root, f"{day:%Y-%m-%d}", stream)
            folder.mkdir(parents=True, exist_ok=True)
            write_table(part, folder / "seed-history.parquet")
        gmv = int(amount.sum())
        totals["gmv"] += gmv
        if back <= 30:
            totals["trailing_gmv"] += gmv
        if day >= month_start and demo_seller is not None:
            mine = sellers_np[pick] == demo_seller
            totals["month_gmv"] += int(amount[mine].sum())
            totals["month_units"] += int(units[mine].sum())
    return totals


def seed_analytics(session: Session, ctx: SeedContext) -> None:
    root = get_settings().analytics_path
    now = datetime.now(UTC)
    # The seeded orders, checkouts and refunds, exactly as the outbox handlers write them
    # (the worker writes the same event ids again when it delivers their events).
    rows: list[dict[str, Any]] = []
    for order_id in session.scalars(select(Order.id).order_by(Order.placed_at, Order.id)):
        rows += facts.checkout_rows(session=session, order_id=order_id)
        rows += facts.purchase_rows(session=session, order_id=order_id)
    for refund_id in session.scalars(select(Refund.id)):
        rows += facts.refund_rows(session=session, refund_id=refund_id)
    if rows:
        full = [{**dict.fromkeys(SCHEMA.names), **row} for row in rows]
        write_rows(root, full, name="seed-orders")
    catalogue = _catalogue(session)
    if not catalogue:
        return
    videos: dict[str, list[tuple[str, str | None]]] = {}
    for video_id, product_id, affiliate in session.execute(
        select(
            VideoProductTag.video_id, VideoProductTag.product_id, VideoProductTag.affiliate_user_id
        )
        .join(Video, Video.id == VideoProductTag.video_id)
        .order_by(VideoProductTag.video_id, VideoProductTag.product_id)
    ):
        videos.setdefault(product_id, []).append((video_id, affiliate))
    demo_seller = ctx.seller_ids[0] if ctx.seller_ids else None
    rng = np.random.default_rng(ctx.rng.getrandbits(32))
    totals = _history(ctx, rng, catalogue, videos, demo_seller, root, now)
    # The operator's yearly target: a run-rate a little short of it, from a baseline a
    # quarter of the target ("from $5B to $20B", at demo scale).
    run_rate = totals["trailing_gmv"] * 365 // 30
    target = max(100_000, -(-int(run_rate * 1.15) // 100_000_00) * 100_000_00)
    session.add(
        GmvTarget(
            year=now.year,
            market_code=ALL_MARKETS,
            currency="USD",
            baseline_amount=target // 4,
            target_amount=target,
            set_by=None,
        )
    )
    if demo_seller is not None:
        seller_currency = session.scalar(
            select(SellerProfile.currency).where(SellerProfile.id == demo_seller)
        )
        days_so_far = max(1, now.day - 1)
        pace = totals["month_gmv"] / days_so_far * 30 if now.day > 1 else 500_000
        session.add(
            SellerSalesTarget(
                seller_id=demo_seller,
                year=now.year,
                month=now.month,
                currency=seller_currency or "USD",
                gmv_target_amount=max(10_000, -(-int(pace * 1.1) // 10_000) * 10_000),
                units_target=max(10, int(totals["month_units"] / days_so_far * 30 * 1.1)),
            )
        )
    session.flush()
    log.info("analytics seeded", extra={"history_gmv": totals["gmv"]})
