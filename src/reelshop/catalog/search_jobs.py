"""Outbox handlers that keep the search index current."""

from __future__ import annotations

from sqlalchemy.orm import Session

from reelshop.catalog import search_index
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe

PRODUCT_CHANGED = "product.changed"


@subscribe(PRODUCT_CHANGED, name="catalog.search.reindex_product")
def reindex_product(session: Session, event: OutboxEvent) -> None:
    product_id = event.payload.get("product_id")
    if isinstance(product_id, str):
        search_index.index_products(session=session, product_ids=[product_id])


@subscribe("seller.approved", name="catalog.search.reindex_seller_approved")
@subscribe("seller.suspended", name="catalog.search.reindex_seller_suspended")
def reindex_seller(session: Session, event: OutboxEvent) -> None:
    """A seller's status decides whether their products are searchable."""
    seller_id = event.payload.get("seller_id")
    if not isinstance(seller_id, str):
        return
    ids = search_index.seller_product_ids(session=session, seller_id=seller_id)
    for start in range(0, len(ids), 500):
        search_index.index_products(session=session, product_ids=ids[start : start + 500])
