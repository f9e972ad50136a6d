"""Periodic jobs of the checkout domain, run by ``reelshop worker``.

``checkout.expire_unpaid`` (every minute): checkouts whose payment did not arrive
before ``expires_at`` are expired, their orders cancelled, and their stock, deal
units and voucher uses given back. ``checkout.purge_idempotency`` (hourly): stored
Idempotency-Key answers past their keeping time are deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from reelshop import idempotency
from reelshop.checkout import service
from reelshop.db import unit_of_work
from reelshop.scheduling import JobContext, periodic


def expire_unpaid(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    with unit_of_work(factory) as session:
        return service.expire_unpaid(session=session, now=now)


def purge_idempotency(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        return idempotency.purge_expired(session=session)


@periodic("checkout.expire_unpaid", every_s=60.0)
def expire_unpaid_periodically(context: JobContext) -> int:
    return expire_unpaid(context.factory)


@periodic("checkout.purge_idempotency", every_s=3600.0)
def purge_idempotency_periodically(context: JobContext) -> int:
    return purge_idempotency(context.factory)
