"""Demo data for platform fulfilment and seller performance: a platform warehouse with
stock counted in for a few sellers (one count short), platform-fulfilled orders (one
shipped, so its fee shows), a pending inbound shipment for staff to receive, and 60
days of performance snapshots for the demo seller drawn from 90 days of order history."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.accounts.models import User
from reelshop.catalog.models import Product, ProductStatus, Sku
from reelshop.checkout import cart as carts
from reelshop.checkout import service as checkout
from reelshop.checkout.models import Checkout, Order, OrderLine, OrderStatus
from reelshop.checkout.orders import transition
from reelshop.config import get_settings
from reelshop.db import utcnow
from reelshop.errors import ProblemError
from reelshop.logistics import fulfilment, performance
from reelshop.logistics import service as logistics
from reelshop.logistics.carriers import SIMULATED, get_carrier
from reelshop.logistics.models import ShipByDeadline

if TYPE_CHECKING:
    from reelshop.seed import SeedContext

WAREHOUSE = "Reelshop Dallas (TX)"
ADDRESS = checkout.AddressInput(
    recipient="Demo Shopper",
    line1="1 Market Street",
    city="Dallas",
    region="TX",
    postal_code="75201",
    country="US",
)


def _skus(session: Session, seller_id: str, limit: int) -> list[Sku]:
    return list(
        session.scalars(
            select(Sku)
            .join(Product, Product.id == Sku.product_id)
            .where(
                Product.seller_id == seller_id,
                Product.status == ProductStatus.ACTIVE,
                Sku.is_active.is_(True),
            )
            .order_by(Sku.id)
            .limit(limit)
        )
    )


def seed_fulfilment(session: Session, ctx: SeedContext) -> None:
    staff_id = ctx.extra.get("demo_staff_user_id") or "seed"
    fulfilment.ensure_platform_warehouse(session=session, name=WAREHOUSE, country="US")
    stocked: list[Sku] = []
    for n, seller_id in enumerate(ctx.seller_ids[:4]):
        skus = _skus(session, seller_id, 2)
        if not skus:
            continue
        for sku in skus:
            sku.weight_grams = sku.weight_grams or 250
        inbound = fulfilment.announce_inbound(
            session=session,
            seller_id=seller_id,
            lines=[fulfilment.InboundLineIn(sku.id, 400) for sku in skus],
            reference=f"PO-DEMO-{n + 1}",
        )
        counted = [fulfilment.ReceivedLineIn(sku.id, 400) for sku in skus]
        if n == 0:  # one count short with a damaged unit: the seller sees the discrepancy
            counted[0] = fulfilment.ReceivedLineIn(skus[0].id, 396, damaged_quantity=1)
        fulfilment.receive_inbound(
            session=session, inbound_id=inbound.id, counted=counted, staff_id=str(staff_id)
        )
        stocked.extend(skus)
        if n == 0:  # and one more on its way, for the staff page
            fulfilment.announce_inbound(
                session=session,
                seller_id=seller_id,
                lines=[fulfilment.InboundLineIn(skus[-1].id, 120)],
                reference="PO-DEMO-NEXT",
            )
    settings = get_settings()
    carrier = get_carrier(SIMULATED, secret_key=settings.secret_key)
    for i, sku in enumerate(stocked[:5]):
        shopper = (
            session.get(User, ctx.shopper_ids[i % len(ctx.shopper_ids)])
            if ctx.shopper_ids
            else None
        )
        if shopper is None:
            break
        try:
            with session.begin_nested():
                carts.add_line(session=session, shopper=shopper, sku_id=sku.id, quantity=1)
                placed = checkout.place_checkout(
                    session=session,
                    shopper=shopper,
                    address=ADDRESS,
                    reservation_ttl=timedelta(minutes=15),
                )
                checkout.mark_checkout_paid(session=session, checkout_id=placed.id)
                for order in checkout.orders_of_checkout(session=session, checkout_id=placed.id):
                    if (
                        fulfilment.mark_platform_fulfilled(session=session, order_id=order.id)
                        is None
                    ):
                        continue
                    logistics.ensure_ship_by(session=session, order_id=order.id)
                    if i < 2:
                        fulfilment.ship_platform_order(
                            session=session,
                            order_id=order.id,
                            staff_id=str(staff_id),
                            carrier=carrier,
                        )
                        transition(
                            session=session,
                            order_id=order.id,
                            to=OrderStatus.SHIPPED,
                            reason="demo scan",
                        )
                        fulfilment.charge_fulfilment_fee(session=session, order_id=order.id)
        except ProblemError:
            continue
    session.flush()


def seed_performance(session: Session, ctx: SeedContext) -> None:
    """90 days of the demo seller's delivered orders (a few late, one cancelled), then a
    snapshot for each of the last 60 days, so the Performance page has a trend."""
    if not ctx.seller_ids or not ctx.shopper_ids:
        return
    seller_id = ctx.seller_ids[0]
    skus = _skus(session, seller_id, 3)
    if not skus:
        return
    now = utcnow()
    holder = Checkout(
        shopper_id=ctx.shopper_ids[0],
        market_code="US",
        currency="USD",
        subtotal_amount=0,
        total_amount=0,
        shipping_address=json.dumps({"recipient": "Demo Shopper", "country": "US"}),
        shipping_country="US",
        expires_at=now,
        status="paid",
    )
    session.add(holder)
    session.flush()
    for i in range(48):
        paid = now - timedelta(days=88 - i * 1.8, hours=ctx.rng.randint(0, 12))
        cancelled = i == 17
        late = i in (3, 9, 11, 30)  # early misses; the trend improves
        sku = skus[i % len(skus)]
        order = Order(
            checkout_id=holder.id,
            shopper_id=ctx.shopper_ids[i % len(ctx.shopper_ids)],
            seller_id=seller_id,
            currency="USD",
            subtotal_amount=sku.price_amount,
            total_amount=sku.price_amount,
            status=OrderStatus.CANCELLED if cancelled else OrderStatus.COMPLETED,
            placed_at=paid,
            paid_at=paid,
            shipped_at=None if cancelled else paid + timedelta(days=3 if late else 1),
            delivered_at=None if cancelled else paid + timedelta(days=9 if late else 8),
            cancelled_at=paid + timedelta(hours=20) if cancelled else None,
        )
        session.add(order)
        session.flush()
        session.add(
            OrderLine(
                order_id=order.id,
                sku_id=sku.id,
                product_id=sku.product_id,
                title=sku.product.title[:255],
                list_price_amount=sku.price_amount,
                unit_price_amount=sku.price_amount,
                quantity=1,
                line_total_amount=sku.price_amount,
            )
        )
        ship_by = paid + timedelta(days=2)
        session.add(
            ShipByDeadline(
                order_id=order.id,
                seller_id=seller_id,
                paid_at=paid,
                ship_by=ship_by,
                handling_days=2,
                seller_timezone="Asia/Shanghai",
                first_transit_at=None if cancelled else paid + timedelta(days=3 if late else 1),
                late_dispatch_at=ship_by + timedelta(minutes=10) if late else None,
            )
        )
    session.flush()
    for back in range(59, -1, -1):
        performance.snapshot(session=session, seller_id=seller_id, now=now - timedelta(days=back))
    session.flush()
