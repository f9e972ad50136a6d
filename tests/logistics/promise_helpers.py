"""Delivered history for promise tests: parcels inserted in bulk on a paid order."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from reelshop.checkout.models import Order
from reelshop.ids import new_id
from reelshop.logistics.models import Shipment, ShipmentStatus, TrackingEvent

DOMESTIC_CODES = ("picked_up", "arrived_hub", "departed_hub", "out_for_delivery")


def add_history(
    session: Session,
    *,
    order_id: str,
    seller_id: str,
    count: int,
    paid_at: datetime,
    lane: str = "domestic_us",
    carrier: str = "simulated",
    dispatch_h: float = 20.0,
    transit_h: tuple[float, float] = (60.0, 90.0),
    seed: int = 1,
) -> list[str]:
    """``count`` delivered parcels: handed over ``dispatch_h`` after ``paid_at``, in
    transit for a uniform draw from ``transit_h`` split evenly between the scans."""
    rng = random.Random(seed)
    session.execute(update(Order).where(Order.id == order_id).values(paid_at=paid_at))
    shipments, events = [], []
    for _ in range(count):
        shipment_id = new_id("shp")
        start = paid_at + timedelta(hours=dispatch_h)
        total = rng.uniform(*transit_h)
        step = total / len(DOMESTIC_CODES)
        for index, code in enumerate(DOMESTIC_CODES):
            status = ShipmentStatus.OUT_FOR_DELIVERY if code == "out_for_delivery" else "in_transit"
            events.append(
                {
                    "id": new_id("trk"),
                    "shipment_id": shipment_id,
                    "carrier": carrier,
                    "event_id": new_id("cev"),
                    "status": str(status),
                    "code": code,
                    "message": code,
                    "occurred_at": start + timedelta(hours=step * index),
                }
            )
        delivered = start + timedelta(hours=total)
        events.append(
            {
                "id": new_id("trk"),
                "shipment_id": shipment_id,
                "carrier": carrier,
                "event_id": new_id("cev"),
                "status": "delivered",
                "code": "delivered",
                "message": "Delivered",
                "occurred_at": delivered,
            }
        )
        shipments.append(
            {
                "id": shipment_id,
                "order_id": order_id,
                "seller_id": seller_id,
                "carrier": carrier,
                "tracking_number": "RSIM" + shipment_id[-12:].upper(),
                "lane": lane,
                "status": "delivered",
                "weight_grams": 300,
                "items": [],
                "first_transit_at": start,
                "last_event_at": delivered,
                "delivered_at": delivered,
            }
        )
    session.execute(insert(Shipment), shipments)
    session.execute(insert(TrackingEvent), events)
    session.commit()
    return [str(s["id"]) for s in shipments]
