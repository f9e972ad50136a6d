"""Platform fulfilment: sellers send stock to a platform warehouse in inbound shipments,
staff count it in (discrepancies kept per SKU), the counted units become sellable
there, and orders reserved entirely from that stock are picked and shipped by the
platform. Such orders never count against the seller's dispatch record; the seller
pays a per-unit fee by billable weight, charged through the ledger when the order
ships.

Billable weight is the greater of the actual and the dimensional weight
(L x W x H in inches / the market's divisor, 166, in pounds), in whole ounces rounded
up. The catalog keeps dimensions in millimetres and weights in grams.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from reelshop.catalog.models import Product, Sku
from reelshop.checkout.models import Checkout, Order, OrderStatus
from reelshop.db import insert_on_conflict, utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.ids import looks_like
from reelshop.inventory import service as inventory
from reelshop.inventory.models import (
    AdjustmentReason,
    LocationKind,
    Reservation,
    StockLevel,
    StockLocation,
)
from reelshop.logistics.carriers import Carrier
from reelshop.logistics.fulfilment_models import (
    FulfilmentFeeBand,
    FulfilmentFeeCharge,
    FulfilmentPolicy,
    InboundShipment,
    InboundShipmentLine,
    InboundStatus,
    PlatformFulfilledOrder,
)
from reelshop.money import Money
from reelshop.outbox.service import emit
from reelshop.payments import ledger
from reelshop.payments.ledger import Posting
from reelshop.security import audit

FEE_KIND = "fulfilment_fee"
MAX_INBOUND_LINES = 50
MAX_UNITS_PER_LINE = 10_000
# Exact conversions as integer ratios, so weights round the same way on every platform.
_MG_PER_OZ_X1000 = 28_349_523  # 28.349523125 g per ounce, in mg x 1000 (rounded)
_MM3_PER_IN3_X1000 = 16_387_064  # 25.4 mm cubed = 16 387.064 mm^3


# --- billable weight and fees ---------------------------------------------------------------


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def actual_ounces(weight_grams: int) -> int:
    return _ceil_div(weight_grams * 1_000_000, _MG_PER_OZ_X1000)


def dimensional_ounces(
    length_mm: int | None, width_mm: int | None, height_mm: int | None, *, divisor: int = 166
) -> int:
    """L x W x H (in^3) / divisor gives pounds; in ounces, rounded up. 0 without dimensions."""
    if not (length_mm and width_mm and height_mm):
        return 0
    volume_mm3 = length_mm * width_mm * height_mm
    return _ceil_div(volume_mm3 * 1000 * 16, _MM3_PER_IN3_X1000 * divisor)


@dataclass(frozen=True)
class BillableWeight:
    actual_oz: int
    dimensional_oz: int

    @property
    def billable_oz(self) -> int:
        return max(self.actual_oz, self.dimensional_oz)


def billable_weight(sku: Sku, product: Product, *, divisor: int = 166) -> BillableWeight:
    return BillableWeight(
        actual_ounces(sku.weight_grams or 0),
        dimensional_ounces(product.length_mm, product.width_mm, product.height_mm, divisor=divisor),
    )


def fee_for(billable_oz: int, bands: Sequence[FulfilmentFeeBand]) -> int:
    """Per-unit fee in minor units: the first closed band that holds the weight, else the
    open band's fee plus its per-pound surcharge for every started pound above."""
    closed = sorted((b for b in bands if b.up_to_oz is not None), key=lambda b: b.up_to_oz or 0)
    for band in closed:
        if billable_oz <= (band.up_to_oz or 0):
            return band.fee_amount
    open_band = next((b for b in bands if b.up_to_oz is None), None)
    if open_band is None:
        raise Conflict("no fulfilment fee band covers this weight", billable_oz=billable_oz)
    heaviest = max((b.up_to_oz or 0 for b in closed), default=0)
    return open_band.fee_amount + open_band.extra_per_lb_amount * _ceil_div(
        billable_oz - heaviest, 16
    )


def policy(*, session: Session, market_code: str) -> FulfilmentPolicy | None:
    return session.get(FulfilmentPolicy, market_code)


def fee_bands(*, session: Session, market_code: str) -> list[FulfilmentFeeBand]:
    return list(
        session.scalars(
            select(FulfilmentFeeBand)
            .where(FulfilmentFeeBand.market_code == market_code)
            .order_by(FulfilmentFeeBand.up_to_oz.is_(None), FulfilmentFeeBand.up_to_oz)
        )
    )


