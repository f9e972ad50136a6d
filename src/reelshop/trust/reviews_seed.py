"""Demo reviews: most delivered order lines get a review written a few days after delivery,
through the real service (so the fake-review checks run); a small ring of copy-pasted
reviews from one device is held for the staff view. The demo shopper keeps a delivered
line unreviewed, to try the form."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.checkout.models import Order, OrderLine
from reelshop.trust import reviews
from reelshop.trust.review_models import Review, ReviewStatus

if TYPE_CHECKING:
    from reelshop.seed import SeedContext

OPENINGS = [
    "Exactly as pictured.",
    "Better than I expected for the price.",
    "Took a while to arrive but worth the wait.",
    "Solid build.",
    "My second one, bought it again.",
    "Good, with one small issue.",
    "Not quite what the video showed.",
]
DETAILS = [
    "The colour is a little darker in person.",
    "Battery lasts a full day for me.",
    "Packaging was tidy and nothing was scratched.",
    "Sizing runs small, order one up.",
    "Setup took five minutes.",
    "The seller answered my question within an hour.",
    "Feels cheaper than it looks in the photos.",
    "Daughter loves it.",
]
CLOSINGS = [
    "Would buy again.",
    "Recommended.",
    "Three weeks in and still fine.",
    "Gift for my brother, he is happy.",
    "Fair for what it costs.",
    "I would not pay more for it.",
]
MAX_REVIEWS = 60
RING_TEXT = "Best product ever!!! Five stars, fast shipping, highly recommend this amazing seller"
RING_DEVICE = "seed-device-review-ring"


def _rating(rng: random.Random) -> int:
    roll = rng.random()
    return 5 if roll < 0.5 else 4 if roll < 0.78 else 3 if roll < 0.9 else 2 if roll < 0.96 else 1


def seed_reviews(session: Session, ctx: SeedContext) -> None:
    demo_shopper = ctx.shopper_ids[0] if ctx.shopper_ids else None
    rows = session.execute(
        select(OrderLine.id, Order.shopper_id, Order.delivered_at, Order.seller_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status.in_(reviews.DELIVERED_STATUSES), Order.delivered_at.is_not(None))
        .order_by(Order.delivered_at, OrderLine.id)
    ).all()
    kept_for_demo = False
    # The ring: three shoppers on one device praising one seller in the same words.
    ring_seller = ctx.seller_ids[0] if ctx.seller_ids else None
    ring_lines: set[str] = set()
    ring_shoppers: set[str] = set()
    for line_id, shopper_id, _at, seller_id in rows:
        if seller_id == ring_seller and shopper_id not in ring_shoppers | {demo_shopper}:
            ring_lines.add(line_id)
            ring_shoppers.add(shopper_id)
        if len(ring_lines) == 3:
            break
    written_count = 0
    texts = [f"{o} {d} {c}" for o in OPENINGS for d in DETAILS for c in CLOSINGS]
    ctx.rng.shuffle(texts)
    for index, (line_id, shopper_id, delivered_at, _seller) in enumerate(rows):
        if written_count >= MAX_REVIEWS:
            break
        if session.scalar(select(Review.id).where(Review.order_line_id == line_id)):
            continue
        if shopper_id == demo_shopper and not kept_for_demo:
            kept_for_demo = True  # the demo shopper writes this one
            continue
        assert delivered_at is not None
        # Written one to four days after delivery, spread out so no burst fires by accident.
        written = delivered_at + timedelta(days=1 + index % 4, minutes=37 * index)
        as_ring = line_id in ring_lines
        body = RING_TEXT if as_ring else texts[written_count % len(texts)] if index % 6 else ""
        review = reviews.create_review(
            session=session,
            reviewer_id=shopper_id,
            order_line_id=line_id,
            rating=5 if as_ring else _rating(ctx.rng),
            body=body,
            device_fingerprint=RING_DEVICE if as_ring else f"seed-device-{shopper_id}",
            now=written,
        )
        written_count += 1
        if review.status == ReviewStatus.PUBLISHED and review.rating <= 3 and index % 2:
            reviews.answer_review(
                session=session,
                seller_id=review.seller_id,
                review_id=review.id,
                answer="Sorry to hear that. Message us and we will make it right.",
                now=written + timedelta(hours=5),
            )
    session.flush()
