"""Demo promotions: a platform welcome voucher, a shop voucher and a running flash deal."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.catalog.models import Product, ProductStatus, Sku
from reelshop.checkout import promotions
from reelshop.checkout.models import VoucherFunding, VoucherKind
from reelshop.db import utcnow
from reelshop.errors import ProblemError
from reelshop.money import Money

if TYPE_CHECKING:
    from reelshop.seed import SeedContext


def seed_promotions(session: Session, ctx: SeedContext) -> None:
    now = utcnow()
    promotions.create_voucher(
        session=session,
        code="WELCOME10",
        funded_by=VoucherFunding.PLATFORM,
        kind=VoucherKind.PERCENT,
        percent_bp=1000,
        max_discount_amount=1500,
        min_spend_amount=2000,
        currency="USD",
        market_code="US",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
        max_uses_total=10_000,
    )
    if not ctx.seller_ids:
        return
    demo_seller = ctx.seller_ids[0]
    promotions.create_voucher(
        session=session,
        code="SHOP5",
        funded_by=VoucherFunding.SELLER,
        seller_id=demo_seller,
        kind=VoucherKind.FIXED,
        amount=500,
        min_spend_amount=3000,
        currency="USD",
        market_code="US",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=14),
    )
    sku = session.scalars(
        select(Sku)
        .join(Product, Product.id == Sku.product_id)
        .where(
            Product.seller_id == demo_seller,
            Product.status == ProductStatus.ACTIVE,
            Product.currency == "USD",
            Sku.price_amount >= 500,
        )
        .order_by(Sku.id)
        .limit(1)
    ).first()
    if sku is None:
        return
    try:
        with session.begin_nested():
            promotions.create_flash_deal(
                session=session,
                sku_id=sku.id,
                deal_price=Money(sku.price_amount * 7 // 10, "USD"),
                quantity=20,
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=47),
                market_code="US",
            )
    except ProblemError:  # a price history that forbids it: no deal in the demo
        pass