# --- warehouses and inbound shipments -------------------------------------------------------


def platform_warehouses(*, session: Session) -> list[StockLocation]:
    return list(
        session.scalars(
            select(StockLocation)
            .where(
                StockLocation.kind == LocationKind.FULFILMENT_CENTRE,
                StockLocation.seller_id.is_(None),
            )
            .order_by(StockLocation.created_at, StockLocation.id)
        )
    )


def ensure_platform_warehouse(*, session: Session, name: str, country: str) -> StockLocation:
    for location in platform_warehouses(session=session):
        if location.name == name:
            return location
    return inventory.create_location(
        session=session,
        seller_id=None,
        name=name,
        country=country,
        kind=LocationKind.FULFILMENT_CENTRE,
    )


def _warehouse(session: Session, location_id: str | None) -> StockLocation:
    houses = platform_warehouses(session=session)
    if not houses:
        raise Conflict("no platform warehouse is open yet")
    if location_id is None:
        return houses[0]
    for house in houses:
        if house.id == location_id:
            return house
    raise InvalidInput("not a platform warehouse", field="location_id")


@dataclass(frozen=True)
class InboundLineIn:
    sku_id: str
    quantity: int


def announce_inbound(
    *,
    session: Session,
    seller_id: str,
    lines: Sequence[InboundLineIn],
    reference: str = "",
    location_id: str | None = None,
) -> InboundShipment:
    """The seller says what is on its way. Only the seller's own SKUs with a weight (the
    fee needs one), each once, 1 to 10 000 units."""
    if not lines:
        raise InvalidInput("an inbound shipment needs at least one SKU", field="lines")
    if len(lines) > MAX_INBOUND_LINES:
        raise InvalidInput(f"at most {MAX_INBOUND_LINES} SKUs per shipment", field="lines")
    if len(reference) > 80:
        raise InvalidInput("reference too long", field="reference")
    seen: set[str] = set()
    for line in lines:
        if not 1 <= line.quantity <= MAX_UNITS_PER_LINE:
            raise InvalidInput(
                f"quantity must be 1 to {MAX_UNITS_PER_LINE}", field="quantity", sku_id=line.sku_id
            )
        if line.sku_id in seen:
            raise InvalidInput("each SKU once per shipment", field="sku_id", sku_id=line.sku_id)
        seen.add(line.sku_id)
    ids = [line.sku_id for line in lines if looks_like("sku", line.sku_id)]
    skus = {
        sku.id: sku
        for sku in session.scalars(
            select(Sku).options(selectinload(Sku.product)).where(Sku.id.in_(ids))
        )
    }
    for line in lines:
        sku = skus.get(line.sku_id)
        if sku is None or sku.product.seller_id != seller_id:
            raise NotFound("no such SKU in your shop", sku_id=line.sku_id)
        if not sku.weight_grams:
            raise InvalidInput(
                "set the SKU's weight before sending it to a platform warehouse",
                field="sku_id",
                sku_id=sku.id,
            )
    house = _warehouse(session, location_id)
    inbound = InboundShipment(
        seller_id=seller_id, location_id=house.id, reference=reference.strip()
    )
    inbound.lines = [
        InboundShipmentLine(sku_id=line.sku_id, announced_quantity=line.quantity) for line in lines
    ]
    session.add(inbound)
    session.flush()
    emit(
        session=session,
        topic="fulfilment.inbound_announced",
        payload={"inbound_id": inbound.id, "seller_id": seller_id, "location_id": house.id},
        subject_id=inbound.id,
    )
    return inbound


@dataclass(frozen=True)
class ReceivedLineIn:
    sku_id: str
    received_quantity: int
    damaged_quantity: int = 0


def _lock_inbound(session: Session, inbound_id: str) -> InboundShipment:
    query = (
        select(InboundShipment)
        .where(InboundShipment.id == inbound_id)
        .execution_options(populate_existing=True)
        .with_for_update()
    )
    inbound = session.scalars(query).first() if looks_like("ibs", inbound_id) else None
    if inbound is None:
        raise NotFound("no such inbound shipment")
    return inbound


