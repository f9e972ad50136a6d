"""Screening a stored listing: gather its facts, assess it, store the assessment with
its evidence and move the listing to published, held or blocked (opening a case for
the moderation queue when it is not published).

Runs in the worker on every ``product.changed`` (seconds after a seller's change)
and right after a shopper's report.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from reelshop.catalog.models import ModerationStatus, Product
from reelshop.db import utcnow
from reelshop.storage import StorageError, get_storage
from reelshop.trust import registry, risk
from reelshop.trust.image_match import ImageHashes, hash_bytes
from reelshop.trust.models import (
    CaseStatus,
    ListingAssessment,
    ListingReport,
    ModerationCase,
    ReportKind,
)
from reelshop.trust.moderation import (
    active_strikes,
    lock_product,
    open_case,
    set_moderation,
)
from reelshop.trust.policy import RiskPolicy, policy_from_settings
from reelshop.trust.risk import Assessment, ListingFacts, SellerFacts

MAX_IMAGES = 4


def _image_hashes(product: Product) -> tuple[ImageHashes, ...]:
    storage = get_storage()
    out: list[ImageHashes] = []
    for image in product.images[:MAX_IMAGES]:
        key = image.storage_key
        if not key:
            continue
        try:
            data = storage.get(key)
        except (StorageError, OSError, KeyError):
            continue
        hashes = hash_bytes(data)
        if hashes is not None:
            out.append(hashes)
    return tuple(out)


def listing_facts(*, session: Session, product: Product) -> ListingFacts:
    prices = [s.price_amount for s in product.skus if s.is_active and s.price_amount > 0]
    reports = dict(
        session.execute(
            select(ListingReport.kind, func.count())
            .where(ListingReport.product_id == product.id)
            .group_by(ListingReport.kind)
        ).all()
    )
    counterfeit = int(reports.pop(ReportKind.COUNTERFEIT.value, 0))
    return ListingFacts(
        title=product.title,
        description=product.description,
        brand_text=product.brand_text,
        price_amount=min(prices) if prices else None,
        currency=product.currency,
        images=_image_hashes(product),
        counterfeit_reports=counterfeit,
        other_reports=int(sum(reports.values())),
    )


def seller_facts(*, session: Session, product: Product) -> SellerFacts:
    from reelshop.sellers.models import SellerProfile

    seller = session.get(SellerProfile, product.seller_id)
    assert seller is not None
    since = seller.approved_at or seller.created_at
    takedowns = session.scalar(
        select(func.count())
        .select_from(Product)
        .where(
            Product.seller_id == seller.id,
            Product.category_id == product.category_id,
            Product.moderation_status == ModerationStatus.TAKEN_DOWN,
            Product.id != product.id,
        )
    )
    return SellerFacts(
        seller_id=seller.id,
        account_age_days=max((utcnow() - since) // timedelta(days=1), 0) if since else 0,
        active_strikes=active_strikes(session=session, seller_id=seller.id),
        ships_from=seller.ships_from_country,
        takedowns_in_category=int(takedowns or 0),
        authorised_brand_ids=registry.authorised_brand_ids(session=session, seller_id=seller.id),
    )


def _approved_at_or_above(session: Session, product_id: str, score: int) -> bool:
    """Staff approved this listing before at a risk at least this high."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(ModerationCase)
            .where(
                ModerationCase.product_id == product_id,
                ModerationCase.status == CaseStatus.APPROVED,
                ModerationCase.risk_score >= score,
            )
        )
    )


def screen_listing(
    *,
    session: Session,
    product_id: str,
    policy: RiskPolicy | None = None,
    semantic: bool = True,
    source: str = "risk",
) -> Assessment:
    """Assess a stored listing and act on the decision (idempotent: the same facts
    give the same state)."""
    product = lock_product(session, product_id)
    product = session.scalars(
        select(Product)
        .where(Product.id == product.id)
        .options(selectinload(Product.skus), selectinload(Product.images))
    ).one()
    facts = listing_facts(session=session, product=product)
    seller = seller_facts(session=session, product=product)
    result = risk.assess(
        listing=facts,
        brands=registry.brand_facts(session=session),
        seller=seller,
        policy=policy or policy_from_settings(),
        similarity=risk.embedding_similarity() if semantic else None,
    )
    row = session.get(ListingAssessment, product.id)
    if row is None:
        row = ListingAssessment(product_id=product.id, score=0, decision="publish")
        session.add(row)
    row.score = result.score
    row.decision = result.decision
    row.signals = [s.as_dict() for s in result.signals]
    row.brand_id = result.brand_id
    row.assessed_at = utcnow()
    if product.moderation_status == ModerationStatus.TAKEN_DOWN:
        session.flush()
        return result
    decision = result.decision
    if decision != "publish" and _approved_at_or_above(session, product.id, result.score):
        decision = "publish"
    if decision == "publish":
        set_moderation(
            session=session,
            product=product,
            status=ModerationStatus.PUBLISHED,
            actor_id=None,
            reason=f"risk {result.score}: publish",
        )
        if source == "report" and facts.counterfeit_reports + facts.other_reports:
            open_case(session=session, product=product, source="report", risk_score=result.score)
        else:
            _refresh_open_case(session, product.id, result.score)
    else:
        status = ModerationStatus.HELD if decision == "hold" else ModerationStatus.BLOCKED
        set_moderation(
            session=session,
            product=product,
            status=status,
            actor_id=None,
            reason=f"risk {result.score}: {decision}",
        )
        open_case(session=session, product=product, source=source, risk_score=result.score)
    session.flush()
    return result


def _refresh_open_case(session: Session, product_id: str, score: int) -> None:
    case = session.scalars(
        select(ModerationCase).where(ModerationCase.open_product_id == product_id)
    ).first()
    if case is not None:
        case.risk_score = score


def latest_assessment(*, session: Session, product_id: str) -> ListingAssessment | None:
    return session.get(ListingAssessment, product_id)
