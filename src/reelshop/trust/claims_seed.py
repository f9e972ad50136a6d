"""Demo claims in every state: waiting for the seller, answered and waiting for staff,
escalated after the seller's silence, upheld (refunded through the ledger) and
rejected. The demo shopper has an open claim and the demo seller an inbox."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role, User
from reelshop.checkout.models import Order, OrderStatus
from reelshop.config import get_settings
from reelshop.db import utcnow
from reelshop.errors import ProblemError
from reelshop.payments.models import EscrowHold
from reelshop.payments.simulator import SimulatedProcessor
from reelshop.trust import claims
from reelshop.trust.claim_models import Claim

if TYPE_CHECKING:
    from reelshop.seed import SeedContext

# (claim type, days ago it was opened, what happens next)
PLAN = [
    ("damaged", 0, "open"),
    ("not_as_described", 1, "answered"),
    ("damaged", 5, "escalated"),
    ("not_as_described", 6, "upheld"),
    ("damaged", 7, "rejected"),
]
STORIES = {
    "damaged": "The box was crushed and the item inside is cracked along one side.",
    "not_as_described": "The listing says stainless steel but it is painted plastic.",
}


def _photo(label: str) -> bytes:
    image = Image.new("RGB", (320, 240), (236, 232, 226))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 50, 280, 200), outline=(120, 90, 60), width=6)
    draw.line((60, 70, 260, 180), fill=(200, 40, 40), width=5)
    draw.text((48, 20), label, fill=(60, 60, 60))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def seed_claims(session: Session, ctx: SeedContext) -> None:
    now = utcnow()
    staff_id = session.scalar(select(User.id).where(User.role == Role.STAFF).order_by(User.id))
    if staff_id is None:
        return
    candidates = list(
        session.scalars(
            select(Order)
            .join(EscrowHold, EscrowHold.order_id == Order.id)  # paid through the ledger
            .where(
                Order.status.in_([OrderStatus.DELIVERED, OrderStatus.COMPLETED]),
                Order.delivered_at.is_not(None),
                Order.delivered_at <= now - timedelta(days=8),
                Order.delivered_at >= now - timedelta(days=14),
                Order.refunded_amount == 0,
            )
            .order_by(Order.delivered_at.desc(), Order.id)
        )
    )
    demo_shopper = ctx.shopper_ids[0] if ctx.shopper_ids else None
    # The demo shopper's order gets the open claim, when they have one in the window.
    candidates.sort(key=lambda o: o.shopper_id != demo_shopper)
    taken = set(session.scalars(select(Claim.order_id)))
    provider = SimulatedProcessor(webhook_secret=get_settings().simulated_processor_webhook_secret)
    orders = iter(o for o in candidates if o.id not in taken)
    for claim_type, days_ago, outcome in PLAN:
        order = next(orders, None)
        if order is None:
            return
        opened_at = now - timedelta(days=days_ago, hours=3)
        try:
            with session.begin_nested():
                claim = claims.open_claim(
                    session=session,
                    shopper_id=order.shopper_id,
                    order_id=order.id,
                    claim_type=claim_type,
                    description=STORIES[claim_type],
                    now=opened_at,
                )
                claims.add_evidence(
                    session=session,
                    claim=claim,
                    uploaded_by=order.shopper_id,
                    party="shopper",
                    data=_photo(claim_type.replace("_", " ")),
                )
                if outcome in ("answered", "upheld", "rejected"):
                    claims.seller_respond(
                        session=session,
                        seller_id=order.seller_id,
                        claim_id=claim.id,
                        response="We packed it with foam; the carrier must have dropped it.",
                        now=opened_at + timedelta(hours=20),
                    )
                if outcome == "escalated":
                    claims.escalate_overdue(session=session, now=now)
                if outcome in ("upheld", "rejected"):
                    claims.decide_claim(
                        session=session,
                        provider=provider,
                        claim_id=claim.id,
                        actor_id=staff_id,
                        outcome="uphold_full" if outcome == "upheld" else "reject",
                        note="Photos match the description."
                        if outcome == "upheld"
                        else "The photos show normal wear, not damage.",
                        now=opened_at + timedelta(days=2),
                    )
        except ProblemError:
            continue  # this order cannot carry the claim (e.g. refunded meanwhile)
    session.flush()
