"""Feed monetisation tables: creator affiliate terms and attributions, sponsored-post
campaigns with their daily spend, served ad impressions, and per-market settings."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base, CreatedAtMixin, utcnow
from reelshop.ids import new_id

MAX_AFFILIATE_RATE_BP = 5_000
DEFAULT_ATTRIBUTION_WINDOW_DAYS = 7
DEFAULT_AD_SLOT_EVERY = 6
DEFAULT_RESERVE_CPM = 100  # minor units per thousand impressions
FREQUENCY_CAP_PER_DAY = 2


class AttributionStatus(StrEnum):
    PENDING = "pending"  # ordered, not settled yet
    SETTLED = "settled"  # commission credited to the creator
    REVERSED = "reversed"  # refunded in full (partly refunded ones keep their status)


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class MarketFeedSettings(Base):
    """Per-market knobs for feed monetisation; a market without a row uses the defaults."""

    __tablename__ = "market_feed_settings"
    __table_args__ = (
        CheckConstraint("attribution_window_days BETWEEN 1 AND 90", name="window_range"),
        CheckConstraint("ad_slot_every >= 2", name="ad_slot_every_min"),
        CheckConstraint("reserve_cpm_amount >= 1", name="reserve_positive"),
    )

    market_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    attribution_window_days: Mapped[int] = mapped_column(default=DEFAULT_ATTRIBUTION_WINDOW_DAYS)
    ad_slot_every: Mapped[int] = mapped_column(default=DEFAULT_AD_SLOT_EVERY)
    reserve_cpm_amount: Mapped[int] = mapped_column(default=DEFAULT_RESERVE_CPM)


class AffiliateTerms(Base):
    """The commission a seller offers creators on one product, in basis points."""

    __tablename__ = "affiliate_terms"
    __table_args__ = (
        CheckConstraint(f"rate_bp BETWEEN 0 AND {MAX_AFFILIATE_RATE_BP}", name="rate_range"),
    )

    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(40), index=True)
    rate_bp: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AffiliateAttribution(CreatedAtMixin, Base):
    """An order line credited to a creator: the click that won it and the rate then
    offered. Settlement reads the rate from here; refunds reverse against it."""

    __tablename__ = "affiliate_attributions"

    order_line_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    creator_id: Mapped[str] = mapped_column(String(40), index=True)
    video_id: Mapped[str] = mapped_column(String(40), index=True)
    product_id: Mapped[str] = mapped_column(String(40))
    click_event_id: Mapped[int] = mapped_column(BigInteger)
    rate_bp: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    line_total_amount: Mapped[int] = mapped_column(BigInteger)
    commission_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # at settlement
    reversed_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default=AttributionStatus.PENDING)


class AdCampaign(CreatedAtMixin, Base):
    """A seller promoting one of its videos: a daily budget and a maximum CPM bid."""

    __tablename__ = "ad_campaigns"
    __table_args__ = (
        CheckConstraint("daily_budget_amount > 0", name="budget_positive"),
        CheckConstraint("max_cpm_amount > 0", name="bid_positive"),
        Index("ix_ad_campaigns_market_status", "market_code", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("adc"))
    seller_id: Mapped[str] = mapped_column(String(40), index=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id"), index=True)
    market_code: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3))
    daily_budget_amount: Mapped[int] = mapped_column(BigInteger)
    max_cpm_amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.ACTIVE)


class AdCampaignDay(Base):
    """One campaign's spend on one (UTC) day, in thousandths of a minor unit: an
    impression at a CPM of c minor units costs exactly c thousandths."""

    __tablename__ = "ad_campaign_days"
    __table_args__ = (CheckConstraint("spent_millis >= 0", name="spent_non_negative"),)

    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("ad_campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    spent_millis: Mapped[int] = mapped_column(BigInteger, default=0)
    impressions: Mapped[int] = mapped_column(Integer, default=0)


class AdImpression(Base):
    """A sponsored video served to a shopper, with the price it cleared at."""

    __tablename__ = "ad_impressions"
    __table_args__ = (Index("ix_ad_impressions_user_day", "user_id", "day", "campaign_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("adi"))
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("ad_campaigns.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str | None] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    price_cpm_amount: Mapped[int] = mapped_column(BigInteger)
    charged_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units posted
    served_at: Mapped[datetime] = mapped_column(default=utcnow)
