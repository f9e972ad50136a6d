"""Periodic job of buyer protection: claims whose seller let the response window pass
go to staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from reelshop.db import unit_of_work, utcnow
from reelshop.scheduling import JobContext, periodic
from reelshop.trust import claims


def escalate_overdue_claims(
    factory: sessionmaker[Session], *, now: datetime | None = None, limit: int = 500
) -> int:
    """One unit of work; the status guard in the query makes a second run a no-op."""
    with unit_of_work(factory) as session:
        return claims.escalate_overdue(session=session, now=now or utcnow(), limit=limit)


@periodic("trust.escalate_overdue_claims", every_s=600.0)
def _escalate_overdue_claims(ctx: JobContext) -> object:
    return escalate_overdue_claims(ctx.factory)
