"""Background work of platform fulfilment, customs and seller performance: outbox
handlers that mark platform-fulfilled orders, charge their fees when they ship, keep
each order's landed-cost estimate and each cross-border parcel's declaration, and the
periodic performance snapshot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from reelshop.db import unit_of_work
from reelshop.logistics import customs, fulfilment, performance
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe
from reelshop.scheduling import JobContext, periodic


@subscribe("order.paid", name="logistics.mark_platform_fulfilled")
def mark_platform_fulfilled(session: Session, event: OutboxEvent) -> None:
    fulfilment.mark_platform_fulfilled(session=session, order_id=str(event.payload["order_id"]))


@subscribe("order.shipped", name="logistics.charge_fulfilment_fee")
def charge_fulfilment_fee(session: Session, event: OutboxEvent) -> None:
    fulfilment.charge_fulfilment_fee(session=session, order_id=str(event.payload["order_id"]))


@subscribe("order.placed", name="logistics.record_landed_cost")
def record_landed_cost(session: Session, event: OutboxEvent) -> None:
    customs.record_order_estimate(session=session, order_id=str(event.payload["order_id"]))


@subscribe("shipment.created", name="logistics.declare_customs")
def declare_customs(session: Session, event: OutboxEvent) -> None:
    customs.declare_parcel(session=session, shipment_id=str(event.payload["shipment_id"]))


def snapshot_performance(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    with unit_of_work(factory) as session:
        return performance.snapshot_all(session=session, now=now)


@periodic("logistics.snapshot_seller_performance", every_s=6 * 3600.0)
def _snapshot_performance(ctx: JobContext) -> object:
    return snapshot_performance(ctx.factory)
