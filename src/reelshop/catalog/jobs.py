"""Outbox handlers of the catalog domain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from reelshop.catalog import imports
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe


@subscribe(imports.IMPORT_REQUESTED, name="catalog.import_products")
def import_products(session: Session, event: OutboxEvent) -> None:
    """One batch of a CSV import; the batch queues the next one until the file is done."""
    imports.run_import_batch(
        session=session,
        import_id=str(event.payload["import_id"]),
        cursor=int(event.payload.get("cursor", 0)),
    )
