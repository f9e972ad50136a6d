"""Periodic jobs of payments: deliver the simulated processor's webhooks, settle
delivered orders past their hold, pay sellers out."""

from __future__ import annotations

import logging
import random
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from reelshop.config import Settings, get_settings
from reelshop.db import unit_of_work, utcnow
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe
from reelshop.payments import service as payments
from reelshop.payments.simulator import (
    DeliveryReport,
    PostWebhook,
    SimulatedProcessor,
    deliver_due_webhooks,
    http_poster,
)
from reelshop.scheduling import JobContext, periodic

log = logging.getLogger("reelshop.payments.jobs")


def deliver_simulated_webhooks(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    post: PostWebhook | None = None,
    rng: random.Random | None = None,
    limit: int = 100,
) -> DeliveryReport:
    """One round of the simulated processor's webhook deliveries (over HTTP unless a
    ``post`` is given: tests pass their TestClient's)."""
    processor = SimulatedProcessor(webhook_secret=settings.simulated_processor_webhook_secret)
    return deliver_due_webhooks(
        factory,
        processor,
        post or http_poster(payments.webhook_url(settings)),
        rng=rng or random.Random(),
        duplicate_rate=settings.simulated_webhook_duplicate_rate,
        limit=limit,
    )


def settle_delivered(
    factory: sessionmaker[Session], *, now: datetime | None = None, limit: int = 500
) -> int:
    """Settle every held order whose delivery plus hold has passed, one transaction each
    (one order's problem does not hold up the others)."""
    now = now or utcnow()
    with unit_of_work(factory) as session:
        candidates = payments.settlement_candidates(session=session, now=now, limit=limit)
    settled = 0
    for order_id in candidates:
        try:
            with unit_of_work(factory) as session:
                settled += payments.settle_order(session=session, order_id=order_id, now=now)
        except Exception:
            log.exception("settlement failed; will retry", extra={"order_id": order_id})
    return settled


def run_payouts(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    with unit_of_work(factory) as session:
        return len(payments.run_payouts(session=session, now=now))


@subscribe("checkout.expired", name="payments.void_abandoned_on_expiry")
@subscribe("checkout.cancelled", name="payments.void_abandoned_on_cancel")
def void_abandoned(session: Session, event: OutboxEvent) -> None:
    payments.void_abandoned(
        session=session,
        provider=payments.get_provider(SimulatedProcessor.name, get_settings()),
        checkout_id=str(event.payload["checkout_id"]),
    )


@periodic("payments.deliver_simulated_webhooks", every_s=1.0)
def _deliver_simulated_webhooks(ctx: JobContext) -> object:
    return deliver_simulated_webhooks(ctx.factory, ctx.settings)


@periodic("payments.settle_delivered", every_s=300.0)
def _settle_delivered(ctx: JobContext) -> object:
    return settle_delivered(ctx.factory)


@periodic("payments.run_payouts", every_s=3600.0)
def _run_payouts(ctx: JobContext) -> object:
    return run_payouts(ctx.factory)
