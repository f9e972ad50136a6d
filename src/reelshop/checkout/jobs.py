"""Periodic jobs of the checkout domain, run by ``reelshop worker``.

``checkout.expire_unpaid`` (every minute): checkouts whose payment did not arrive
before ``expires_at`` are expired, their orders cancelled, and their stock, deal
units and voucher uses given back. ``checkout.purge_idempotency`` (hourly): stored
Idempotency-Key answers past their keeping time are deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from huey import Huey, crontab
from sqlalchemy.orm import Session, sessionmaker

from reelshop import idempotency
from reelshop.checkout import service
from reelshop.db import unit_of_work


def expire_unpaid(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    with unit_of_work(factory) as session:
        return service.expire_unpaid(session=session, now=now)


def purge_idempotency(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        return idempotency.purge_expired(session=session)


def register_periodic(huey: Huey, factory: sessionmaker[Session]) -> dict[str, Any]:
    @huey.periodic_task(crontab(minute="*"), name="checkout.expire_unpaid")  # type: ignore[untyped-decorator]
    def expire_unpaid_task() -> int:
        return expire_unpaid(factory)

    @huey.periodic_task(crontab(minute="17"), name="checkout.purge_idempotency")  # type: ignore[untyped-decorator]
    def purge_idempotency_task() -> int:
        return purge_idempotency(factory)

    return {
        "checkout.expire_unpaid": expire_unpaid_task,
        "checkout.purge_idempotency": purge_idempotency_task,
    }
