"""Demo data for delivery promises: ~100 days of delivered parcels on both lanes (so
the promise on product pages comes from real percentiles), a few late dispatches for
the staff dashboard, and the demo shopper's parcels in flight: one moving normally,
one stuck after the line-haul flight with an open delay case and its notification.

Bulk inserts, and the carrier journeys come from the SIMULATED carrier's own model.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from reelshop.catalog.models import Product, ProductStatus, Sku
from reelshop.checkout.models import Checkout, Order, OrderLine, OrderStatus
from reelshop.db import utcnow
from reelshop.ids import new_id
from reelshop.logistics import delays, estimates
from reelshop.logistics import service as logistics
from reelshop.logistics.carriers import SIMULATED, Mishaps, SimulatedCarrier
from reelshop.logistics.estimate_models import ANY_CARRIER, DeliveryPromise
from reelshop.logistics.models import Lane, ShipByDeadline, Shipment, ShipmentStatus, TrackingEvent
from reelshop.notifications import service as notifications
from reelshop.sellers.models import SellerProfile, SellerStatus

if TYPE_CHECKING:
    from reelshop.seed import SeedContext

PER_LANE = 150
HISTORY_DAYS = 100
SELLERS_PER_LANE = 6


def _sellers_with_skus(session: Session, lane: Lane) -> list[tuple[SellerProfile, Sku]]:
    ships_from = "CN" if lane == Lane.CN_US else "US"
    sellers = session.scalars(
        select(SellerProfile)
        .where(
            SellerProfile.status == SellerStatus.APPROVED,
            SellerProfile.ships_from_country == ships_from,
        )
        .order_by(SellerProfile.id)
        .limit(SELLERS_PER_LANE * 3)
    ).all()
    found = []
    for seller in sellers:
        sku = session.scalars(
            select(Sku)
            .join(Product, Product.id == Sku.product_id)
            .where(
                Product.seller_id == seller.id,
                Product.status == ProductStatus.ACTIVE,
                Sku.is_active.is_(True),
            )
            .limit(1)
        ).first()
        if sku is not None:
            found.append((seller, sku))
        if len(found) == SELLERS_PER_LANE:
            break
    return found


def _journey(
    sim: SimulatedCarrier, lane: Lane, start: datetime
) -> list[tuple[str, str, str, str | None, datetime]]:
    return [
        (
            b["data"]["checkpoint"]["status"],
            b["data"]["checkpoint"]["code"],
            b["data"]["checkpoint"]["message"],
            b["data"]["checkpoint"]["location"],
            datetime.fromisoformat(b["data"]["checkpoint"]["occurred_at"]),
        )
        for b in sim.journey(tracking_number="RSIMSEED", lane=lane, start=start)
    ]


class _Rows:
    def __init__(self) -> None:
        self.orders: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []
        self.shipments: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.deadlines: list[dict[str, Any]] = []
        self.promises: list[dict[str, Any]] = []

    def write(self, session: Session) -> None:
        for model, rows in (
            (Order, self.orders),
            (OrderLine, self.lines),
            (Shipment, self.shipments),
            (TrackingEvent, self.events),
            (ShipByDeadline, self.deadlines),
            (DeliveryPromise, self.promises),
        ):
            if rows:
                session.execute(insert(model), rows)


def _tracking_number(rng: Any) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "RSIM" + "".join(rng.choice(alphabet) for _ in range(12))


def _add_parcel(
    rows: _Rows,
    *,
    checkout_id: str,
    shopper_id: str,
    seller: SellerProfile,
    sku: Sku,
    lane: Lane,
    paid: datetime,
    handed_over: datetime,
    journey: list[tuple[str, str, str, str | None, datetime]],
    now: datetime,
    rng: Any,
) -> tuple[str, str]:
    """One paid order of one unit in one parcel; scans after ``now`` are left out."""
    order_id, shipment_id = new_id("ord"), new_id("shp")
    seen = [j for j in journey if j[4] <= now]
    delivered = next((at for status, _, _, _, at in seen if status == "delivered"), None)
    lost = any(status == "lost" for status, *_ in seen)
    first_transit = next((j[4] for j in seen if j[0] in ("in_transit", "out_for_delivery")), None)
    if delivered is not None:
        status = OrderStatus.COMPLETED if now - delivered > timedelta(days=10) else "delivered"
    else:
        status = OrderStatus.SHIPPED if first_transit is not None else OrderStatus.PAID
    price = sku.price_amount
    rows.orders.append(
        {
            "id": order_id,
            "checkout_id": checkout_id,
            "shopper_id": shopper_id,
            "seller_id": seller.id,
            "status": str(status),
            "currency": "USD",
            "subtotal_amount": price,
            "total_amount": price,
            "placed_at": paid - timedelta(minutes=3),
            "paid_at": paid,
            "shipped_at": first_transit,
            "delivered_at": delivered,
            "completed_at": delivered + timedelta(days=10)
            if status == OrderStatus.COMPLETED and delivered
            else None,
        }
    )
    rows.lines.append(
        {
            "id": new_id("oln"),
            "order_id": order_id,
            "sku_id": sku.id,
            "product_id": sku.product_id,
            "title": sku.product.title[:255],
            "list_price_amount": price,
            "unit_price_amount": price,
            "quantity": 1,
            "line_total_amount": price,
        }
    )
    last = seen[-1] if seen else None
    shipment_status = (
        "delivered" if delivered else "lost" if lost else (last[0] if last else "label_created")
    )
    rows.shipments.append(
        {
            "id": shipment_id,
            "order_id": order_id,
            "seller_id": seller.id,
            "carrier": SIMULATED,
            "tracking_number": _tracking_number(rng),
            "lane": str(lane),
            "status": shipment_status,
            "weight_grams": 400,
            "items": [],
            "label_purchased": True,
            "label_cost_amount": 890 if lane == Lane.CN_US else 450,
            "currency": "USD",
            "last_event_at": max((j[4] for j in seen), default=None),
            "first_transit_at": first_transit,
            "delivered_at": delivered,
            "created_at": handed_over,
        }
    )
    for status_, code, message, location, at in seen:
        rows.events.append(
            {
                "id": new_id("trk"),
                "shipment_id": shipment_id,
                "carrier": SIMULATED,
                "event_id": new_id("cev"),
                "status": status_,
                "code": code,
                "message": message,
                "location": location,
                "occurred_at": at,
                "received_at": at + timedelta(minutes=rng.uniform(1, 40)),
            }
        )
    ship_by = logistics.ship_by_time(
        paid_at=paid,
        handling_days=2,
        timezone=seller.timezone,
        country=seller.ships_from_country,
    )
    rows.deadlines.append(
        {
            "order_id": order_id,
            "seller_id": seller.id,
            "paid_at": paid,
            "ship_by": ship_by,
            "handling_days": 2,
            "seller_timezone": seller.timezone,
            "platform_fulfilled": False,
            "first_transit_at": first_transit,
            "late_dispatch_at": ship_by + timedelta(minutes=10)
            if first_transit is None or first_transit > ship_by
            else None,
        }
    )
    return order_id, shipment_id


def seed_logistics_history(session: Session, ctx: SeedContext) -> None:
    if len(ctx.shopper_ids) < 2:
        return
    now = utcnow()
    rng = ctx.rng
    # Journeys are planned, never posted: the signing key is never used.
    sim = SimulatedCarrier(webhook_secret=secrets.token_hex(16), rng=rng)
    holder = Checkout(
        shopper_id=ctx.shopper_ids[1],
        market_code="US",
        currency="USD",
        subtotal_amount=0,
        total_amount=0,
        shipping_address=json.dumps({"recipient": "Seeded history", "country": "US"}),
        shipping_country="US",
        expires_at=now,
        status="paid",
        paid_at=now - timedelta(days=HISTORY_DAYS),
    )
    session.add(holder)
    session.flush()
    rows = _Rows()
    histories: list[tuple[Lane, datetime, datetime, str]] = []
    lanes = {lane: _sellers_with_skus(session, lane) for lane in Lane}
    for lane, sellers in lanes.items():
        if not sellers:
            continue
        for i in range(PER_LANE):
            seller, sku = sellers[i % len(sellers)]
            paid = now - timedelta(
                days=HISTORY_DAYS * (1 - i / PER_LANE) + 18, hours=rng.uniform(0, 20)
            )
            late_seller = i % len(sellers) == 1 and rng.random() < 0.35
            ship_by = logistics.ship_by_time(
                paid_at=paid,
                handling_days=2,
                timezone=seller.timezone,
                country=seller.ships_from_country,
            )
            handed_over = (
                ship_by + timedelta(hours=rng.uniform(4, 40))
                if late_seller
                else paid + (ship_by - paid) * rng.betavariate(1.3, 2.5)
            )
            order_id, _ = _add_parcel(
                rows,
                checkout_id=holder.id,
                shopper_id=ctx.shopper_ids[1 + i % (len(ctx.shopper_ids) - 1)],
                seller=seller,
                sku=sku,
                lane=lane,
                paid=paid,
                handed_over=handed_over,
                journey=_journey(sim, lane, handed_over),
                now=now,
                rng=rng,
            )
            histories.append((lane, paid, ship_by, order_id))
    # Promises as checkout would have made them: the default window for the first
    # weeks, then percentiles of what had been delivered by the day of payment.
    delivered_by: list[estimates.ParcelHistory] = []
    events_of: dict[str, list[tuple[str, datetime]]] = {}
    for event in rows.events:
        events_of.setdefault(event["shipment_id"], []).append((event["code"], event["occurred_at"]))
    for order_row, shipment in zip(rows.orders, rows.shipments, strict=True):
        if shipment["delivered_at"] is not None:
            delivered_by.append(
                estimates.ParcelHistory(
                    carrier=SIMULATED,
                    lane=shipment["lane"],
                    paid_at=order_row["paid_at"],
                    first_transit_at=shipment["first_transit_at"],
                    delivered_at=shipment["delivered_at"],
                    events=events_of.get(shipment["id"], []),
                )
            )
    zone = estimates.market_zone(session, "US")
    cutoff = now - timedelta(days=HISTORY_DAYS // 2 + 18)
    early_stats = estimates.build_stats(h for h in delivered_by if h.delivered_at < cutoff)
    for lane, paid, ship_by, order_id in histories:
        policy = estimates.policy_for(session=session, market_code="US", lane=lane)
        stat = (
            estimates.pick_stat(
                early_stats,
                carrier=ANY_CARRIER,
                lane=lane,
                milestone="paid",
                min_history=policy.min_history,
            )
            if paid > cutoff
            else None
        )
        window = estimates.window_from(stat, policy, since=paid, zone=zone, default_start=ship_by)
        rows.promises.append(
            {
                "order_id": order_id,
                "market_code": "US",
                "lane": str(lane),
                "earliest": window.earliest,
                "latest": window.latest,
                "source": window.source,
                "current_earliest": window.earliest,
                "current_latest": window.latest,
                "promised_at": paid,
                "updated_at": paid,
            }
        )
    rows.write(session)
    session.flush()
    estimates.refresh_transit_stats(session=session, now=now)
    _demo_shopper_parcels(session, ctx, lanes, now)


def _demo_shopper_parcels(
    session: Session,
    ctx: SeedContext,
    lanes: dict[Lane, list[tuple[SellerProfile, Sku]]],
    now: datetime,
) -> None:
    """The demo shopper's orders in flight: one moving, one stuck (a delay case)."""
    shopper_id = ctx.shopper_ids[0]
    calm = SimulatedCarrier(
        webhook_secret=secrets.token_hex(16),
        rng=ctx.rng,
        mishaps=Mishaps(customs_hold=0, exception=0, lost=0),
    )
    holder = Checkout(
        shopper_id=shopper_id,
        market_code="US",
        currency="USD",
        subtotal_amount=0,
        total_amount=0,
        shipping_address=json.dumps({"recipient": "Demo Shopper", "country": "US"}),
        shipping_country="US",
        expires_at=now,
        status="paid",
        paid_at=now - timedelta(days=6),
    )
    session.add(holder)
    session.flush()
    rows = _Rows()
    placed: list[str] = []
    if lanes.get(Lane.DOMESTIC_US):
        seller, sku = lanes[Lane.DOMESTIC_US][0]
        paid = now - timedelta(days=1, hours=8)
        start = paid + timedelta(hours=6)
        _, shipment_id = _add_parcel(
            rows,
            checkout_id=holder.id,
            shopper_id=shopper_id,
            seller=seller,
            sku=sku,
            lane=Lane.DOMESTIC_US,
            paid=paid,
            handed_over=start,
            journey=_journey(calm, Lane.DOMESTIC_US, start),
            now=now,
            rng=ctx.rng,
        )
        placed.append(shipment_id)
    if lanes.get(Lane.CN_US):
        seller, sku = lanes[Lane.CN_US][0]
        paid = now - timedelta(days=9)
        start = paid + timedelta(hours=10)
        journey = _journey(calm, Lane.CN_US, start)
        # Stuck after the flight landed: nothing since the line-haul arrival scan.
        arrived = next(i for i, j in enumerate(journey) if j[1] == "linehaul_arrived")
        stuck_at = now - timedelta(days=5)
        shift = stuck_at - journey[arrived][4]
        journey = [(*j[:4], j[4] + shift) for j in journey[: arrived + 1]]
        _, shipment_id = _add_parcel(
            rows,
            checkout_id=holder.id,
            shopper_id=shopper_id,
            seller=seller,
            sku=sku,
            lane=Lane.CN_US,
            paid=paid,
            handed_over=start,
            journey=journey,
            now=now,
            rng=ctx.rng,
        )
        placed.append(shipment_id)
    rows.write(session)
    session.flush()
    for shipment_id in placed:
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None
        estimates.promise_order(session=session, order_id=shipment.order_id, now=now)
        estimates.reestimate_parcel(session=session, shipment_id=shipment_id, now=now)
        if shipment.status != ShipmentStatus.DELIVERED:
            notifications.notify(
                session=session,
                user_id=shopper_id,
                kind="order.shipped",
                title="Your order is on its way",
                body="The carrier has your parcel. Follow it on the tracking page.",
                link=f"/orders/{shipment.order_id}/tracking",
            )
    delays.detect_delays(session=session, now=now)
