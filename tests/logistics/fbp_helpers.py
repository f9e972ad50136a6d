"""Arrangements for platform-fulfilment tests: a seller's stock counted into a platform
warehouse and a paid order reserved from it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout import service as checkout
from reelshop.db import unit_of_work
from reelshop.logistics import fulfilment
from reelshop.sellers.models import SellerProfile
from tests.factories import make_product, make_seller, make_staff, make_user
from tests.payments.helpers import LineSpec, OrderSpec, place_checkout


@dataclass
class FbpOrder:
    order_id: str
    seller: SellerProfile
    seller_email: str
    sku_id: str
    staff_id: str
    staff_email: str


def stocked_seller(
    session: Session,
    *,
    units: int = 10,
    weight_grams: int = 300,
    dims: tuple[int, int, int] = (200, 150, 100),
) -> tuple[str, SellerProfile, str, str, str]:
    """A CN seller whose only stock sits at the platform warehouse."""
    seller_user, seller = make_seller(session, ships_from="CN", commit=False)
    product = make_product(session, seller=seller, price_cents=2500, stock=0, commit=False)
    product.length_mm, product.width_mm, product.height_mm = dims
    product.hs_code = "6109.10"
    product.origin_country = "CN"
    sku = product.skus[0]
    sku.weight_grams = weight_grams
    staff = make_staff(session, commit=False)
    fulfilment.ensure_platform_warehouse(session=session, name="Reelshop Dallas", country="US")
    inbound = fulfilment.announce_inbound(
        session=session, seller_id=seller.id, lines=[fulfilment.InboundLineIn(sku.id, units)]
    )
    fulfilment.receive_inbound(
        session=session,
        inbound_id=inbound.id,
        counted=[fulfilment.ReceivedLineIn(sku.id, units)],
        staff_id=staff.id,
    )
    session.commit()
    return seller_user.email, seller, sku.id, staff.id, staff.email


def fbp_order(
    session: Session, factory: sessionmaker[Session], *, quantity: int = 2, **stock: int
) -> FbpOrder:
    email, seller, sku_id, staff_id, staff_email = stocked_seller(session, **stock)
    product = make_product_of(session, sku_id)
    shopper = make_user(session)
    placed = place_checkout(
        session, shopper=shopper, orders=[OrderSpec([LineSpec(product, quantity)], shipping=0)]
    )
    with unit_of_work(factory) as s:
        checkout.mark_checkout_paid(session=s, checkout_id=placed.checkout_id)
    return FbpOrder(placed.order_ids[0], seller, email, sku_id, staff_id, staff_email)


def make_product_of(session: Session, sku_id: str) -> object:
    from reelshop.catalog.models import Sku

    sku = session.get(Sku, sku_id)
    assert sku is not None
    return sku.product
