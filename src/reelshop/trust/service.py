"""Trust and safety's entry points for other domains and for the API.

Other domains import this module (``from reelshop.trust import service as trust``):
``take_down_listing`` and ``add_strike`` (buyer-protection claims call them),
``assess_listing`` (scores any listing, stored or not; the benchmark uses it) and
``moderate_listing`` (the worker's job on ``product.changed``).
"""

from __future__ import annotations

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

__all__ = [
    "STRIKES_TO_SUSPEND",
    "active_strikes",
    "add_strike",
    "appeal_strike",
    "case_history",
    "decide_appeal",
    "decide_case",
    "get_case",
    "list_appeals",
    "list_strikes",
    "queue",
    "take_down_listing",
]
