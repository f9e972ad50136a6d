"""Crash test: the real server (uvicorn in a subprocess) under a load of checkouts,
payments and webhooks is killed with SIGKILL mid-load and restarted. Clients retry with
their Idempotency-Keys, the simulated processor redelivers its webhooks, and then:

- the ledger verifies (``reelshop ledger verify``'s checks);
- no order is paid twice (exactly one capture entry per paid order, none for others);
- stock on hand + units sold == the initial stock, for every SKU;
- every captured payment's checkout is paid, and no checkout has two live payments.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout.models import Checkout, Order, OrderLine
from reelshop.config import Settings
from reelshop.db import utcnow
from reelshop.inventory.models import StockLevel
from reelshop.payments.models import JournalEntry, Payment, SimulatedWebhook
from reelshop.payments.simulator import deliver_due_webhooks, http_poster
from reelshop.payments.verify import verify
from tests.checkout.helpers import ADDRESS
from tests.factories import PASSWORD, make_user
from tests.payments.helpers import APPROVE, CHALLENGE, INSUFFICIENT_FUNDS, make_shop, processor

SHOPPERS = 8
PURCHASES_EACH = 4
UNITS_PER_SKU = 12
SKUS = 3
KILL_AFTER_CHECKOUTS = 10
CARDS = [APPROVE] * 6 + [INSUFFICIENT_FUNDS, CHALLENGE]  # challenges are never completed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, settings: Settings, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "REELSHOP_ENV": "test",
            "REELSHOP_DATABASE_URL": settings.database_url,
            "REELSHOP_DATA_DIR": str(settings.data_dir),
            "REELSHOP_LOG_LEVEL": "ERROR",
            "REELSHOP_LOG_JSON": "false",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "reelshop.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    srv = Server(settings, _free_port())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@dataclass
class Load:
    placed: int = 0
    paid_requests: int = 0
    connection_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    enough: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def count(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


def _retrying(load: Load, send: Any) -> httpx.Response:
    """Send until the server answers (same request, same Idempotency-Key)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            response: httpx.Response = send()
        except httpx.HTTPError:
            with load.lock:
                load.connection_errors += 1
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            continue
        load.count(response.status_code)
        if response.status_code >= 400:
            with load.lock:
                load.problems.append(f"{response.request.url.path} {response.text[:160]}")
        if response.status_code >= 500 or (
            response.status_code == 409 and ("in-progress" in response.text)
        ):
            time.sleep(0.05)
            continue
        return response


