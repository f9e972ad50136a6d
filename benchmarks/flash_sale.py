"""Flash sale: 2,000 shoppers race over HTTP for one SKU with 100 units.

Builds a scratch database (a fresh PostgreSQL database by default, or a SQLite file
with ``--backend sqlite``), bulk-creates the shoppers with API tokens and a cart
holding one unit of the SKU each, starts the real server (uvicorn, ``--workers``
processes, loopback only), and lets every shopper ``POST /api/v1/checkouts`` at once
(asyncio + httpx, at most ``--concurrency`` requests in flight, whole race bounded
by ``--max-seconds``). Afterwards it reads the database: orders created for the SKU
must be exactly the units, oversold units 0, and the run must have had no 5xx.

In the same run it measures the ceiling: as many single-statement guarded decrements
(``UPDATE ... SET qty = qty - 1 WHERE qty > 0``) issued straight to the same database,
by as many concurrent tasks, through as many connections as the server may hold. The
ratio is ours/ceiling in attempts per second.

- ``checkouts_per_s``: checkout requests answered (201 or 409 sold-out) per second of
  the race — the same unit as the ceiling's statements per second.
- ``p99_ms``: 99th percentile latency of those requests as the client saw it.

Last line: one JSON object with keys backend, shoppers, units, orders, oversold,
errors_5xx, checkouts_per_s, p99_ms, ceiling_per_s, ratio.

    .venv/bin/python benchmarks/flash_sale.py                    # PostgreSQL
    .venv/bin/python benchmarks/flash_sale.py --backend sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ADDRESS = {
    "recipient": "Flash Shopper",
    "line1": "1 Market Street",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
}
ENGINE_CONNECTIONS_PER_WORKER = 30  # reelshop.db.make_engine: pool_size 10 + max_overflow 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


# --- database -------------------------------------------------------------------------------


def _create_pg_database(base_url: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"reelshop_flash_{os.getpid()}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    return url, name


def _drop_pg_database(base_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def build(database_url: str, shoppers: int, units: int) -> tuple[str, list[str]]:
    """The marketplace for the race; returns (sku id, API token secrets)."""
    from sqlalchemy import insert

    from reelshop.accounts import service as accounts
    from reelshop.accounts.models import ApiToken, Role, User
    from reelshop.catalog.models import Category, Product, Sku
    from reelshop.checkout.models import Cart, CartLine
    from reelshop.config import get_settings
    from reelshop.db import make_engine, make_session_factory, unit_of_work, utcnow
    from reelshop.ids import new_id
    from reelshop.inventory import service as inventory
    from reelshop.inventory.models import AdjustmentReason
    from reelshop.migrate import upgrade
    from reelshop.security import keys
    from reelshop.security.passwords import hash_password
    from reelshop.security.scopes import scopes_for
    from reelshop.sellers.models import SellerProfile, SellerStatus

    upgrade(database_url)
    keys.configure(get_settings())
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        seller_user = accounts.sign_up(
            session=session,
            email="flash-seller@example.com",
            password="flash sale seller pw",  # noqa: S106 - scratch database
            name="Flash Seller",
            role=Role.SELLER,
        )
        seller = SellerProfile(
            user_id=seller_user.id,
            display_name="Flash Deals Co.",
            legal_name="Flash Deals Co., Ltd.",
            country="CN",
            ships_from_country="CN",
            status=SellerStatus.APPROVED,
            market_codes=["US"],
            categories=["electronics"],
        )
        session.add(seller)
        category = Category(slug="electronics", name="Electronics", path="electronics")
        session.add(category)
        session.flush()
        product = Product(
            seller_id=seller.id,
            handle="flash-earbuds",
            title="Flash-sale earbuds",
            category_id=category.id,
            currency="USD",
            status="active",
        )
        product.skus.append(Sku(code="FLASH-1", price_amount=1999))
        session.add(product)
        session.flush()
        sku_id = product.skus[0].id
        location = inventory.default_location(session=session, seller_id=seller.id, country="CN")
        inventory.adjust(
            session=session,
            sku_id=sku_id,
            location_id=location.id,
            delta=units,
            reason=AdjustmentReason.RECEIVED,
        )

        shared_hash = hash_password(new_id("pwd"))
        now = utcnow()
        user_rows: list[dict[str, Any]] = []
        token_rows: list[dict[str, Any]] = []
        cart_rows: list[dict[str, Any]] = []
        line_rows: list[dict[str, Any]] = []
        secrets_out: list[str] = []
        probe = User(role=Role.SHOPPER.value)
        scopes = sorted(scopes_for(probe))
        for i in range(shoppers):
            email = f"flash{i:05d}@example.com"
            user_id = new_id("usr")
            user_rows.append(
                {
                    "id": user_id,
                    "email_hash": keys.email_lookup_hash(email),
                    "email": email,
                    "name": f"Shopper {i}",
                    "phone": None,
                    "handle": None,
                    "password_hash": shared_hash,
                    "role": Role.SHOPPER.value,
                    "staff_permissions": [],
                    "market_code": "US",
                    "locale": "en_US",
                    "is_active": True,
                    "session_version": 1,
                }
            )
            secret = accounts.TOKEN_PREFIX + secrets.token_urlsafe(32)
            secrets_out.append(secret)
            token_rows.append(
                {
                    "id": new_id("tok"),
                    "user_id": user_id,
                    "name": "flash sale",
                    "token_hash": accounts._hash_token(secret),
                    "display_prefix": secret[:10],
                    "scopes": scopes,
                    "last_used_at": now,  # so the race does not spend writes on it
                }
            )
            cart_id = new_id("crt")
            cart_rows.append({"id": cart_id, "shopper_id": user_id, "updated_at": now})
            line_rows.append(
                {
                    "id": new_id("crl"),
                    "cart_id": cart_id,
                    "sku_id": sku_id,
                    "quantity": 1,
                    "price_seen_amount": 1999,
                    "currency": "USD",
                }
            )
        session.execute(insert(User), user_rows)
        session.execute(insert(ApiToken), token_rows)
        session.execute(insert(Cart), cart_rows)
        session.execute(insert(CartLine), line_rows)
    engine.dispose()
    return sku_id, secrets_out


def outcome(database_url: str, sku_id: str, units: int) -> tuple[int, int]:
    """(orders holding the SKU, units oversold) read back from the database."""
    from sqlalchemy import func, select

    from reelshop.checkout.models import Order, OrderLine, OrderStatus
    from reelshop.db import make_engine, make_session_factory
    from reelshop.inventory.models import StockLevel

    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        orders = session.scalar(
            select(func.count(func.distinct(Order.id)))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(OrderLine.sku_id == sku_id, Order.status != OrderStatus.CANCELLED)
        )
        sold = session.scalar(
            select(func.coalesce(func.sum(OrderLine.quantity), 0))
            .join(Order, Order.id == OrderLine.order_id)
            .where(OrderLine.sku_id == sku_id, Order.status != OrderStatus.CANCELLED)
        )
        level = session.scalars(select(StockLevel).where(StockLevel.sku_id == sku_id)).one()
        over_reserved = max(0, level.reserved - level.on_hand)
    engine.dispose()
    return int(orders or 0), max(0, int(sold or 0) - units) + over_reserved


# --- the race -------------------------------------------------------------------------------


async def race(
    base_url: str, secrets_in: list[str], concurrency: int, max_seconds: float
) -> tuple[list[float], dict[int, int], int, float]:
    """Every shopper places their cart once. Returns latencies (ms), status counts,
    transport errors, wall seconds."""
    gate = asyncio.Semaphore(concurrency)
    start_line = asyncio.Event()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    transport_errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(max_seconds, connect=max_seconds)

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:

        async def shopper(secret: str) -> None:
            nonlocal transport_errors
            await start_line.wait()
            async with gate:
                began = time.perf_counter()
                try:
                    response = await client.post(
                        "/api/v1/checkouts",
                        json={"address": ADDRESS},
                        headers={
                            "Authorization": f"Bearer {secret}",
                            "Idempotency-Key": str(uuid.uuid4()),
                        },
                    )
                except httpx.HTTPError:
                    transport_errors += 1
                    return
                latencies.append((time.perf_counter() - began) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        tasks = [asyncio.create_task(shopper(s)) for s in secrets_in]
        await asyncio.sleep(0.2)
        began = time.perf_counter()
        start_line.set()
        _done, pending = await asyncio.wait(tasks, timeout=max_seconds)
        for task in pending:
            task.cancel()
        wall = time.perf_counter() - began
    return latencies, statuses, transport_errors + len(pending), wall


# --- the ceiling ----------------------------------------------------------------------------


async def _pg_ceiling(database_url: str, attempts: int, units: int, connections: int) -> float:
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS flash_ceiling (id int PRIMARY KEY, qty int)")
        conn.execute("DELETE FROM flash_ceiling")
        conn.execute("INSERT INTO flash_ceiling VALUES (1, %s)", (units,))
    idle: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await psycopg.AsyncConnection.connect(dsn, autocommit=True))
    start_line = asyncio.Event()

    async def decrement() -> None:
        await start_line.wait()
        conn = await idle.get()
        try:
            await conn.execute("UPDATE flash_ceiling SET qty = qty - 1 WHERE id = 1 AND qty > 0")
        finally:
            idle.put_nowait(conn)

    tasks = [asyncio.create_task(decrement()) for _ in range(attempts)]
    await asyncio.sleep(0.2)
    began = time.perf_counter()
    start_line.set()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - began
    while not idle.empty():
        await idle.get_nowait().close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        left = conn.execute("SELECT qty FROM flash_ceiling WHERE id = 1").fetchone()
        assert left is not None and left[0] == 0, left
        conn.execute("DROP TABLE flash_ceiling")
    return attempts / wall


def _sqlite_ceiling(path: str, attempts: int, units: int, threads: int) -> float:
    setup = sqlite3.connect(path, isolation_level=None, timeout=60)
    setup.execute("CREATE TABLE IF NOT EXISTS flash_ceiling (id INTEGER PRIMARY KEY, qty INTEGER)")
    setup.execute("DELETE FROM flash_ceiling")
    setup.execute("INSERT INTO flash_ceiling VALUES (1, ?)", (units,))
    remaining = list(range(attempts))
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def worker() -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=60)
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA synchronous=NORMAL")
        barrier.wait()
        while True:
            with lock:
                if not remaining:
                    break
                remaining.pop()
            conn.execute("UPDATE flash_ceiling SET qty = qty - 1 WHERE id = 1 AND qty > 0")
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    for t in pool:
        t.join()
    wall = time.perf_counter() - began
    left = setup.execute("SELECT qty FROM flash_ceiling WHERE id = 1").fetchone()
    assert left[0] == 0, left
    setup.execute("DROP TABLE flash_ceiling")
    setup.close()
    return attempts / wall


# --- main -----------------------------------------------------------------------------------


def _wait_ready(base_url: str, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited before it was ready")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pg-url", default=os.environ.get("REELSHOP_BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--shoppers", type=int, default=2000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--workers", type=int, default=max(2, min(4, os.cpu_count() or 2)))
    parser.add_argument("--concurrency", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=180.0)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="reelshop-flash-"))
    pg_name: str | None = None
    if args.backend == "postgres":
        database_url, pg_name = _create_pg_database(args.pg_url)
    else:
        database_url = f"sqlite:///{scratch / 'flash.db'}"
    os.environ["REELSHOP_DATABASE_URL"] = database_url
    os.environ["REELSHOP_DATA_DIR"] = str(scratch / "data")
    server: subprocess.Popen[bytes] | None = None
    try:
        t0 = time.perf_counter()
        sku_id, tokens = build(database_url, args.shoppers, args.units)
        print(f"built {args.shoppers} shoppers with carts in {time.perf_counter() - t0:.1f}s")
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "REELSHOP_LOG_LEVEL": "WARNING",
            "REELSHOP_HOST": "127.0.0.1",
            "REELSHOP_PORT": str(port),
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "reelshop.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--no-access-log",
                "--log-level",
                "warning",
                "--backlog",
                str(max(2048, args.concurrency)),
            ],
            env=env,
        )
        _wait_ready(base_url, server)
        latencies, statuses, transport_errors, wall = asyncio.run(
            race(base_url, tokens, args.concurrency, args.max_seconds)
        )
        orders, oversold = outcome(database_url, sku_id, args.units)
        errors_5xx = sum(n for code, n in statuses.items() if code >= 500)
        answered = sum(statuses.values())
        checkouts_per_s = answered / wall if wall > 0 else 0.0
        connections = min(args.workers * ENGINE_CONNECTIONS_PER_WORKER, 90, args.concurrency)
        if args.backend == "postgres":
            ceiling = asyncio.run(_pg_ceiling(database_url, args.shoppers, args.units, connections))
        else:
            ceiling = _sqlite_ceiling(
                str(scratch / "flash.db"), args.shoppers, args.units, min(args.concurrency, 64)
            )
        print(
            json.dumps(
                {
                    "statuses": {str(k): v for k, v in sorted(statuses.items())},
                    "transport_errors": transport_errors,
                    "wall_s": round(wall, 3),
                    "p50_ms": round(_percentile(latencies, 50), 1),
                    "workers": args.workers,
                    "concurrency": args.concurrency,
                    "ceiling_connections": connections
                    if args.backend == "postgres"
                    else min(args.concurrency, 64),
                }
            )
        )
        print(
            json.dumps(
                {
                    "backend": args.backend,
                    "shoppers": args.shoppers,
                    "units": args.units,
                    "orders": orders,
                    "oversold": oversold,
                    "errors_5xx": errors_5xx + transport_errors,
                    "checkouts_per_s": round(checkouts_per_s, 1),
                    "p99_ms": round(_percentile(latencies, 99), 1),
                    "ceiling_per_s": round(ceiling, 1),
                    "ratio": round(checkouts_per_s / ceiling, 4) if ceiling else 0.0,
                }
            )
        )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if pg_name is not None:
            _drop_pg_database(args.pg_url, pg_name)


if __name__ == "__main__":
    main()
