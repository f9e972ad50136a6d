"""Creator earnings and sellers' sponsored-post campaigns, as pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from reelshop.errors import InvalidInput
from reelshop.feed import affiliates, sponsored
from reelshop.feed.models import Video, VideoStatus
from reelshop.feed.monetisation_api import seller_of
from reelshop.money import Money, MoneyError
from reelshop.security.authz import CreatorPrincipal, DbSession, SellerPrincipal
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/creator/earnings", response_class=HTMLResponse)
def creator_earnings(request: Request, principal: CreatorPrincipal, session: DbSession) -> Response:
    earnings = affiliates.creator_earnings(session=session, creator_id=principal.id)
    return render(request, "monetisation/creator_earnings.html", {"earnings": earnings})


def _money(raw: str, currency: str, field: str) -> Money:
    try:
        return Money.from_decimal(raw.strip() or "0", currency)
    except (MoneyError, ArithmeticError, ValueError):
        raise InvalidInput(
            f"{field.replace('_', ' ')} is an amount like 12.50", field=field
        ) from None


@router.get("/seller/ads", response_class=HTMLResponse)
def seller_ads(request: Request, principal: SellerPrincipal, session: DbSession) -> Response:
    seller = seller_of(session, principal)
    videos = list(
        session.scalars(
            select(Video)
            .where(Video.seller_id == seller.id, Video.status == VideoStatus.PUBLISHED)
            .order_by(Video.created_at.desc())
            .limit(100)
        )
    )
    return render(
        request,
        "monetisation/seller_ads.html",
        {
            "campaigns": sponsored.list_campaigns(session=session, seller=seller),
            "videos": videos,
            "captions": {v.id: v.caption for v in videos},
            "currency": seller_currency(session, videos),
        },
    )


def seller_currency(session: DbSession, videos: list[Video]) -> str:
    market = videos[0].market_code if videos else "US"
    return sponsored.market_currency(session, market)


@router.post("/seller/ads", response_class=HTMLResponse)
def create_campaign(
    principal: SellerPrincipal,
    session: DbSession,
    video_id: Annotated[str, Form(max_length=40)],
    daily_budget: Annotated[str, Form(max_length=20)],
    max_cpm: Annotated[str, Form(max_length=20)],
) -> Response:
    seller = seller_of(session, principal)
    video = session.get(Video, video_id)
    currency = sponsored.market_currency(session, video.market_code if video else "US")
    sponsored.create_campaign(
        session=session,
        seller=seller,
        video_id=video_id,
        daily_budget=_money(daily_budget, currency, "daily_budget"),
        max_cpm=_money(max_cpm, currency, "max_cpm"),
    )
    return RedirectResponse("/seller/ads", status_code=303)


@router.post("/seller/ads/{campaign_id}/status", response_class=HTMLResponse)
def set_status(
    campaign_id: str,
    principal: SellerPrincipal,
    session: DbSession,
    status: Annotated[str, Form(max_length=10)],
) -> Response:
    sponsored.set_campaign_status(
        session=session,
        seller=seller_of(session, principal),
        campaign_id=campaign_id,
        status=status,
    )
    return RedirectResponse("/seller/ads", status_code=303)
