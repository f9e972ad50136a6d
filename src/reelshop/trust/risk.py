"""Counterfeit risk of one listing: signals with their evidence, a score, a decision.

``assess`` is pure: it takes the listing's facts, the brand registry and the seller's
facts as plain data, so a labelled set that is not in any database can be scored
(``benchmarks/counterfeit_eval.py`` does). ``reelshop.trust.service.assess_listing``
wraps it with the database look-ups.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reelshop.trust import image_match
from reelshop.trust.image_match import ImageHashes
from reelshop.trust.marks import (
    COMMON_WORD_BRANDS,
    UNBRANDED,
    Mark,
    Mention,
    find_mentions,
    normalise,
    strip_html,
)
from reelshop.trust.policy import RiskPolicy

COUNTERFEIT_WORDS = re.compile(
    r"\b(replicas?|1\s*:\s*1|aaa\+?|mirror (?:quality|grade)|high copy|super copy|"
    r"first copy|master copy|dupes?|inspired by|knock-?offs?|fakes?|not original|"
    r"same as (?:the )?original|top copy|ua quality|unauthori[sz]ed copy)\b",
    re.IGNORECASE,
)
RESALE_WORDS = re.compile(
    r"\b(used|pre-?owned|second[- ]?hand|pre-?loved|worn (?:once|twice)|gently worn|"
    r"lightly used|vintage|resale|open[- ]box)\b",
    re.IGNORECASE,
)

Similarity = Callable[[str, str], float]


@dataclass(frozen=True)
class ProductLine:
    name: str
    keywords: tuple[str, ...]
    currency: str
    min_amount: int
    max_amount: int


@dataclass(frozen=True)
class BrandFacts:
    """What the registry knows about one brand."""

    brand_id: str
    name: str
    aliases: tuple[str, ...] = ()
    lines: tuple[ProductLine, ...] = ()
    images: tuple[tuple[str, ImageHashes], ...] = ()

    def marks(self) -> list[Mark]:
        out = [Mark(self.brand_id, self.name, "name")]
        out += [Mark(self.brand_id, a, "alias") for a in self.aliases if a.strip()]
        for line in self.lines:
            out += [Mark(self.brand_id, k, "product_line") for k in line.keywords if k.strip()]
        return out

    @property
    def profile(self) -> str:
        """Text the listing is compared with semantically."""
        words = [self.name] + [line.name for line in self.lines]
        words += [k for line in self.lines for k in line.keywords]
        return " ".join(dict.fromkeys(words))


@dataclass(frozen=True)
class SellerFacts:
    seller_id: str | None = None
    account_age_days: int = 365
    active_strikes: int = 0
    ships_from: str = ""
    takedowns_in_category: int = 0
    authorised_brand_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ListingFacts:
    title: str
    description: str = ""
    brand_text: str | None = None
    price_amount: int | None = None  # the cheapest active variant, minor units
    currency: str = "USD"
    images: tuple[ImageHashes, ...] = ()
    counterfeit_reports: int = 0
    other_reports: int = 0


@dataclass
class Signal:
    kind: str
    points: int
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "points": self.points,
            "summary": self.summary,
            "evidence": self.evidence,
        }


@dataclass
class Assessment:
    score: int
    decision: str  # publish | hold | block
    signals: list[Signal]
    brand_id: str | None

    @property
    def flagged(self) -> bool:
        return self.decision != "publish"


def _mention_evidence(m: Mention, text: str) -> dict[str, Any]:
    return {
        "field": m.field,
        "text": text[:600],
        "start": m.start,
        "end": m.end,
        "matched": m.matched,
        "mark": m.mark,
        "how": m.how,
    }


def _line_for(brand: BrandFacts, text: str, currency: str) -> ProductLine | None:
    lowered = normalise(text)
    candidates = [line for line in brand.lines if line.currency == currency]
    for line in candidates:
        if any(normalise(k) in lowered for k in line.keywords if k):
            return line
    if not candidates:
        return None
    return min(candidates, key=lambda line: line.min_amount)


def assess(
    *,
    listing: ListingFacts,
    brands: Sequence[BrandFacts],
    seller: SellerFacts,
    policy: RiskPolicy,
    similarity: Similarity | None = None,
) -> Assessment:
    """Score one listing. ``similarity(listing_text, brand_profile)`` (cosine of sentence
    embeddings) confirms brand context for brand names that are ordinary words."""
    description = strip_html(listing.description)
    texts = {"title": listing.title, "description": description, "brand": listing.brand_text or ""}
    by_id = {b.brand_id: b for b in brands}
    marks = [mark for b in brands for mark in b.marks()]
    mentions = find_mentions(
        title=listing.title,
        description=description,
        brand_text=listing.brand_text,
        marks=marks,
        fuzzy_min_ratio=policy.fuzzy_min_ratio,
    )
    signals: list[Signal] = []
    full_text = f"{listing.title} {description}"
    resale = bool(RESALE_WORDS.search(full_text))
    brand_field = normalise(listing.brand_text or "").strip()
    unbranded = brand_field in UNBRANDED

    claimed: dict[str, list[Mention]] = {}
    semantic: dict[str, float] = {}
    for m in mentions:
        if m.compatibility:
            continue
        claimed.setdefault(m.brand_id, []).append(m)
    # Brand names that are ordinary words need context: the brand field, a product
    # line's name, or a listing that reads like the brand's products.
    for candidate in list(claimed):
        brand = by_id[candidate]
        if normalise(brand.name) not in COMMON_WORD_BRANDS:
            continue
        ms = claimed[candidate]
        if any(m.field == "brand" or m.how == "product_line" or m.disguised for m in ms):
            continue
        sim = similarity(full_text, brand.profile) if similarity else 0.0
        semantic[candidate] = round(sim, 3)
        if sim < policy.semantic_min_similarity:
            del claimed[candidate]

    # The brand in play: the one with a disguised mention first, else the most mentioned.
    brand_id: str | None = None
    if claimed:
        brand_id = max(
            claimed,
            key=lambda b: (any(m.disguised for m in claimed[b]), len(claimed[b])),
        )
    authorised = brand_id is not None and brand_id in seller.authorised_brand_ids
    if brand_id is not None and not authorised:
        brand = by_id[brand_id]
        ms = claimed[brand_id]
        disguised = [m for m in ms if m.disguised]
        if disguised:
            m = disguised[0]
            signals.append(
                Signal(
                    "disguised_brand",
                    policy.disguised_brand,
                    f"{brand.name} written as “{m.matched}” ({m.how})",
                    _mention_evidence(m, texts[m.field]),
                )
            )
        else:
            m = ms[0]
            points = policy.brand_mention_resale if resale else policy.brand_mention
            evidence = _mention_evidence(m, texts[m.field])
            if brand_id in semantic:
                evidence["semantic_similarity"] = semantic[brand_id]
            signals.append(
                Signal(
                    "brand_mention",
                    points,
                    f"{brand.name} named by a seller not authorised for it"
                    + (" (second-hand)" if resale else ""),
                    evidence,
                )
            )
        in_text = [m for m in ms if m.field != "brand"]
        if unbranded and in_text:
            m = in_text[0]
            signals.append(
                Signal(
                    "unbranded_but_named",
                    policy.unbranded_but_named,
                    f"brand field says “{listing.brand_text}” but the {m.field} names {brand.name}",
                    _mention_evidence(m, texts[m.field]),
                )
            )
        words = COUNTERFEIT_WORDS.search(full_text)
        if words:
            field_name = "title" if words.start() < len(listing.title) else "description"
            offset = 0 if field_name == "title" else len(listing.title) + 1
            signals.append(
                Signal(
                    "counterfeit_words",
                    policy.counterfeit_words,
                    f"“{words.group()}” beside {brand.name}",
                    {
                        "field": field_name,
                        "text": texts[field_name][:600],
                        "start": words.start() - offset,
                        "end": words.end() - offset,
                        "matched": words.group(),
                    },
                )
            )
        if listing.price_amount is not None:
            line = _line_for(brand, full_text, listing.currency)
            if line is not None and line.min_amount > 0:
                ratio = listing.price_amount / line.min_amount
                evidence = {
                    "price": listing.price_amount,
                    "currency": listing.currency,
                    "line": line.name,
                    "min": line.min_amount,
                    "max": line.max_amount,
                    "ratio": round(ratio, 3),
                }
                far = policy.resale_far_below_ratio if resale else policy.far_below_ratio
                if ratio < far:
                    signals.append(
                        Signal(
                            "price_far_below",
                            policy.price_far_below,
                            f"{ratio:.0%} of the lowest genuine {line.name} price",
                            evidence,
                        )
                    )
                elif not resale and ratio < policy.below_ratio:
                    signals.append(
                        Signal(
                            "price_below",
                            policy.price_below,
                            f"{ratio:.0%} of the lowest genuine {line.name} price",
                            evidence,
                        )
                    )
    # Official photos: checked against every brand, named or not.
    if listing.images:
        for brand in brands:
            if brand.brand_id in seller.authorised_brand_ids or not brand.images:
                continue
            pair = image_match.closest(listing.images, brand.images)
            if pair is not None and pair.distance <= policy.image_max_distance:
                signals.append(
                    Signal(
                        "official_image",
                        policy.official_image,
                        f"photo {pair.listing_index + 1} is a near-copy of an official "
                        f"{brand.name} image ({pair.distance} of 64 bits differ)",
                        {
                            "listing_image": pair.listing_index,
                            "official_image_id": pair.official_id,
                            "distance": pair.distance,
                            "brand": brand.name,
                        },
                    )
                )
                brand_id = brand_id or brand.brand_id
                break
    brand_in_play = brand_id is not None and not authorised
    if seller.account_age_days < policy.new_seller_days:
        signals.append(
            Signal(
                "new_seller",
                policy.new_seller,
                f"shop opened {seller.account_age_days} days ago",
                {"days": seller.account_age_days},
            )
        )
    if seller.active_strikes:
        signals.append(
            Signal(
                "seller_strikes",
                min(policy.per_strike * seller.active_strikes, policy.max_strike_points),
                f"{seller.active_strikes} active strike(s)",
                {"strikes": seller.active_strikes},
            )
        )
    if brand_in_play and seller.ships_from in policy.risky_origins:
        signals.append(
            Signal(
                "ships_from",
                policy.risky_origin,
                f"branded goods shipped from {seller.ships_from}",
                {"ships_from": seller.ships_from},
            )
        )
    if seller.takedowns_in_category >= policy.category_takedowns_min:
        signals.append(
            Signal(
                "category_takedowns",
                policy.category_takedowns,
                f"{seller.takedowns_in_category} listings taken down in this category",
                {"takedowns": seller.takedowns_in_category},
            )
        )
    report_points = min(
        policy.per_counterfeit_report * listing.counterfeit_reports
        + policy.per_other_report * listing.other_reports,
        policy.max_report_points,
    )
    if report_points:
        signals.append(
            Signal(
                "shopper_reports",
                report_points,
                f"{listing.counterfeit_reports} counterfeit and {listing.other_reports} other "
                "shopper report(s)",
                {"counterfeit": listing.counterfeit_reports, "other": listing.other_reports},
            )
        )
    score = min(sum(s.points for s in signals), 100)
    return Assessment(
        score=score, decision=policy.decide(score), signals=signals, brand_id=brand_id
    )


def embedding_similarity() -> Similarity:
    """Cosine similarity of the catalog's MiniLM sentence embeddings (cached per text)."""
    from reelshop.catalog.embeddings import get_embedder

    embedder = get_embedder()

    def similarity(a: str, b: str) -> float:
        va = embedder.encode_query(a[:500])
        vb = embedder.encode_query(b[:500])
        return float(np.dot(va, vb))

    return similarity