def receive_inbound(
    *,
    session: Session,
    inbound_id: str,
    counted: Sequence[ReceivedLineIn],
    staff_id: str,
    now: datetime | None = None,
) -> InboundShipment:
    """Staff count the shipment in, once. SKUs left out of ``counted`` arrived with zero
    units. Undamaged units go on hand at the warehouse (sellable at once); the
    difference to what was announced stays on each line as its discrepancy."""
    inbound = _lock_inbound(session, inbound_id)
    if inbound.status != InboundStatus.ANNOUNCED:
        raise Conflict(f"this inbound shipment is {inbound.status}", status=inbound.status)
    by_sku = {line.sku_id: line for line in inbound.lines}
    counts: dict[str, ReceivedLineIn] = {}
    for count in counted:
        if count.sku_id not in by_sku:
            raise InvalidInput("that SKU was not announced", field="sku_id", sku_id=count.sku_id)
        if count.sku_id in counts:
            raise InvalidInput("each SKU once", field="sku_id", sku_id=count.sku_id)
        if not 0 <= count.received_quantity <= MAX_UNITS_PER_LINE:
            raise InvalidInput("received quantity out of range", field="received_quantity")
        if not 0 <= count.damaged_quantity <= count.received_quantity:
            raise InvalidInput(
                "damaged units must be between 0 and the units received", field="damaged_quantity"
            )
        counts[count.sku_id] = count
    discrepancies = []
    for sku_id, line in by_sku.items():
        count = counts.get(sku_id, ReceivedLineIn(sku_id, 0, 0))
        line.received_quantity = count.received_quantity
        line.damaged_quantity = count.damaged_quantity
        sellable = count.received_quantity - count.damaged_quantity
        if sellable > 0:
            inventory.adjust(
                session=session,
                sku_id=sku_id,
                location_id=inbound.location_id,
                delta=sellable,
                reason=AdjustmentReason.RECEIVED,
                actor_id=staff_id,
                note=f"inbound {inbound.id}",
            )
        if line.discrepancy:
            discrepancies.append({"sku_id": sku_id, "discrepancy": line.discrepancy})
    inbound.status = InboundStatus.RECEIVED
    inbound.received_at = now or utcnow()
    inbound.received_by = staff_id
    session.flush()
    audit.record(
        session=session,
        actor_id=staff_id,
        action="fulfilment.inbound_received",
        target_type="inbound_shipment",
        target_id=inbound.id,
        detail={"discrepancies": discrepancies},
    )
    emit(
        session=session,
        topic="fulfilment.inbound_received",
        payload={
            "inbound_id": inbound.id,
            "seller_id": inbound.seller_id,
            "discrepancies": discrepancies,
        },
        subject_id=inbound.id,
    )
    return inbound


def seller_inbound(*, session: Session, seller_id: str, limit: int = 100) -> list[InboundShipment]:
    return list(
        session.scalars(
            select(InboundShipment)
            .options(selectinload(InboundShipment.lines))
            .where(InboundShipment.seller_id == seller_id)
            .order_by(InboundShipment.created_at.desc(), InboundShipment.id)
            .limit(limit)
        )
    )


def inbound_awaiting_receipt(*, session: Session, limit: int = 100) -> list[InboundShipment]:
    return list(
        session.scalars(
            select(InboundShipment)
            .options(selectinload(InboundShipment.lines))
            .where(InboundShipment.status == InboundStatus.ANNOUNCED)
            .order_by(InboundShipment.created_at, InboundShipment.id)
            .limit(limit)
        )
    )


def warehouse_stock(*, session: Session, seller_id: str) -> list[tuple[Sku, StockLevel]]:
    """The seller's units at platform warehouses."""
    rows = session.execute(
        select(Sku, StockLevel)
        .join(StockLevel, StockLevel.sku_id == Sku.id)
        .join(StockLocation, StockLocation.id == StockLevel.location_id)
        .join(Product, Product.id == Sku.product_id)
        .options(selectinload(Sku.product))
        .where(
            Product.seller_id == seller_id,
            StockLocation.kind == LocationKind.FULFILMENT_CENTRE,
        )
        .order_by(Product.title, Sku.position)
    ).all()
    return [(sku, level) for sku, level in rows]


# --- platform-fulfilled orders ----------------------------------------------------------------


