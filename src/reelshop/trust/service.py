"""Trust and safety's entry points for other domains and for the API.

Other domains import this module (``from reelshop.trust import service as trust``):
``take_down_listing`` and ``add_strike`` (buyer-protection claims call them),
``assess_listing`` (scores any listing, stored or not; the benchmark uses it) and
``moderate_listing`` (the worker's job on ``product.changed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from reelshop.catalog.models import Product
from reelshop.trust import registry, reports, risk
from reelshop.trust.models import ListingAssessment, ListingReport, ModerationCase
from reelshop.trust.moderation import (
    STRIKES_TO_SUSPEND,
    active_strikes,
    add_strike,
    appeal_strike,
    case_history,
    decide_appeal,
    decide_case,
    get_case,
    list_appeals,
    list_strikes,
    queue,
    take_down_listing,
)
from reelshop.trust.policy import RiskPolicy, policy_from_settings
from reelshop.trust.risk import Assessment, BrandFacts, ListingFacts, SellerFacts

__all__ = [
    "STRIKES_TO_SUSPEND",
    "CaseView",
    "active_strikes",
    "add_strike",
    "appeal_strike",
    "assess_listing",
    "case_history",
    "case_view",
    "decide_appeal",
    "decide_case",
    "get_case",
    "list_appeals",
    "list_strikes",
    "queue",
    "take_down_listing",
]


def assess_listing(
    *,
    session: Session | None,
    listing: ListingFacts,
    seller: SellerFacts | None = None,
    brands: Sequence[BrandFacts] | None = None,
    policy: RiskPolicy | None = None,
    semantic: bool = True,
) -> Assessment:
    """Score one listing, stored or not: the scoring entry point (docs/trust.md).

    ``brands`` None reads the brand registry through ``session``; ``policy`` None
    uses the settings' thresholds; ``semantic`` adds the MiniLM similarity that
    confirms brand names which are ordinary words ("Apple", "Coach")."""
    if brands is None:
        if session is None:
            raise ValueError("give brands or a session to read the registry from")
        brands = registry.brand_facts(session=session)
    return risk.assess(
        listing=listing,
        brands=brands,
        seller=seller or SellerFacts(),
        policy=policy or policy_from_settings(),
        similarity=risk.embedding_similarity() if semantic else None,
    )


@dataclass(frozen=True)
class CaseView:
    case: ModerationCase
    product: Product
    assessment: ListingAssessment | None
    reports: list[ListingReport]


def case_view(*, session: Session, case_id: str) -> CaseView:
    case = get_case(session=session, case_id=case_id)
    product = session.get(Product, case.product_id)
    assert product is not None
    return CaseView(
        case=case,
        product=product,
        assessment=session.get(ListingAssessment, product.id),
        reports=reports.reports_for(session=session, product_id=product.id),
    )
