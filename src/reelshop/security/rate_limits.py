"""Rate limits per client IP and per account on log-in, sign-up, checkout and search.

A fixed-window counter per key ("login:ip:203.0.113.9", "checkout:acct:usr_…"): the
first hit opens a window of ``window_s`` seconds, hits past the limit inside it are
answered 429 with ``Retry-After`` until the window ends. Counters live in Redis when
``REELSHOP_REDIS_URL`` is set (shared by every app process), else in the database's
``rate_counters`` table, one atomic upsert per hit, in a transaction of its own so a
refused or failing request still counts.

The limits are settings (``REELSHOP_RATE_LIMIT_<RULE>_PER_IP`` / ``_PER_ACCOUNT`` /
``_WINDOW_S``). One app-wide dependency (:func:`enforce_rate_limits`) applies them by
route, before the route opens its own unit of work; the per-account log-in limit is
counted by ``accounts.authenticate``, which knows the account from the email typed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from fastapi import Request
from sqlalchemy import case, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from reelshop.accounts.models import ApiToken
from reelshop.config import Settings
from reelshop.db import insert_on_conflict, unit_of_work, utcnow
from reelshop.errors import RateLimited
from reelshop.security.hardening_models import RateCounter


@dataclass(frozen=True)
class Limit:
    rule: str
    per_ip: int
    per_account: int
    window_s: int


def limits_from(settings: Settings) -> dict[str, Limit]:
    return {
        rule: Limit(
            rule,
            getattr(settings, f"rate_limit_{rule}_per_ip"),
            getattr(settings, f"rate_limit_{rule}_per_account"),
            getattr(settings, f"rate_limit_{rule}_window_s"),
        )
        for rule in RULES
    }


RULES = ("login", "signup", "checkout", "search")

# (method, path pattern) -> rule. Patterns, so ids in the path do not make new buckets.
ROUTE_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), rule)
    for method, pattern, rule in (
        ("POST", r"^/api/v1/auth/login(/totp)?$", "login"),
        ("POST", r"^/login(/totp)?$", "login"),
        ("POST", r"^/api/v1/auth/signup$", "signup"),
        ("POST", r"^/signup$", "signup"),
        ("POST", r"^/api/v1/checkouts$", "checkout"),
        ("POST", r"^/api/v1/checkouts/[^/]+/payments$", "checkout"),
        ("POST", r"^/checkout$", "checkout"),
        ("POST", r"^/checkout/[^/]+/pay$", "checkout"),
        ("GET", r"^/api/v1/search$", "search"),
        ("GET", r"^/shop/search$", "search"),
    )
)


def rule_for(method: str, path: str) -> str | None:
    for rule_method, pattern, rule in ROUTE_RULES:
        if method == rule_method and pattern.match(path):
            return rule
    return None


class CounterStore(Protocol):
    def hit(self, key: str, window_s: int) -> tuple[int, int]:
        """Count one hit; returns (hits in the current window, seconds until it ends)."""


def _count_in(session: Session, key: str, window_s: int, now: datetime) -> tuple[int, int]:
    cutoff = now - timedelta(seconds=window_s)
    expired = RateCounter.window_start <= cutoff
    insert = insert_on_conflict(session, RateCounter).values(key=key, window_start=now, hits=1)
    upsert = insert.on_conflict_do_update(
        index_elements=[RateCounter.key],
        set_={
            "hits": case((expired, 1), else_=RateCounter.hits + 1),
            "window_start": case((expired, now), else_=RateCounter.window_start),
        },
    ).returning(RateCounter.hits, RateCounter.window_start)
    hits, started = session.execute(upsert).one()
    if started.tzinfo is None:  # SQLite's RETURNING hands back the stored naive value
        started = started.replace(tzinfo=now.tzinfo)
    ends_in = (started + timedelta(seconds=window_s) - now).total_seconds()
    return int(hits), max(1, int(ends_in) + 1)


def count_hit(*, session: Session, key: str, window_s: int) -> tuple[int, int]:
    """Count a hit inside the caller's transaction (the caller commits even on refusal)."""
    return _count_in(session, key, window_s, utcnow())


class DatabaseCounters:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def hit(self, key: str, window_s: int) -> tuple[int, int]:
        with unit_of_work(self.factory) as session:
            return _count_in(session, key, window_s, utcnow())


class RedisCounters:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)

    def hit(self, key: str, window_s: int) -> tuple[int, int]:
        name = f"reelshop:rate:{key}"
        pipe = self.client.pipeline()
        pipe.set(name, 0, ex=window_s, nx=True)
        pipe.incr(name)
        pipe.ttl(name)
        _created, hits, ttl = pipe.execute()
        return int(hits), max(1, int(ttl))


def make_counters(settings: Settings, factory: sessionmaker[Session]) -> CounterStore:
    if settings.redis_url:
        return RedisCounters(settings.redis_url)
    return DatabaseCounters(factory)


def refuse(limit: Limit, wait_s: int) -> RateLimited:
    return RateLimited(
        f"too many {limit.rule} requests; try again in {wait_s} seconds", retry_after_s=wait_s
    )


def check(store: CounterStore, limit: Limit, *, ip: str, account: str | None) -> None:
    keys: list[tuple[str, int]] = [(f"{limit.rule}:ip:{ip}", limit.per_ip)]
    if account:
        keys.append((f"{limit.rule}:acct:{account}", limit.per_account))
    for key, allowed in keys:
        hits, wait_s = store.hit(key, limit.window_s)
        if hits > allowed:
            raise refuse(limit, wait_s)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _account_of(request: Request) -> str | None:
    """Who is calling, cheaply: the signed session cookie's user (no database), or the
    owner of the bearer token (one indexed read on a read-only connection)."""
    auth = request.headers.get("authorization", "")
    if auth:
        secret = auth.partition(" ")[2].strip()
        if not secret:
            return None
        token_hash = hashlib.sha256(secret.encode()).hexdigest()
        with unit_of_work(request.app.state.read_session_factory) as session:
            return session.scalars(
                select(ApiToken.user_id).where(ApiToken.token_hash == token_hash)
            ).first()
    codec = request.app.state.session_codec
    data = codec.read(request.cookies.get(codec.settings.session_cookie_name))
    return data.user_id if data is not None else None


def _check_request(request: Request, store: CounterStore, limit: Limit) -> None:
    check(store, limit, ip=client_ip(request), account=_account_of(request))


async def enforce_rate_limits(request: Request) -> None:
    """App-wide dependency: counts the request against its route's rule, if any."""
    rule = rule_for(request.method, request.url.path)
    if rule is None:
        return
    settings: Settings = request.app.state.settings
    if not settings.rate_limits_enabled:
        return
    limit = limits_from(settings)[rule]
    store: CounterStore = request.app.state.rate_counters
    # Off the event loop: the counter write may wait for SQLite's write lock.
    await run_in_threadpool(_check_request, request, store, limit)


def counters_for_key(*, session: Session, prefix: str) -> list[RateCounter]:
    """The database counters whose key starts with ``prefix`` (operators, tests)."""
    return list(session.scalars(select(RateCounter).where(RateCounter.key.startswith(prefix))))
