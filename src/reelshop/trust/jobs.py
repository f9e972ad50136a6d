"""Worker handlers of trust and safety: every listing change is screened seconds
after it is committed; a brand authorisation decision re-screens the seller's
listings of that brand."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.catalog.models import Product
from reelshop.errors import NotFound
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe
from reelshop.trust import screening
from reelshop.trust.brands import AUTHORISATION_DECIDED
from reelshop.trust.models import ListingAssessment

PRODUCT_CHANGED = "product.changed"  # reelshop.catalog.service.PRODUCT_CHANGED


@subscribe(PRODUCT_CHANGED, name="trust.screen_listing")
def screen_changed_listing(session: Session, event: OutboxEvent) -> None:
    product_id = event.payload.get("product_id")
    if not isinstance(product_id, str):
        return
    try:
        screening.screen_listing(session=session, product_id=product_id)
    except NotFound:
        return  # deleted since


@subscribe(AUTHORISATION_DECIDED, name="trust.rescreen_after_authorisation")
def rescreen_after_authorisation(session: Session, event: OutboxEvent) -> None:
    seller_id = event.payload.get("seller_id")
    brand_id = event.payload.get("brand_id")
    if not isinstance(seller_id, str) or not isinstance(brand_id, str):
        return
    product_ids = session.scalars(
        select(Product.id)
        .join(ListingAssessment, ListingAssessment.product_id == Product.id)
        .where(Product.seller_id == seller_id, ListingAssessment.brand_id == brand_id)
        .limit(500)
    ).all()
    for product_id in product_ids:
        screening.screen_listing(session=session, product_id=product_id)