def _platform_location(session: Session, order: Order) -> str | None:
    """The warehouse every line of the order was reserved at, or None."""
    reservation_ids = [line.reservation_id for line in order.lines]
    if not reservation_ids or any(rid is None for rid in reservation_ids):
        return None
    rows = session.execute(
        select(Reservation.location_id, StockLocation.kind)
        .join(StockLocation, StockLocation.id == Reservation.location_id)
        .where(Reservation.id.in_([rid for rid in reservation_ids if rid]))
    ).all()
    if len(rows) != len(set(reservation_ids)):
        return None
    if any(kind != LocationKind.FULFILMENT_CENTRE for _, kind in rows):
        return None
    locations = {location for location, _ in rows}
    return locations.pop() if len(locations) == 1 else None


def is_platform_fulfilled(order: Order) -> bool:
    """True when the platform ships this order: every unit was reserved at one platform
    warehouse (mixed orders are the seller's to ship and count as theirs)."""
    session = object_session(order)
    if session is None:
        return False
    if session.get(PlatformFulfilledOrder, order.id) is not None:
        return True
    return _platform_location(session, order) is not None


@dataclass(frozen=True)
class PlatformHandling:
    handling_days: int
    timezone: str
    country: str


def platform_handling(*, session: Session, order: Order) -> PlatformHandling | None:
    """The platform's handling time for a platform-fulfilled order (None otherwise):
    the market's fulfilment policy, counted in the warehouse's time zone."""
    location_id = _platform_location(session, order)
    if location_id is None:
        return None
    location = session.get(StockLocation, location_id)
    checkout_row = session.get(Checkout, order.checkout_id)
    terms = policy(session=session, market_code=checkout_row.market_code) if checkout_row else None
    return PlatformHandling(
        handling_days=terms.handling_days if terms else 1,
        timezone=terms.warehouse_timezone if terms else "America/Chicago",
        country=location.country if location else "US",
    )


