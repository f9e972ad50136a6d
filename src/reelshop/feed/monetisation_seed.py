"""Seed step ``monetisation``: creator commission rates and sponsored campaigns, so the
demo feed shows "Sponsored" slots and creators see what their tags can earn."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.catalog.models import Product, ProductStatus
from reelshop.feed import affiliates, sponsored
from reelshop.feed.models import Video, VideoStatus
from reelshop.money import Money
from reelshop.sellers.models import SellerProfile, SellerStatus

if TYPE_CHECKING:
    from reelshop.seed import SeedContext

CAMPAIGN_SELLERS = 8
RATED_PRODUCTS_PER_SELLER = 40


def seed_monetisation(session: Session, ctx: SeedContext) -> None:
    sellers = list(
        session.scalars(
            select(SellerProfile)
            .where(SellerProfile.status == SellerStatus.APPROVED)
            .order_by(SellerProfile.created_at, SellerProfile.id)
        )
    )
    demo_user_id = ctx.extra.get("demo_seller_user_id")
    sellers.sort(key=lambda s: s.user_id != demo_user_id)  # the demo seller first
    campaigns = 0
    for seller in sellers:
        product_ids = session.scalars(
            select(Product.id)
            .where(Product.seller_id == seller.id, Product.status == ProductStatus.ACTIVE)
            .order_by(Product.id)
            .limit(RATED_PRODUCTS_PER_SELLER)
        ).all()
        for product_id in product_ids:
            rate_bp = ctx.rng.choice([500, 800, 1000, 1200, 1500, 2000])
            affiliates.set_affiliate_rate(
                session=session, seller=seller, product_id=product_id, rate_bp=rate_bp
            )
        if campaigns >= CAMPAIGN_SELLERS:
            continue
        video_id = session.scalars(
            select(Video.id)
            .where(Video.seller_id == seller.id, Video.status == VideoStatus.PUBLISHED)
            .order_by(Video.id)
            .limit(1)
        ).first()
        if video_id is None:
            continue
        sponsored.create_campaign(
            session=session,
            seller=seller,
            video_id=video_id,
            daily_budget=Money(ctx.rng.choice([2_000, 5_000, 10_000]), "USD"),
            max_cpm=Money(ctx.rng.choice([300, 450, 600, 900]), "USD"),
        )
        campaigns += 1
