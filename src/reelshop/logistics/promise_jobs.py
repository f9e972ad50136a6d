"""Background work of delivery promises: refresh the cached percentiles, promise each
paid order a window, re-estimate parcels as scans arrive, open and close delay cases,
and cancel orders nobody shipped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from reelshop.db import unit_of_work
from reelshop.logistics import cancellation, delays, estimates
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe
from reelshop.payments import service as payments
from reelshop.scheduling import JobContext, periodic


@subscribe("order.paid", name="logistics.promise_delivery")
def promise_delivery(session: Session, event: OutboxEvent) -> None:
    estimates.promise_order(session=session, order_id=str(event.payload["order_id"]))


@subscribe("shipment.tracking_updated", name="logistics.reestimate_parcel")
def reestimate_parcel(session: Session, event: OutboxEvent) -> None:
    estimates.reestimate_parcel(session=session, shipment_id=str(event.payload["shipment_id"]))
    delays.resolve_moved(session=session)


def refresh_transit_stats(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    with unit_of_work(factory) as session:
        return estimates.refresh_transit_stats(session=session, now=now)


def detect_delays(
    factory: sessionmaker[Session], *, now: datetime | None = None
) -> delays.DelayReport:
    with unit_of_work(factory) as session:
        return delays.detect_delays(session=session, now=now)


@periodic("logistics.refresh_transit_stats", every_s=3600.0)
def _refresh_transit_stats(ctx: JobContext) -> object:
    return refresh_transit_stats(ctx.factory)


@periodic("logistics.detect_delays", every_s=900.0)
def _detect_delays(ctx: JobContext) -> object:
    return detect_delays(ctx.factory)


@periodic("logistics.cancel_unshipped", every_s=1800.0)
def _cancel_unshipped(ctx: JobContext) -> object:
    return cancellation.cancel_unshipped(
        ctx.factory, lambda: payments.get_provider("simulated", ctx.settings)
    )
