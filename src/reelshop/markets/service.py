"""Market lookups. Markets are reference data seeded by migrations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.errors import NotFound
from reelshop.markets.models import Market

LAUNCH_MARKET = "US"


def get_market(*, session: Session, code: str) -> Market:
    market = session.get(Market, code.upper())
    if market is None:
        raise NotFound(f"no market {code!r}")
    return market


def list_markets(*, session: Session) -> list[Market]:
    return list(session.scalars(select(Market).order_by(Market.code)))
