"""Log-in throttling: guessers get locked out; the account's owner never for good."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from reelshop.accounts import service as accounts
from reelshop.accounts.models import LoginThrottle
from reelshop.config import Settings
from reelshop.db import utcnow
from reelshop.errors import ProblemError, RateLimited
from tests.factories import PASSWORD, make_user


def attempt(
    session: Session,
    settings: Settings,
    password: str,
    ip: str = "10.0.0.1",
    trusted_for: str | None = None,
) -> str:
    try:
        accounts.authenticate(
            session=session,
            settings=settings,
            email="v@example.com",
            password=password,
            client_ip=ip,
            trusted_device_for=trusted_for,
        )
    except RateLimited:
        session.commit()
        return "locked"
    except ProblemError:
        session.commit()
        return "wrong"
    session.commit()
    return "ok"


def test_pair_locks_after_max_failures_and_then_even_right_password_waits(
    session: Session, settings: Settings
) -> None:
    make_user(session, email="v@example.com")
    results = [
        attempt(session, settings, "bad-guess-xx") for _ in range(settings.login_max_failures)
    ]
    assert results == ["wrong"] * settings.login_max_failures
    assert attempt(session, settings, PASSWORD) == "locked"
    # Another client is not held by this client's lock.
    assert attempt(session, settings, PASSWORD, ip="10.0.0.2") == "ok"


def test_locks_expire_and_are_capped(session: Session, settings: Settings) -> None:
    make_user(session, email="v@example.com")
    for _ in range(settings.login_max_failures + 30):
        attempt(session, settings, "bad-guess-xx")
    rows = session.query(LoginThrottle).all()
    now = utcnow()
    for row in rows:
        if row.locked_until is not None:
            assert row.locked_until - now <= timedelta(seconds=settings.login_lockout_max_s + 1)
    # Time passes beyond the cap: the owner gets in.
    session.execute(update(LoginThrottle).values(locked_until=now - timedelta(seconds=1)))
    session.commit()
    assert attempt(session, settings, PASSWORD) == "ok"


def test_attacker_cannot_lock_owner_with_trusted_device(
    session: Session, settings: Settings
) -> None:
    owner = make_user(session, email="v@example.com")
    # An attacker sprays wrong passwords from many addresses: the account-wide lock trips.
    for i in range(settings.login_account_max_failures + 5):
        attempt(session, settings, "bad-guess-xx", ip=f"203.0.113.{i % 250}")
    assert attempt(session, settings, PASSWORD, ip="198.51.100.7") == "locked"
    # The owner, on a browser where they logged in before, still gets in.
    assert attempt(session, settings, PASSWORD, ip="198.51.100.7", trusted_for=owner.id) == "ok"


@pytest.mark.parametrize("via_api", [True])
def test_api_lockout_returns_429_with_retry_after(
    client, session: Session, settings: Settings, via_api: bool
) -> None:
    make_user(session, email="v@example.com")
    for _ in range(settings.login_max_failures):
        r = client.post(
            "/api/v1/auth/login", json={"email": "v@example.com", "password": "bad-guess-x"}
        )
        assert r.status_code == 401
    locked = client.post(
        "/api/v1/auth/login", json={"email": "v@example.com", "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    assert locked.json()["type"] == "/problems/rate-limited"
