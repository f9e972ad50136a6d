"""Sponsored posts: sellers promote their videos with a daily budget and a maximum CPM
bid; a second-price auction fills the feed's sponsored slots.

Money per impression is tiny (a CPM of c minor units costs c/1000 of a minor unit), so a
campaign's daily spend is counted in thousandths of a minor unit and the ledger is
charged whole minor units as the running total crosses them: the day's ledger charges
always equal ``floor(spent_millis / 1000)``, exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reelshop.db import insert_on_conflict, utcnow
from reelshop.errors import InvalidInput, NotFound
from reelshop.feed.affiliates import market_settings
from reelshop.feed.models import Video, VideoStatus
from reelshop.feed.monetisation_models import (
    FREQUENCY_CAP_PER_DAY,
    AdCampaign,
    AdCampaignDay,
    AdImpression,
    CampaignStatus,
)
from reelshop.ids import looks_like
from reelshop.markets.models import Market
from reelshop.money import Money
from reelshop.outbox.service import emit
from reelshop.payments import ledger
from reelshop.payments.ledger import Posting
from reelshop.sellers.models import SellerProfile

AD_CHARGE = "ad_charge"
BURST_FRACTION = (1, 48)  # spend may run half an hour's share of the budget ahead of pace
DAY_SECONDS = 86_400


def market_currency(session: Session, market_code: str) -> str:
    currency = session.scalar(select(Market.currency).where(Market.code == market_code))
    return currency or "USD"


def create_campaign(
    *,
    session: Session,
    seller: SellerProfile,
    video_id: str,
    daily_budget: Money,
    max_cpm: Money,
) -> AdCampaign:
    if daily_budget.amount <= 0:
        raise InvalidInput("the daily budget must be more than zero", field="daily_budget")
    if max_cpm.amount <= 0:
        raise InvalidInput("the maximum CPM bid must be more than zero", field="max_cpm")
    video = session.get(Video, video_id) if looks_like("vid", video_id) else None
    if video is None or video.seller_id != seller.id or video.status != VideoStatus.PUBLISHED:
        raise NotFound("no such published video of yours")
    currency = market_currency(session, video.market_code)
    for field_name, value in (("daily_budget", daily_budget), ("max_cpm", max_cpm)):
        if value.currency != currency:
            raise InvalidInput(f"{field_name} must be in {currency}", field=field_name)
    campaign = AdCampaign(
        seller_id=seller.id,
        video_id=video.id,
        market_code=video.market_code,
        currency=currency,
        daily_budget_amount=daily_budget.amount,
        max_cpm_amount=max_cpm.amount,
    )
    session.add(campaign)
    session.flush()
    emit(
        session=session,
        topic="ad_campaign.created",
        payload={
            "campaign_id": campaign.id,
            "seller_id": seller.id,
            "video_id": video.id,
            "daily_budget": daily_budget.amount,
            "max_cpm": max_cpm.amount,
            "currency": currency,
        },
        subject_id=campaign.id,
    )
    return campaign


def get_campaign(*, session: Session, seller: SellerProfile, campaign_id: str) -> AdCampaign:
    campaign = session.get(AdCampaign, campaign_id) if looks_like("adc", campaign_id) else None
    if campaign is None or campaign.seller_id != seller.id:
        raise NotFound("no such campaign")
    return campaign


def set_campaign_status(
    *, session: Session, seller: SellerProfile, campaign_id: str, status: str
) -> AdCampaign:
    if status not in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED):
        raise InvalidInput("status is active or paused", field="status")
    campaign = get_campaign(session=session, seller=seller, campaign_id=campaign_id)
    if campaign.status != status:
        campaign.status = status
        emit(
            session=session,
            topic=f"ad_campaign.{'resumed' if status == CampaignStatus.ACTIVE else 'paused'}",
            payload={"campaign_id": campaign.id, "seller_id": seller.id},
            subject_id=campaign.id,
        )
    session.flush()
    return campaign


@dataclass(frozen=True)
class CampaignView:
    campaign: AdCampaign
    spent_today: Money
    impressions_today: int
    spent_total: Money

    @property
    def daily_budget(self) -> Money:
        return Money(self.campaign.daily_budget_amount, self.campaign.currency)

    @property
    def max_cpm(self) -> Money:
        return Money(self.campaign.max_cpm_amount, self.campaign.currency)


def list_campaigns(
    *, session: Session, seller: SellerProfile, now: datetime | None = None
) -> list[CampaignView]:
    today = (now or utcnow()).date()
    campaigns = list(
        session.scalars(
            select(AdCampaign)
            .where(AdCampaign.seller_id == seller.id)
            .order_by(AdCampaign.created_at.desc(), AdCampaign.id)
        )
    )
    ids = [c.id for c in campaigns]
    days = {
        row.campaign_id: row
        for row in session.scalars(
            select(AdCampaignDay).where(
                AdCampaignDay.campaign_id.in_(ids), AdCampaignDay.day == today
            )
        )
    }
    totals = dict(
        session.execute(
            select(AdImpression.campaign_id, func.sum(AdImpression.charged_amount))
            .where(AdImpression.campaign_id.in_(ids))
            .group_by(AdImpression.campaign_id)
        ).all()
    )
    out = []
    for c in campaigns:
        day = days.get(c.id)
        out.append(
            CampaignView(
                campaign=c,
                spent_today=Money((day.spent_millis if day else 0) // 1000, c.currency),
                impressions_today=day.impressions if day else 0,
                spent_total=Money(int(totals.get(c.id) or 0), c.currency),
            )
        )
    return out


# --- the auction --------------------------------------------------------------------------------


def allowed_spend_millis(*, daily_budget: int, now: datetime) -> int:
    """Pacing: what the campaign may have spent by ``now`` today, in thousandths —
    the budget times the elapsed share of the (UTC) day plus a small burst, never more
    than the budget."""
    midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    elapsed = int((now - midnight).total_seconds())
    num, den = BURST_FRACTION
    budget = daily_budget * 1000
    return min(budget, budget * (elapsed * den + num * DAY_SECONDS) // (DAY_SECONDS * den))


def clearing_price(bids: Sequence[int], winner: int = 0) -> int:
    """Second price: the runner-up's bid plus one minor unit, never above the winner's
    own bid; a lone bidder pays its own bid."""
    own = bids[winner]
    others = [b for i, b in enumerate(bids) if i != winner]
    if not others:
        return own
    return min(own, max(others) + 1)


@dataclass(frozen=True)
class ServedAd:
    impression_id: str
    campaign_id: str
    video_id: str
    price_cpm: Money
    charged: Money


def _frequency(session: Session, user_id: str, day: date) -> dict[str, int]:
    return {
        campaign_id: int(n)
        for campaign_id, n in session.execute(
            select(AdImpression.campaign_id, func.count())
            .where(AdImpression.user_id == user_id, AdImpression.day == day)
            .group_by(AdImpression.campaign_id)
        )
    }


def _ensure_day(session: Session, campaign_id: str, day: date) -> None:
    row = {"campaign_id": campaign_id, "day": day, "spent_millis": 0, "impressions": 0}
    session.execute(insert_on_conflict(session, AdCampaignDay).values(row).on_conflict_do_nothing())


def _take_budget(
    session: Session, campaign: AdCampaign, day: date, price: int, now: datetime
) -> int | None:
    """Add one impression at ``price`` (CPM minor units = thousandths per impression) to
    the day's spend, only if pacing allows: one guarded UPDATE, so concurrent impressions
    can never take the spend past the limit. Returns the new spend, or None."""
    _ensure_day(session, campaign.id, day)
    limit = allowed_spend_millis(daily_budget=campaign.daily_budget_amount, now=now)
    spent = session.execute(
        update(AdCampaignDay)
        .where(
            AdCampaignDay.campaign_id == campaign.id,
            AdCampaignDay.day == day,
            AdCampaignDay.spent_millis + price <= limit,
        )
        .values(
            spent_millis=AdCampaignDay.spent_millis + price,
            impressions=AdCampaignDay.impressions + 1,
        )
        .returning(AdCampaignDay.spent_millis)
        .execution_options(synchronize_session=False)
    ).scalar()
    return int(spent) if spent is not None else None


def run_auction(
    *,
    session: Session,
    user_id: str,
    market_code: str,
    exclude: Sequence[str] = (),
    now: datetime | None = None,
) -> ServedAd | None:
    """Pick, price and charge one sponsored video for this shopper, or None."""
    now = now or utcnow()
    day = now.date()
    reserve = market_settings(session=session, market_code=market_code).reserve_cpm_amount
    campaigns = list(
        session.scalars(
            select(AdCampaign)
            .join(Video, Video.id == AdCampaign.video_id)
            .where(
                AdCampaign.market_code == market_code,
                AdCampaign.status == CampaignStatus.ACTIVE,
                AdCampaign.max_cpm_amount >= reserve,
                Video.status == VideoStatus.PUBLISHED,
                AdCampaign.video_id.not_in(list(exclude)),
            )
            .order_by(AdCampaign.max_cpm_amount.desc(), AdCampaign.created_at, AdCampaign.id)
        )
    )
    if not campaigns:
        return None
    seen = _frequency(session, user_id, day)
    spent = {
        row.campaign_id: row.spent_millis
        for row in session.scalars(
            select(AdCampaignDay).where(
                AdCampaignDay.campaign_id.in_([c.id for c in campaigns]), AdCampaignDay.day == day
            )
        )
    }
    # Only campaigns that could pay their own bid now take part: a paced-out campaign
    # neither wins nor raises the price others pay.
    bidders = [
        c
        for c in campaigns
        if seen.get(c.id, 0) < FREQUENCY_CAP_PER_DAY
        and spent.get(c.id, 0) + c.max_cpm_amount
        <= allowed_spend_millis(daily_budget=c.daily_budget_amount, now=now)
    ]
    while bidders:
        bids = [c.max_cpm_amount for c in bidders]
        price = clearing_price(bids)
        winner = bidders[0]
        total = _take_budget(session, winner, day, price, now)
        if total is None:  # another impression took the headroom meanwhile
            bidders.pop(0)
            continue
        return _record(session, winner, user_id, day, price, total, now)
    return None


def _record(
    session: Session,
    campaign: AdCampaign,
    user_id: str,
    day: date,
    price: int,
    spent_after: int,
    now: datetime,
) -> ServedAd:
    charge = spent_after // 1000 - (spent_after - price) // 1000
    impression = AdImpression(
        campaign_id=campaign.id,
        user_id=user_id,
        day=day,
        price_cpm_amount=price,
        charged_amount=charge,
        served_at=now,
    )
    session.add(impression)
    session.flush()
    if charge > 0:
        amount = Money(charge, campaign.currency)
        ledger.post(
            session=session,
            kind=AD_CHARGE,
            ref=f"{AD_CHARGE}:{impression.id}",
            seller_id=campaign.seller_id,
            memo=f"sponsored video {campaign.video_id}, campaign {campaign.id}",
            postings=[
                # Netted from the seller's next payout like any other receivable.
                Posting.debit(ledger.seller_receivable(campaign.seller_id), amount),
                Posting.credit(ledger.PLATFORM_AD_REVENUE, amount),
            ],
        )
    return ServedAd(
        impression_id=impression.id,
        campaign_id=campaign.id,
        video_id=campaign.video_id,
        price_cpm=Money(price, campaign.currency),
        charged=Money(charge, campaign.currency),
    )


class SponsoredFiller:
    """The feed's sponsored-slot filler: one auction per slot, one slot per N organic
    videos (N per market). Anonymous visitors get no ads: the frequency cap is a
    promise to advertisers that needs a known shopper."""

    every_n = 6

    def every_n_for(self, *, session: Session, market_code: str) -> int:
        return market_settings(session=session, market_code=market_code).ad_slot_every

    def fill(
        self, *, session: Session, user_id: str | None, market_code: str, organic: Sequence[str]
    ) -> str | None:
        if user_id is None:
            return None
        served = run_auction(
            session=session, user_id=user_id, market_code=market_code, exclude=organic
        )
        return served.video_id if served else None
