"""Rate limits: exceeded for real, per client IP and per account, 429 + Retry-After,
windows that end, counters that stay exact under concurrent hits."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from reelshop.app import create_app
from reelshop.config import Settings
from reelshop.db import utcnow
from reelshop.security.hardening_models import RateCounter
from reelshop.security.rate_limits import DatabaseCounters, RedisCounters
from tests.factories import PASSWORD, api_login, make_user, unique_email

TIGHT: dict[str, object] = {
    "rate_limits_enabled": True,
    "rate_limit_login_per_ip": 3,
    "rate_limit_login_per_account": 4,
    "rate_limit_signup_per_ip": 2,
    "rate_limit_checkout_per_ip": 50,
    "rate_limit_checkout_per_account": 2,
    "rate_limit_search_per_ip": 4,
    "rate_limit_search_per_account": 3,
}


@pytest.fixture
def tight_app(settings: Settings) -> Any:
    return create_app(settings.model_copy(update=TIGHT))


@pytest.fixture
def from_ip(tight_app: Any) -> Iterator[Any]:
    clients: list[TestClient] = []

    def make(ip: str) -> TestClient:
        c = TestClient(tight_app, client=(ip, 50000))
        c.__enter__()
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def assert_limited(response: Any) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/rate-limited")
    wait = int(response.headers["retry-after"])
    assert 1 <= wait <= 3601


def test_the_test_environment_gets_generous_limits(settings: Settings) -> None:
    assert settings.rate_limits_enabled is False  # other tests never meet a limit
    assert settings.rate_limit_login_per_ip >= 100_000
    assert settings.rate_limit_search_per_account >= 100_000
    assert settings.rate_limit_login_window_s == 60  # windows are left as they are
    assert Settings(_env_file=None).rate_limit_login_per_ip == 30  # type: ignore[call-arg]


def test_log_in_is_limited_per_ip(from_ip: Any, session: Session) -> None:
    user = make_user(session)
    a, b = from_ip("203.0.113.1"), from_ip("203.0.113.2")
    body = {"email": user.email, "password": "bad-guess-xx"}
    for _ in range(3):
        assert a.post("/api/v1/auth/login", json=body).status_code == 401
    assert_limited(a.post("/api/v1/auth/login", json=body))
    # Right password, same IP: still limited (the limit counts attempts, not failures).
    assert_limited(a.post("/api/v1/auth/login", json={**body, "password": PASSWORD}))
    # Another IP is not held by this one.
    assert b.post("/api/v1/auth/login", json={**body, "password": PASSWORD}).status_code == 200


def test_log_in_is_limited_per_account_across_ips(from_ip: Any, session: Session) -> None:
    victim = make_user(session)
    other = make_user(session)
    body = {"email": victim.email, "password": "bad-guess-xx"}
    for i in range(4):
        assert from_ip(f"198.51.100.{i}").post("/api/v1/auth/login", json=body).status_code == 401
    assert_limited(from_ip("198.51.100.9").post("/api/v1/auth/login", json=body))
    # Another account from a fresh IP is untouched.
    ok = from_ip("198.51.100.10").post(
        "/api/v1/auth/login", json={"email": other.email, "password": PASSWORD}
    )
    assert ok.status_code == 200


def test_sign_up_is_limited_per_ip_on_api_and_page(from_ip: Any) -> None:
    a = from_ip("192.0.2.7")
    for _ in range(2):
        body = {"email": unique_email(), "name": "Ana", "password": PASSWORD}
        assert a.post("/api/v1/auth/signup", json=body).status_code == 201
    body = {"email": unique_email(), "name": "Ana", "password": PASSWORD}
    assert_limited(a.post("/api/v1/auth/signup", json=body))
    # The sign-up page shares the bucket, and answers in HTML for a browser.
    form = a.get("/signup")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    page = a.post(
        "/signup",
        data={**body, "role": "shopper", "csrf_token": token.group(1)},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert page.status_code == 429 and "try again in" in page.text
    assert from_ip("192.0.2.8").post("/api/v1/auth/signup", json=body).status_code == 201


def test_search_is_limited_per_ip_when_anonymous(from_ip: Any) -> None:
    a = from_ip("203.0.113.50")
    for _ in range(4):
        assert a.get("/api/v1/search", params={"q": "lamp"}).status_code == 200
    assert_limited(a.get("/api/v1/search", params={"q": "lamp"}))
    assert_limited(a.get("/shop/search", params={"q": "lamp"}))
    assert from_ip("203.0.113.51").get("/api/v1/search", params={"q": "lamp"}).status_code == 200


def test_search_is_limited_per_account_across_ips(from_ip: Any, session: Session) -> None:
    user = make_user(session)
    headers = api_login(from_ip("10.1.0.1"), user.email)
    for i in range(3):
        r = from_ip(f"10.1.1.{i}").get("/api/v1/search", params={"q": "lamp"}, headers=headers)
        assert r.status_code == 200
    assert_limited(from_ip("10.1.2.1").get("/api/v1/search", params={"q": "x"}, headers=headers))
    # A second token of the same account shares the account's bucket.
    headers2 = api_login(from_ip("10.1.0.2"), user.email)
    assert_limited(from_ip("10.1.2.2").get("/api/v1/search", params={"q": "x"}, headers=headers2))


def test_checkout_attempts_count_even_when_refused(from_ip: Any, session: Session) -> None:
    user = make_user(session)
    headers = api_login(from_ip("10.2.0.1"), user.email)
    for i in range(2):
        r = from_ip(f"10.2.1.{i}").post(
            "/api/v1/checkouts", json={}, headers={**headers, "Idempotency-Key": f"k-{i}-xxxxxx"}
        )
        assert 400 <= r.status_code < 500 and r.status_code != 429, r.text
    limited = from_ip("10.2.1.9").post(
        "/api/v1/checkouts", json={}, headers={**headers, "Idempotency-Key": "k-9-xxxxxx"}
    )
    assert_limited(limited)
    paying = from_ip("10.2.1.10").post(
        "/api/v1/checkouts/chk_x/payments", json={}, headers={**headers, "Idempotency-Key": "p"}
    )
    assert_limited(paying)


def test_a_window_ends(from_ip: Any, session: Session) -> None:
    a = from_ip("203.0.113.80")
    for _ in range(4):
        a.get("/api/v1/search", params={"q": "x"})
    assert_limited(a.get("/api/v1/search", params={"q": "x"}))
    session.execute(
        update(RateCounter)
        .where(RateCounter.key == "search:ip:203.0.113.80")
        .values(window_start=utcnow() - timedelta(seconds=61))
    )
    session.commit()
    assert a.get("/api/v1/search", params={"q": "x"}).status_code == 200


def test_concurrent_hits_are_counted_exactly(
    session_factory: sessionmaker[Session], engine: Any
) -> None:
    from reelshop.db import make_session_factory

    store = DatabaseCounters(make_session_factory(engine))
    seen: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def hammer() -> None:
        barrier.wait()
        for _ in range(10):
            hits, _wait = store.hit("race:key", 60)
            with lock:
                seen.append(hits)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Every hit got its own number: no two requests both saw "under the limit" for one slot.
    assert sorted(seen) == list(range(1, 81))


class FakePipeline:
    def __init__(self, data: dict[str, int]) -> None:
        self.data = data
        self.ops: list[tuple[str, tuple[Any, ...]]] = []

    def set(self, name: str, value: int, ex: int, nx: bool) -> None:
        self.ops.append(("set", (name, value, ex, nx)))

    def incr(self, name: str) -> None:
        self.ops.append(("incr", (name,)))

    def ttl(self, name: str) -> None:
        self.ops.append(("ttl", (name,)))

    def execute(self) -> list[Any]:
        out: list[Any] = []
        for op, args in self.ops:
            if op == "set":
                created = args[0] not in self.data
                if created:
                    self.data[args[0]] = args[1]
                out.append(created)
            elif op == "incr":
                self.data[args[0]] += 1
                out.append(self.data[args[0]])
            else:
                out.append(42)
        return out


def test_redis_counters_use_one_expiring_key_per_window() -> None:
    store = RedisCounters.__new__(RedisCounters)
    data: dict[str, int] = {}

    class Client:
        def pipeline(self) -> FakePipeline:
            return FakePipeline(data)

    store.client = Client()  # type: ignore[assignment]
    assert store.hit("login:ip:1.2.3.4", 60) == (1, 42)
    assert store.hit("login:ip:1.2.3.4", 60) == (2, 42)
    assert data == {"reelshop:rate:login:ip:1.2.3.4": 2}
