"""Background work of logistics: ship-by deadlines for paid orders, late-dispatch marks,
and posting the SIMULATED carrier's tracking webhooks (late, duplicated, shuffled)."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.logistics import service as logistics
from reelshop.logistics.carriers import SIMULATED, SimulatedCarrier, webhook_secret
from reelshop.logistics.models import SimulatedCarrierEvent
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe
from reelshop.payments.simulator import PostWebhook, http_poster
from reelshop.scheduling import JobContext, periodic

log = logging.getLogger("reelshop.logistics.jobs")


@dataclass(frozen=True)
class TrackingDeliveryReport:
    attempted: int
    delivered: int
    duplicates_sent: int
    failed: int


def webhook_url(settings: Settings, carrier: str = SIMULATED) -> str:
    base = settings.payments_webhook_base_url or f"http://{settings.host}:{settings.port}"
    return f"{base.rstrip('/')}/api/v1/logistics/webhooks/{carrier}"


def deliver_simulated_tracking(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    post: PostWebhook | None = None,
    rng: random.Random | None = None,
    now: datetime | None = None,
    duplicate_rate: float = 0.1,
    limit: int = 200,
) -> TrackingDeliveryReport:
    """POST the simulated carrier's due tracking webhooks in shuffled order, some twice.
    Read, post and record in separate transactions (the endpoint needs the database)."""
    rng = rng or random.Random()
    now = now or utcnow()
    post = post or http_poster(webhook_url(settings))
    carrier = SimulatedCarrier(webhook_secret=webhook_secret(settings.secret_key))
    with unit_of_work(factory) as session:
        due = [
            (e.id, e.payload, e.attempts)
            for e in session.scalars(
                select(SimulatedCarrierEvent)
                .where(
                    SimulatedCarrierEvent.delivered_at.is_(None),
                    SimulatedCarrierEvent.send_after <= now,
                )
                .order_by(SimulatedCarrierEvent.id)
                .limit(limit)
            )
        ]
    rng.shuffle(due)
    statuses: dict[int, int] = {}
    duplicates = 0
    for event_id, payload, _ in due:
        body = json.dumps({**payload, "created_at": utcnow().isoformat()}, separators=(",", ":"))
        copies = 2 if rng.random() < duplicate_rate else 1
        duplicates += copies - 1
        for _ in range(copies):
            try:
                statuses[event_id] = post(body.encode(), carrier.signed_headers(body.encode()))
            except Exception as exc:  # our endpoint is down: try again later
                log.warning("simulated tracking delivery failed", extra={"error": repr(exc)})
                statuses[event_id] = 0
    delivered = failed = 0
    with unit_of_work(factory) as session:
        for event_id, _, attempts in due:
            status = statuses[event_id]
            values: dict[str, Any] = {"last_status": status, "attempts": attempts + 1}
            if 200 <= status < 300:
                values["delivered_at"] = utcnow()
                delivered += 1
            else:
                values["send_after"] = now + timedelta(seconds=min(600.0, 2.0 * 2**attempts))
                failed += 1
            session.execute(
                update(SimulatedCarrierEvent)
                .where(SimulatedCarrierEvent.id == event_id)
                .values(**values)
            )
    return TrackingDeliveryReport(len(due), delivered, duplicates, failed)


def mark_late_dispatch(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    with unit_of_work(factory) as session:
        return logistics.mark_late_dispatch(session=session, now=now)


@subscribe("order.paid", name="logistics.set_ship_by")
def set_ship_by(session: Session, event: OutboxEvent) -> None:
    logistics.ensure_ship_by(session=session, order_id=str(event.payload["order_id"]))


@periodic("logistics.deliver_simulated_tracking", every_s=5.0)
def _deliver_simulated_tracking(ctx: JobContext) -> object:
    return deliver_simulated_tracking(ctx.factory, ctx.settings)


@periodic("logistics.mark_late_dispatch", every_s=600.0)
def _mark_late_dispatch(ctx: JobContext) -> object:
    return mark_late_dispatch(ctx.factory)
