"""Cross-border customs: the declaration of each parcel (from the catalog's HS code,
origin and the price paid) and the landed-cost estimate the shopper sees before
paying: import duty by HS chapter plus the market's flat fees, nothing at all when the
shipment's declared value is at or below the market's de minimis threshold. Every
number comes from the ``customs_rules`` and ``customs_duty_rates`` tables.

One seller's order travels as one shipment, so the threshold is tested per seller
order. Values are compared in the rule's currency; an order in another currency gets
no estimate (there is no exchange-rate table yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.accounts.models import User
from reelshop.catalog.models import Product
from reelshop.checkout import cart as carts
from reelshop.checkout.models import Checkout, Order
from reelshop.db import insert_on_conflict, utcnow
from reelshop.ids import looks_like
from reelshop.inventory.models import LocationKind, Reservation, StockLocation
from reelshop.logistics.customs_models import (
    CustomsDeclaration,
    CustomsDutyRate,
    CustomsRule,
    LandedCostEstimate,
)
from reelshop.logistics.models import Shipment
from reelshop.money import Money
from reelshop.sellers.models import SellerProfile


@dataclass(frozen=True)
class DeclaredItem:
    description: str
    hs_code: str | None
    origin_country: str | None
    quantity: int
    unit_value: int  # minor units

    @property
    def value(self) -> int:
        return self.unit_value * self.quantity


@dataclass(frozen=True)
class LandedCost:
    market_code: str
    origin_country: str
    currency: str
    declared_value: int
    duty: int
    fees: int
    de_minimis_applied: bool
    de_minimis: int

    @property
    def total(self) -> Money:
        return Money(self.duty + self.fees, self.currency)

    @property
    def declared(self) -> Money:
        return Money(self.declared_value, self.currency)

    @property
    def duty_money(self) -> Money:
        return Money(self.duty, self.currency)

    @property
    def fees_money(self) -> Money:
        return Money(self.fees, self.currency)

    @property
    def threshold(self) -> Money:
        return Money(self.de_minimis, self.currency)


def hs_chapter(hs_code: str | None) -> str | None:
    digits = "".join(ch for ch in (hs_code or "") if ch.isdigit())
    return digits[:2] if len(digits) >= 2 else None


def _round_bp(value: int, bp: int) -> int:
    """value x bp / 10 000, rounded half up (minor units)."""
    return (value * bp + 5_000) // 10_000


def estimate(
    *,
    session: Session,
    market_code: str,
    origin_country: str,
    currency: str,
    items: Sequence[DeclaredItem],
) -> LandedCost | None:
    """Duty and fees of one shipment into ``market_code``; zero for a domestic shipment
    or one at or under de minimis; None when the market has no rules or the currency
    differs from the rules'."""
    rule = session.get(CustomsRule, market_code)
    if rule is None or rule.currency != currency:
        return None
    declared = sum(item.value for item in items)
    zero = LandedCost(
        market_code, origin_country, currency, declared, 0, 0, False, rule.de_minimis_amount
    )
    if origin_country == market_code:
        return zero
    if declared <= rule.de_minimis_amount:
        return LandedCost(
            market_code, origin_country, currency, declared, 0, 0, True, rule.de_minimis_amount
        )
    rates = {
        r.hs_chapter: r.duty_bp
        for r in session.scalars(
            select(CustomsDutyRate).where(CustomsDutyRate.market_code == market_code)
        )
    }
    duty = 0
    for item in items:
        chapter = hs_chapter(item.hs_code)
        bp = rates.get(chapter, rule.default_duty_bp) if chapter else rule.default_duty_bp
        duty += _round_bp(item.value, bp)
    fees = rule.processing_fee_amount + rule.brokerage_fee_amount
    return LandedCost(
        market_code, origin_country, currency, declared, duty, fees, False, rule.de_minimis_amount
    )


# --- at checkout --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SellerLandedCost:
    seller_id: str
    seller_name: str
    cost: LandedCost | None


def cart_landed_costs(*, session: Session, shopper: User) -> list[SellerLandedCost]:
    """What each seller's shipment in the cart would cost to import into the shopper's
    market, with the items at today's prices."""
    review = carts.review_cart(session=session, shopper=shopper)
    out: list[SellerLandedCost] = []
    for seller_id, lines in review.by_seller().items():
        seller = session.get(SellerProfile, seller_id) if seller_id else None
        if seller is None:
            continue
        items = [
            DeclaredItem(
                description=ln.sku.product.title,
                hs_code=ln.sku.product.hs_code,
                origin_country=ln.sku.product.origin_country,
                quantity=ln.line.quantity,
                unit_value=ln.unit.price.amount,
            )
            for ln in lines
            if ln.sku is not None and ln.unit is not None
        ]
        currency = next((ln.unit.price.currency for ln in lines if ln.unit), seller.currency)
        cost = estimate(
            session=session,
            market_code=shopper.market_code,
            origin_country=seller.ships_from_country,
            currency=currency,
            items=items,
        )
        out.append(SellerLandedCost(seller_id, seller.display_name, cost))
    return out


# --- per order and per parcel -------------------------------------------------------------------


