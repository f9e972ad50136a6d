"""The counterfeit-risk policy: how many points each signal adds, and the scores at
which a listing is held for review or blocked. Data, not code: every number here can
be changed through settings (``REELSHOP_TRUST_HOLD_SCORE``, ``REELSHOP_TRUST_BLOCK_SCORE``)
or by passing another ``RiskPolicy`` to ``assess_listing``. docs/trust.md explains them.

The defaults were tuned on the tuning half of ``benchmarks/data/counterfeit`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reelshop.config import Settings, get_settings


@dataclass(frozen=True)
class RiskPolicy:
    hold_score: int = 40
    block_score: int = 90
    # brand signals (only for sellers not authorised for the brand)
    brand_mention: int = 30  # the brand named on a new item
    brand_mention_resale: int = 10  # named on a second-hand item (resale is lawful)
    disguised_brand: int = 45  # "N1ke", "G u c c i", "Nikee"
    unbranded_but_named: int = 20  # brand field "unbranded"/"generic", brand in the text
    counterfeit_words: int = 35  # "replica", "1:1", "AAA", "dupe" beside a brand
    price_far_below: int = 35  # under far_below_ratio of the line's lowest price
    price_below: int = 15  # under below_ratio
    far_below_ratio: float = 0.5
    below_ratio: float = 0.75
    resale_far_below_ratio: float = 0.2  # second-hand goods are cheaper for honest reasons
    official_image: int = 40  # near-duplicate of an official photo
    image_max_distance: int = 10  # pHash bits (of 64)
    # seller signals
    new_seller: int = 10
    new_seller_days: int = 30
    per_strike: int = 10
    max_strike_points: int = 20
    risky_origin: int = 5  # only with a brand in play
    risky_origins: frozenset[str] = field(default_factory=lambda: frozenset({"CN", "HK"}))
    category_takedowns: int = 10
    category_takedowns_min: int = 2
    # shopper reports
    per_counterfeit_report: int = 15
    per_other_report: int = 8
    max_report_points: int = 30
    # matching
    fuzzy_min_ratio: float = 80.0
    semantic_min_similarity: float = 0.35  # listing vs brand profile, for common-word brands

    def decide(self, score: int) -> str:
        if score >= self.block_score:
            return "block"
        if score >= self.hold_score:
            return "hold"
        return "publish"


def policy_from_settings(settings: Settings | None = None) -> RiskPolicy:
    settings = settings or get_settings()
    return RiskPolicy(
        hold_score=settings.trust_hold_score,
        block_score=settings.trust_block_score,
    )
