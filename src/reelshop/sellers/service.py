"""Seller profiles and the rule of who may sell where."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.errors import Forbidden, NotFound
from reelshop.ids import looks_like
from reelshop.sellers.models import SellerProfile, SellerStatus


def get_seller(*, session: Session, seller_id: str) -> SellerProfile:
    seller = session.get(SellerProfile, seller_id) if looks_like("sel", seller_id) else None
    if seller is None:
        raise NotFound("no such seller")
    return seller


def seller_for_user(*, session: Session, user_id: str) -> SellerProfile | None:
    return session.scalars(select(SellerProfile).where(SellerProfile.user_id == user_id)).first()


def can_sell(seller: SellerProfile, *, market_code: str, category_slug: str | None = None) -> bool:
    """Approved, in this market, and (when given) in this category's top-level branch."""
    if seller.status != SellerStatus.APPROVED or market_code not in seller.market_codes:
        return False
    if category_slug is None or not seller.categories:
        return True
    top = category_slug.split("/")[0]
    return top in seller.categories


def assert_can_sell(
    seller: SellerProfile, *, market_code: str, category_slug: str | None = None
) -> None:
    if not can_sell(seller, market_code=market_code, category_slug=category_slug):
        raise Forbidden(
            f"{seller.display_name} is not approved to sell"
            + (f" in {category_slug}" if category_slug else "")
            + f" in market {market_code}"
        )
