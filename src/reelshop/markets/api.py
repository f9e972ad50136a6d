from __future__ import annotations

from fastapi import APIRouter

from reelshop.errors import NOT_FOUND
from reelshop.markets import service as markets
from reelshop.markets.schemas import MarketOut
from reelshop.security.authz import ReadDbSession

router = APIRouter(prefix="/markets", tags=["markets"])


@router.get("", summary="Markets the platform sells in")
def list_markets(session: ReadDbSession) -> list[MarketOut]:
    return [MarketOut.model_validate(m) for m in markets.list_markets(session=session)]


@router.get("/{code}", responses={404: {"description": NOT_FOUND.title}})
def get_market(code: str, session: ReadDbSession) -> MarketOut:
    return MarketOut.model_validate(markets.get_market(session=session, code=code))