def _shop(load: Load, base: str, token: str, sku_ids: list[str], rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        for _ in range(PURCHASES_EACH):
            sku = rng.choice(sku_ids)
            cart_key = str(uuid.uuid4())
            added = _retrying(
                load,
                lambda sku=sku, key=cart_key: http.post(
                    "/api/v1/cart/lines",
                    json={"sku_id": sku, "quantity": rng.randint(1, 2)},
                    headers={"Idempotency-Key": key},
                ),
            )
            if added.status_code != 201:
                continue
            checkout_key = str(uuid.uuid4())
            placed = _retrying(
                load,
                lambda key=checkout_key: http.post(
                    "/api/v1/checkouts",
                    json={"address": ADDRESS},
                    headers={"Idempotency-Key": key},
                ),
            )
            if placed.status_code != 201:
                # Out of stock: empty the cart and go on.
                cart = _retrying(load, lambda: http.get("/api/v1/cart"))
                for line in cart.json().get("lines", []):
                    _retrying(
                        load,
                        lambda line_id=line["id"]: http.delete(f"/api/v1/cart/lines/{line_id}"),
                    )
                continue
            with load.lock:
                load.placed += 1
                if load.placed >= KILL_AFTER_CHECKOUTS:
                    load.enough.set()
            checkout_id = placed.json()["id"]
            pay_key = str(uuid.uuid4())
            card = rng.choice(CARDS)
            _retrying(
                load,
                lambda key=pay_key, card=card, checkout_id=checkout_id: http.post(
                    f"/api/v1/checkouts/{checkout_id}/payments",
                    json={"card_number": card},
                    headers={"Idempotency-Key": key},
                ),
            )
            with load.lock:
                load.paid_requests += 1


def _deliver_webhooks(
    factory: sessionmaker[Session], settings: Settings, url: str, load: Load
) -> None:
    rng = random.Random(20261124)
    proc = processor(settings)
    post = http_poster(url, timeout_s=5)
    while not load.done.is_set():
        deliver_due_webhooks(factory, proc, post, rng=rng, duplicate_rate=0.3, limit=20)
        time.sleep(0.05)


def _initial_stock(session: Session, sku_ids: list[str]) -> dict[str, int]:
    return {
        sku: int(
            session.scalar(select(func.sum(StockLevel.on_hand)).where(StockLevel.sku_id == sku))
            or 0
        )
        for sku in sku_ids
    }


def test_kill_9_mid_load_loses_nothing_and_pays_nothing_twice(
    server: Server,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    sku_ids = [
        make_shop(session, price_cents=1000 + 250 * i, stock=UNITS_PER_SKU)[1].skus[0].id
        for i in range(SKUS)
    ]
    initial = _initial_stock(session, sku_ids)
    assert set(initial.values()) == {UNITS_PER_SKU}
    emails = [make_user(session).email for _ in range(SHOPPERS)]
    session.rollback()
    tokens = []
    for email in emails:
        login = httpx.post(
            server.url + "/api/v1/auth/login",
            json={"email": email, "password": PASSWORD},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        tokens.append(login.json()["secret"])
    session.rollback()

    load = Load()
    webhook_url = server.url + "/api/v1/payments/webhooks/simulated"
    deliverer = threading.Thread(
        target=_deliver_webhooks, args=(session_factory, settings, webhook_url, load)
    )
    shoppers = [
        threading.Thread(target=_shop, args=(load, server.url, t, sku_ids, random.Random(i)))
        for i, t in enumerate(tokens)
    ]
    deliverer.start()
    for t in shoppers:
        t.start()
    assert load.enough.wait(timeout=60), "the load never got going"
    server.kill()  # SIGKILL: no shutdown, no flush, transactions in flight just stop
    killed_at = load.placed
    time.sleep(0.5)
    server.start()
    for t in shoppers:
        t.join(timeout=120)
        assert not t.is_alive(), "a shopper never finished"
    # Let the processor redeliver whatever it could not deliver while the server was down.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        session.rollback()
        if not session.scalar(
            select(func.count())
            .select_from(SimulatedWebhook)
            .where(SimulatedWebhook.delivered_at.is_(None))
        ):
            break
        deliver_due_webhooks(
            session_factory,
            processor(settings),
            http_poster(webhook_url, timeout_s=5),
            rng=random.Random(1),
            duplicate_rate=0.3,
            now=utcnow() + timedelta(hours=1),  # past any back-off
        )
    load.done.set()
    deliverer.join(timeout=30)

    session.rollback()
    assert killed_at < SHOPPERS * PURCHASES_EACH, "the kill came after the load"
    assert load.connection_errors > 0, "nobody noticed the crash"
    assert 500 not in load.statuses, load.statuses
    # Every checkout a client was told about exists (an answer is sent only after commit).
    assert 404 not in load.statuses, load.problems
    assert not session.scalar(
        select(func.count())
        .select_from(SimulatedWebhook)
        .where(SimulatedWebhook.delivered_at.is_(None))
    )

    report = verify(session=session)
    assert report.ok, report.violations
    print(  # the figures behind the assertions, with -s
        f"killed after {killed_at} checkouts; {load.placed} placed, "
        f"{load.paid_requests} pay requests, {load.connection_errors} connection errors, "
        f"statuses {dict(sorted(load.statuses.items()))}, {report.entries} journal entries"
    )
    print("\n".join(load.problems))

    paid_orders = set(session.scalars(select(Order.id).where(Order.paid_at.is_not(None))))
    captures = dict(
        session.execute(
            select(JournalEntry.order_id, func.count())
            .where(JournalEntry.kind == "capture")
            .group_by(JournalEntry.order_id)
        ).all()
    )
    assert paid_orders, "nothing was paid"
    assert set(captures) == paid_orders
    assert set(captures.values()) == {1}

    sold = dict(
        session.execute(
            select(OrderLine.sku_id, func.sum(OrderLine.quantity))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.paid_at.is_not(None))
            .group_by(OrderLine.sku_id)
        ).all()
    )
    on_hand = _initial_stock(session, sku_ids)
    for sku in sku_ids:
        assert on_hand[sku] + int(sold.get(sku, 0)) == initial[sku], (sku, on_hand, sold)

    for payment in session.scalars(select(Payment)):
        chk = session.get(Checkout, payment.checkout_id)
        assert chk is not None
        if payment.status == "captured":
            assert chk.status == "paid"
    live = session.execute(
        select(Payment.checkout_id, func.count())
        .where(Payment.status.not_in(["failed", "voided"]))
        .group_by(Payment.checkout_id)
        .having(func.count() > 1)
    ).all()
    assert live == []
