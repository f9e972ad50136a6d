"""Shopper reports of a listing (counterfeit, prohibited, misleading). A report is
re-scored at once: it adds to the listing's risk and always puts the listing in the
moderation queue, even when the score alone would keep it published."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reelshop.catalog.models import Product
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.ids import looks_like
from reelshop.outbox.service import emit
from reelshop.trust import screening
from reelshop.trust.models import ListingReport, ReportKind

LISTING_REPORTED = "listing.reported"
MIN_REASON = 5
MAX_REASON = 1000


def submit_report(
    *,
    session: Session,
    reporter_id: str,
    product_id: str,
    kind: str,
    reason: str,
    semantic: bool = True,
) -> ListingReport:
    if kind not in {k.value for k in ReportKind}:
        raise InvalidInput("kind is counterfeit, prohibited or misleading", field="kind")
    reason = (reason or "").strip()
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise InvalidInput(f"say why in {MIN_REASON} to {MAX_REASON} characters", field="reason")
    product = session.get(Product, product_id) if looks_like("prd", product_id) else None
    if product is None or not product.on_sale:
        raise NotFound("no such product")
    duplicate = session.scalars(
        select(ListingReport.id).where(
            ListingReport.product_id == product.id,
            ListingReport.reporter_id == reporter_id,
            ListingReport.kind == kind,
        )
    ).first()
    if duplicate is not None:
        raise Conflict("you already reported this listing for that reason")
    report = ListingReport(product_id=product.id, reporter_id=reporter_id, kind=kind, reason=reason)
    session.add(report)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict("you already reported this listing for that reason") from exc
    emit(
        session=session,
        topic=LISTING_REPORTED,
        payload={"product_id": product.id, "report_id": report.id, "kind": kind},
        subject_id=product.id,
    )
    screening.screen_listing(
        session=session, product_id=product.id, semantic=semantic, source="report"
    )
    return report


def reports_for(*, session: Session, product_id: str) -> list[ListingReport]:
    return list(
        session.scalars(
            select(ListingReport)
            .where(ListingReport.product_id == product_id)
            .order_by(ListingReport.created_at.desc())
            .limit(100)
        )
    )
