"""Analytics' outbox handlers and periodic jobs.

Purchases and refunds enter the event stream here, from the server's own records
(``order.paid``, ``payment.refunded``), never from a client. A handler's rows are
handed to the writer only once its transaction commits, so a handler that fails and
is retried does not leave a stray copy; a retry after a commit writes the same event
ids, which the queries count once.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from reelshop.analytics import events, facts, store
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe
from reelshop.scheduling import JobContext, periodic

log = logging.getLogger("reelshop.analytics.jobs")


def track_after_commit(session: Session, rows: list[dict[str, Any]]) -> None:
    """Hand ``rows`` to the writer when the session's outermost transaction commits."""
    if not rows:
        return

    def _after_commit(_session: Session) -> None:
        facts.track_rows(rows)

    sa_event.listen(session, "after_commit", _after_commit, once=True)


@subscribe("order.placed", name="analytics.checkout_started")
def checkout_started(session: Session, event: OutboxEvent) -> None:
    order_id = str(event.payload.get("order_id", ""))
    track_after_commit(session, facts.checkout_rows(session=session, order_id=order_id))


@subscribe("order.paid", name="analytics.order_paid")
def order_paid(session: Session, event: OutboxEvent) -> None:
    order_id = str(event.payload.get("order_id", ""))
    track_after_commit(session, facts.purchase_rows(session=session, order_id=order_id))


@subscribe("payment.refunded", name="analytics.order_refunded")
def order_refunded(session: Session, event: OutboxEvent) -> None:
    refund_id = event.payload.get("refund_id")
    if not refund_id:  # a capture on a closed checkout, refunded whole: never a sale
        return
    track_after_commit(session, facts.refund_rows(session=session, refund_id=str(refund_id)))


@periodic("analytics.flush_events", every_s=10.0)
def _flush(ctx: JobContext) -> object:
    return events.flush()


@periodic("analytics.compact_events", every_s=3600.0)
def _compact(ctx: JobContext) -> object:
    return store.compact(ctx.settings.analytics_path)