def mark_platform_fulfilled(*, session: Session, order_id: str) -> PlatformFulfilledOrder | None:
    """Record a paid order as the platform's to ship (idempotent; None when it is not)."""
    order = session.get(Order, order_id) if looks_like("ord", order_id) else None
    if order is None:
        return None
    location_id = _platform_location(session, order)
    if location_id is None:
        return None
    session.execute(
        insert_on_conflict(session, PlatformFulfilledOrder)
        .values(
            order_id=order.id,
            seller_id=order.seller_id,
            location_id=location_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
    )
    session.flush()
    return session.get(PlatformFulfilledOrder, order.id)


def orders_to_pick(
    *, session: Session, limit: int = 100
) -> list[tuple[PlatformFulfilledOrder, Order]]:
    rows = session.execute(
        select(PlatformFulfilledOrder, Order)
        .join(Order, Order.id == PlatformFulfilledOrder.order_id)
        .where(PlatformFulfilledOrder.shipment_id.is_(None), Order.status == OrderStatus.PAID)
        .order_by(Order.paid_at, Order.id)
        .limit(limit)
    ).all()
    return [(pfo, order) for pfo, order in rows]


def ship_platform_order(
    *, session: Session, order_id: str, staff_id: str, carrier: Carrier, now: datetime | None = None
) -> PlatformFulfilledOrder:
    """The warehouse picks the order and hands it to ``carrier`` (a label is bought; the
    order ships at the carrier's first scan, like any other)."""
    from reelshop.logistics import service as logistics
    from reelshop.logistics.models import Lane

    query = (
        select(PlatformFulfilledOrder)
        .where(PlatformFulfilledOrder.order_id == order_id)
        .execution_options(populate_existing=True)
        .with_for_update()
    )
    record = session.scalars(query).first() if looks_like("ord", order_id) else None
    if record is None:
        raise NotFound("no platform-fulfilled order with that id")
    if record.shipment_id is not None:
        raise Conflict("this order has already been picked and shipped")
    order = session.get(Order, order_id)
    assert order is not None
    weight = 0
    for line in order.lines:
        sku = session.get(Sku, line.sku_id)
        weight += (sku.weight_grams if sku and sku.weight_grams else 100) * line.quantity
    location = session.get(StockLocation, record.location_id)
    checkout_row = session.get(Checkout, order.checkout_id)
    domestic = (
        location is not None
        and checkout_row is not None
        and (location.country == checkout_row.shipping_country)
    )
    shipment = logistics.create_shipment(
        session=session,
        seller_id=order.seller_id,
        order_id=order.id,
        carrier=carrier,
        weight_grams=max(1, min(weight, 70_000)),
        lane=Lane.DOMESTIC_US if domestic else None,
        now=now,
    )
    record.shipment_id = shipment.id
    record.shipped_by = staff_id
    record.picked_at = now or utcnow()
    session.flush()
    audit.record(
        session=session,
        actor_id=staff_id,
        action="fulfilment.order_shipped",
        target_type="order",
        target_id=order.id,
        detail={"shipment_id": shipment.id},
    )
    return record


# --- fees --------------------------------------------------------------------------------------


def quote_order_fee(
    *, session: Session, order: Order, market_code: str
) -> tuple[Money, list[dict[str, object]]]:
    terms = policy(session=session, market_code=market_code)
    if terms is None:
        raise Conflict("platform fulfilment is not offered in this market", market=market_code)
    bands = fee_bands(session=session, market_code=market_code)
    total = 0
    breakdown: list[dict[str, object]] = []
    for line in order.lines:
        sku = session.get(Sku, line.sku_id)
        product = session.get(Product, line.product_id)
        if sku is None or product is None:
            raise Conflict("a line's SKU is gone", order_line_id=line.id)
        weight = billable_weight(sku, product, divisor=terms.dim_divisor)
        unit_fee = fee_for(weight.billable_oz, bands)
        total += unit_fee * line.quantity
        breakdown.append(
            {
                "sku_id": sku.id,
                "sku_code": sku.code,
                "quantity": line.quantity,
                "actual_oz": weight.actual_oz,
                "dimensional_oz": weight.dimensional_oz,
                "billable_oz": weight.billable_oz,
                "unit_fee": unit_fee,
            }
        )
    return Money(total, terms.currency), breakdown


def fee_ref(order_id: str) -> str:
    return f"{FEE_KIND}:{order_id}"


def charge_fulfilment_fee(*, session: Session, order_id: str) -> FulfilmentFeeCharge | None:
    """Charge the seller for a platform-fulfilled order once it ships: a receivable netted
    from the next payout, against fulfilment revenue. Once per order (the journal ref
    and this table's key both say so); None for orders the seller ships."""
    if not looks_like("ord", order_id):
        return None
    # Marked here too: the fee must not depend on which outbox handler ran first.
    record = session.get(PlatformFulfilledOrder, order_id) or mark_platform_fulfilled(
        session=session, order_id=order_id
    )
    if record is None:
        return None
    # One charger at a time per order: the row lock makes a second handler wait, then
    # find the charge (SQLite's write lock does the same).
    session.scalars(
        select(PlatformFulfilledOrder)
        .where(PlatformFulfilledOrder.order_id == order_id)
        .with_for_update()
    ).first()
    existing = session.scalars(
        select(FulfilmentFeeCharge)
        .where(FulfilmentFeeCharge.order_id == order_id)
        .execution_options(populate_existing=True)
    ).first()
    if existing is not None:
        return existing
    order = session.get(Order, order_id)
    checkout_row = session.get(Checkout, order.checkout_id) if order else None
    if order is None or checkout_row is None:
        return None
    fee, breakdown = quote_order_fee(
        session=session, order=order, market_code=checkout_row.market_code
    )
    ref = fee_ref(order_id)
    if fee.amount > 0 and not ledger.entry_exists(session=session, ref=ref):
        ledger.post(
            session=session,
            kind=FEE_KIND,
            ref=ref,
            order_id=order_id,
            seller_id=order.seller_id,
            memo=f"platform fulfilment of {sum(line.quantity for line in order.lines)} units",
            postings=[
                Posting.debit(ledger.seller_receivable(order.seller_id), fee),
                Posting.credit(ledger.PLATFORM_FULFILMENT_REVENUE, fee),
            ],
        )
    charge = FulfilmentFeeCharge(
        order_id=order_id,
        seller_id=order.seller_id,
        units=sum(line.quantity for line in order.lines),
        amount=fee.amount,
        currency=fee.currency,
        journal_ref=ref,
        breakdown=breakdown,
    )
    session.add(charge)
    session.flush()
    return charge


def seller_fee_charges(
    *, session: Session, seller_id: str, limit: int = 100
) -> list[FulfilmentFeeCharge]:
    return list(
        session.scalars(
            select(FulfilmentFeeCharge)
            .where(FulfilmentFeeCharge.seller_id == seller_id)
            .order_by(FulfilmentFeeCharge.created_at.desc(), FulfilmentFeeCharge.order_id)
            .limit(limit)
        )
    )
