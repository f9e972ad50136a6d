"""Feed monetisation API: sellers' creator commission rates and sponsored-post campaigns,
creators' earnings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from reelshop.errors import InvalidInput, NotFound, problem_responses
from reelshop.feed import affiliates, sponsored
from reelshop.feed.monetisation_models import MAX_AFFILIATE_RATE_BP
from reelshop.feed.schemas import MoneyOut
from reelshop.money import Money, MoneyError
from reelshop.security.authz import (
    CreatorPrincipal,
    CurrentPrincipal,
    DbSession,
    Principal,
    SellerPrincipal,
)
from reelshop.sellers import service as sellers
from reelshop.sellers.models import SellerProfile

router = APIRouter(tags=["feed monetisation"])


def money_out(value: Money) -> MoneyOut:
    return MoneyOut(amount=value.amount, currency=value.currency, display=value.format())


class MoneyIn(BaseModel):
    amount: int = Field(description="minor units (cents for USD)")
    currency: str = Field(min_length=3, max_length=3)

    def money(self, field: str) -> Money:
        try:
            return Money(self.amount, self.currency.upper())
        except MoneyError as exc:
            raise InvalidInput(str(exc), field=field) from None


class AffiliateRateIn(BaseModel):
    rate_bp: int = Field(description=f"basis points, 0 to {MAX_AFFILIATE_RATE_BP}")


class AffiliateRateOut(BaseModel):
    product_id: str
    rate_bp: int


class EarningsOut(BaseModel):
    currency: str
    pending: MoneyOut
    settled: MoneyOut
    reversed: MoneyOut


class CreatorEarningsOut(BaseModel):
    views: int
    clicks: int
    orders: int
    earnings: list[EarningsOut]

    @classmethod
    def of(cls, e: affiliates.CreatorEarnings) -> CreatorEarningsOut:
        return cls(
            views=e.views,
            clicks=e.clicks,
            orders=e.orders,
            earnings=[
                EarningsOut(
                    currency=x.currency,
                    pending=money_out(x.pending),
                    settled=money_out(x.settled),
                    reversed=money_out(x.reversed),
                )
                for x in e.earnings
            ],
        )


class CampaignIn(BaseModel):
    video_id: str = Field(max_length=40)
    daily_budget: MoneyIn
    max_cpm: MoneyIn = Field(description="the most paid per thousand impressions")


class CampaignStatusIn(BaseModel):
    status: Literal["active", "paused"]


class CampaignOut(BaseModel):
    id: str
    video_id: str
    market_code: str
    status: str
    daily_budget: MoneyOut
    max_cpm: MoneyOut
    spent_today: MoneyOut
    impressions_today: int
    spent_total: MoneyOut
    created_at: datetime

    @classmethod
    def of(cls, view: sponsored.CampaignView) -> CampaignOut:
        c = view.campaign
        return cls(
            id=c.id,
            video_id=c.video_id,
            market_code=c.market_code,
            status=c.status,
            daily_budget=money_out(Money(c.daily_budget_amount, c.currency)),
            max_cpm=money_out(Money(c.max_cpm_amount, c.currency)),
            spent_today=money_out(view.spent_today),
            impressions_today=view.impressions_today,
            spent_total=money_out(view.spent_total),
            created_at=c.created_at,
        )


def seller_of(session: Session, principal: Principal) -> SellerProfile:
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if seller is None:
        raise NotFound("you have no shop yet")
    return seller


def _view(session: Session, seller: SellerProfile, campaign_id: str) -> CampaignOut:
    for view in sponsored.list_campaigns(session=session, seller=seller):
        if view.campaign.id == campaign_id:
            return CampaignOut.of(view)
    raise NotFound("no such campaign")


@router.put(
    "/seller/products/{product_id}/affiliate-rate",
    response_model=AffiliateRateOut,
    summary="Set the commission creators earn on this product",
    responses=problem_responses(401, 403, 404, 422),
)
def set_affiliate_rate(
    product_id: str, body: AffiliateRateIn, principal: SellerPrincipal, session: DbSession
) -> AffiliateRateOut:
    terms = affiliates.set_affiliate_rate(
        session=session,
        seller=seller_of(session, principal),
        product_id=product_id,
        rate_bp=body.rate_bp,
    )
    return AffiliateRateOut(product_id=terms.product_id, rate_bp=terms.rate_bp)


@router.get(
    "/products/{product_id}/affiliate-rate",
    response_model=AffiliateRateOut,
    summary="The commission a creator earns on this product (the seller's or the market's)",
    responses=problem_responses(401, 404),
)
def get_affiliate_rate(
    product_id: str, principal: CurrentPrincipal, session: DbSession
) -> AffiliateRateOut:
    product = affiliates.active_product(session=session, product_id=product_id)
    rate = affiliates.affiliate_rate(
        session=session, product_id=product.id, market_code=principal.user.market_code
    )
    return AffiliateRateOut(product_id=product.id, rate_bp=rate)


@router.get(
    "/creator/earnings",
    response_model=CreatorEarningsOut,
    summary="Views, clicks, attributed orders and commission of your videos",
    responses=problem_responses(401, 403),
)
def creator_earnings(principal: CreatorPrincipal, session: DbSession) -> CreatorEarningsOut:
    return CreatorEarningsOut.of(
        affiliates.creator_earnings(session=session, creator_id=principal.id)
    )


@router.post(
    "/seller/ad-campaigns",
    response_model=CampaignOut,
    status_code=201,
    summary="Promote one of your videos as a sponsored post",
    responses=problem_responses(401, 403, 404, 422),
)
def create_campaign(
    body: CampaignIn, principal: SellerPrincipal, session: DbSession
) -> CampaignOut:
    seller = seller_of(session, principal)
    campaign = sponsored.create_campaign(
        session=session,
        seller=seller,
        video_id=body.video_id,
        daily_budget=body.daily_budget.money("daily_budget"),
        max_cpm=body.max_cpm.money("max_cpm"),
    )
    return _view(session, seller, campaign.id)


@router.get(
    "/seller/ad-campaigns",
    response_model=list[CampaignOut],
    summary="Your sponsored-post campaigns with today's spend",
    responses=problem_responses(401, 403, 404),
)
def list_campaigns(principal: SellerPrincipal, session: DbSession) -> list[CampaignOut]:
    seller = seller_of(session, principal)
    return [CampaignOut.of(v) for v in sponsored.list_campaigns(session=session, seller=seller)]


@router.put(
    "/seller/ad-campaigns/{campaign_id}/status",
    response_model=CampaignOut,
    summary="Pause or resume a campaign",
    responses=problem_responses(401, 403, 404, 422),
)
def set_campaign_status(
    campaign_id: str, body: CampaignStatusIn, principal: SellerPrincipal, session: DbSession
) -> CampaignOut:
    seller = seller_of(session, principal)
    sponsored.set_campaign_status(
        session=session, seller=seller, campaign_id=campaign_id, status=body.status
    )
    return _view(session, seller, campaign_id)