def ships_from(session: Session, order: Order) -> str:
    """Where the order leaves from: the platform warehouse that holds all of it, else
    the seller's own ship-from country."""
    reservation_ids = [line.reservation_id for line in order.lines if line.reservation_id]
    if reservation_ids and len(reservation_ids) == len(order.lines):
        rows = session.execute(
            select(StockLocation.kind, StockLocation.country)
            .join(Reservation, Reservation.location_id == StockLocation.id)
            .where(Reservation.id.in_(reservation_ids))
        ).all()
        countries = {country for kind, country in rows if kind == LocationKind.FULFILMENT_CENTRE}
        if (
            len(rows) == len(set(reservation_ids))
            and len(countries) == 1
            and all(kind == LocationKind.FULFILMENT_CENTRE for kind, _ in rows)
        ):
            return countries.pop()
    seller = session.get(SellerProfile, order.seller_id)
    return seller.ships_from_country if seller is not None else "US"


def _order_items(
    session: Session, order: Order, quantities: dict[str, int] | None = None
) -> list[tuple[str, DeclaredItem]]:
    items = []
    for line in order.lines:
        quantity = line.quantity if quantities is None else quantities.get(line.id, 0)
        if quantity <= 0:
            continue
        product = session.get(Product, line.product_id)
        items.append(
            (
                line.sku_id,
                DeclaredItem(
                    description=line.title[:120],
                    hs_code=product.hs_code if product else None,
                    origin_country=product.origin_country if product else None,
                    quantity=quantity,
                    unit_value=line.unit_price_amount,
                ),
            )
        )
    return items


def record_order_estimate(*, session: Session, order_id: str) -> LandedCostEstimate | None:
    """Keep the estimate the shopper was shown with the order (once)."""
    existing = session.get(LandedCostEstimate, order_id) if looks_like("ord", order_id) else None
    if existing is not None:
        return existing
    order = session.get(Order, order_id) if looks_like("ord", order_id) else None
    checkout_row = session.get(Checkout, order.checkout_id) if order else None
    if order is None or checkout_row is None:
        return None
    origin = ships_from(session, order)
    cost = estimate(
        session=session,
        market_code=checkout_row.shipping_country,
        origin_country=origin,
        currency=order.currency,
        items=[item for _, item in _order_items(session, order)],
    )
    if cost is None:
        return None
    session.execute(
        insert_on_conflict(session, LandedCostEstimate)
        .values(
            order_id=order.id,
            market_code=cost.market_code,
            origin_country=origin,
            currency=cost.currency,
            declared_value_amount=cost.declared_value,
            duty_amount=cost.duty,
            fees_amount=cost.fees,
            de_minimis_applied=cost.de_minimis_applied,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
    )
    session.flush()
    return session.get(LandedCostEstimate, order.id)


def order_estimate(*, session: Session, order_id: str) -> LandedCostEstimate | None:
    return session.get(LandedCostEstimate, order_id) if looks_like("ord", order_id) else None


def declare_parcel(*, session: Session, shipment_id: str) -> CustomsDeclaration | None:
    """The customs declaration of a parcel that crosses a border (None for domestic ones),
    from the catalog's HS codes and origins and the prices the shopper paid."""
    existing = session.scalars(
        select(CustomsDeclaration).where(CustomsDeclaration.shipment_id == shipment_id)
    ).first()
    if existing is not None:
        return existing
    shipment = session.get(Shipment, shipment_id) if looks_like("shp", shipment_id) else None
    if shipment is None:
        return None
    order = session.get(Order, shipment.order_id)
    checkout_row = session.get(Checkout, order.checkout_id) if order else None
    if order is None or checkout_row is None:
        return None
    origin = ships_from(session, order)
    destination = checkout_row.shipping_country
    if origin == destination:
        return None
    quantities = {str(i["order_line_id"]): int(i["quantity"]) for i in shipment.items}
    items = _order_items(session, order, quantities)
    declaration = CustomsDeclaration(
        shipment_id=shipment.id,
        order_id=order.id,
        origin_country=origin,
        destination_country=destination,
        currency=order.currency,
        declared_value_amount=sum(item.value for _, item in items),
        items=[
            {
                "sku_id": sku_id,
                "description": item.description,
                "hs_code": item.hs_code,
                "origin_country": item.origin_country or origin,
                "quantity": item.quantity,
                "unit_value": item.unit_value,
                "value": item.value,
            }
            for sku_id, item in items
        ],
        complete=all(item.hs_code for _, item in items),
    )
    session.add(declaration)
    session.flush()
    return declaration


def order_declarations(*, session: Session, order_id: str) -> list[CustomsDeclaration]:
    return list(
        session.scalars(
            select(CustomsDeclaration)
            .where(CustomsDeclaration.order_id == order_id)
            .order_by(CustomsDeclaration.created_at)
        )
    )


def rules(
    *, session: Session, market_code: str
) -> tuple[CustomsRule | None, list[CustomsDutyRate]]:
    return session.get(CustomsRule, market_code), list(
        session.scalars(
            select(CustomsDutyRate)
            .where(CustomsDutyRate.market_code == market_code)
            .order_by(CustomsDutyRate.hs_chapter)
        )
    )
