"""Product reviews: who may write one, the edit window, the seller's single answer,
fake-review signals that hold a review back, and the rating aggregates.

Only a shopper whose order line of the product was delivered may review it, once per
line. A review that trips a fake-review signal is stored as ``held``: it is neither
shown nor counted until staff release it (or remove it). Aggregates are recomputed
from the published rows on every change, so they cannot drift.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from reelshop.accounts.models import Address, User
from reelshop.catalog import images as image_pipeline
from reelshop.catalog.models import Product
from reelshop.checkout import service as checkout
from reelshop.checkout.models import Checkout, Order, OrderLine, OrderStatus
from reelshop.checkout.orders import lock_order
from reelshop.config import get_settings
from reelshop.db import insert_on_conflict, utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.ids import looks_like
from reelshop.outbox.service import emit
from reelshop.security import audit
from reelshop.security.crypto import lookup_hash
from reelshop.sellers.models import SellerProfile
from reelshop.storage import get_storage, new_key
from reelshop.trust.review_models import ProductRating, Review, ReviewPhoto, ReviewStatus


@dataclass(frozen=True)
class ReviewPolicy:
    """The numbers behind reviews; documented in docs/reviews-and-claims.md."""

    edit_window: timedelta = timedelta(days=30)
    review_window: timedelta = timedelta(days=180)  # after delivery
    max_body_chars: int = 2000
    max_answer_chars: int = 1000
    max_photos: int = 5
    burst_window: timedelta = timedelta(hours=1)
    burst_per_product: int = 5  # reviews already in the window that make the next one suspect
    burst_per_seller: int = 10
    similar_text_score: float = 88.0  # rapidfuzz ratio on normalised text, 0-100
    similar_text_min_chars: int = 20
    similar_text_lookback: timedelta = timedelta(days=180)
    similar_text_candidates: int = 500


POLICY = ReviewPolicy()
DELIVERED_STATUSES = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)
DELETED_USER = "deleted user"


class Signal:
    BURST_PRODUCT = "burst_product"
    BURST_SELLER = "burst_seller"
    SIMILAR_TEXT = "similar_text"
    OWN_ACCOUNT = "seller_own_account"
    SHARED_ADDRESS = "shared_address"
    SAME_DEVICE = "same_device"
    PAID_BY_SELLER = "paid_by_seller"


@dataclass(frozen=True)
class ReviewStats:
    count: int
    negative: int
    average: float | None


@dataclass
class ReviewableLine:
    line: OrderLine
    review: Review | None
    can_review: bool


@dataclass
class SignalReport:
    reasons: list[dict[str, Any]] = field(default_factory=list)

    def add(self, signal: str, detail: str) -> None:
        self.reasons.append({"signal": signal, "detail": detail[:300]})


# --- small helpers ----------------------------------------------------------------------------


def reviewer_name(user: User | None) -> str:
    """First name only; an erased or deactivated account shows as "deleted user"."""
    if user is None or not user.is_active:
        return DELETED_USER
    name = (user.name or "").strip()
    if not name or name.lower().startswith(("deleted", "pseudonym")):
        return DELETED_USER
    return name.split()[0][:40]


def _hash(value: str, purpose: str) -> str:
    return lookup_hash(value, key=get_settings().email_hash_key, purpose=purpose)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def address_hash(address: dict[str, Any]) -> str | None:
    """A keyed hash of the street, postcode and country: equal addresses, equal hashes."""
    parts = [str(address.get(k) or "") for k in ("line1", "line2", "postal_code", "country")]
    if not parts[0].strip():
        return None
    return _hash(_normalise(" | ".join(parts)), "review-address")


def device_hash(fingerprint: str | None) -> str | None:
    return _hash(fingerprint, "review-device") if fingerprint else None


def _clean_body(body: str) -> str:
    body = body.strip()
    if len(body) > POLICY.max_body_chars:
        raise InvalidInput(f"a review is at most {POLICY.max_body_chars} characters", field="body")
    return body


def _check_rating(rating: int) -> int:
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise InvalidInput("the rating is a whole number from 1 to 5", field="rating")
    return rating


def get_review(*, session: Session, review_id: str) -> Review:
    review = session.get(Review, review_id) if looks_like("rev", review_id) else None
    if review is None:
        raise NotFound("no such review")
    return review


def _lock_review(session: Session, review_id: str) -> Review:
    if not looks_like("rev", review_id):
        raise NotFound("no such review")
    review = session.scalars(
        select(Review)
        .where(Review.id == review_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if review is None:
        raise NotFound("no such review")
    return review


# --- eligibility ------------------------------------------------------------------------------


def _delivered_line(
    session: Session, reviewer_id: str, order_line_id: str, now: datetime
) -> tuple[OrderLine, Order]:
    line = session.get(OrderLine, order_line_id) if looks_like("oln", order_line_id) else None
    order = session.get(Order, line.order_id) if line is not None else None
    if line is None or order is None or order.shopper_id != reviewer_id:
        raise NotFound("no such order line")
    if order.status not in DELIVERED_STATUSES or order.delivered_at is None:
        raise Conflict(
            "you can review a product once its order has been delivered", status=order.status
        )
    if now - order.delivered_at > POLICY.review_window:
        raise Conflict(
            f"reviews are open for {POLICY.review_window.days} days after delivery",
            delivered_at=order.delivered_at.isoformat(),
        )
    return line, order


def reviewable_lines(
    *, session: Session, shopper_id: str, order_id: str, now: datetime | None = None
) -> list[ReviewableLine]:
    """The order's lines with their review (if any) and whether one can be written now."""
    now = now or utcnow()
    order = checkout.shopper_order(session=session, shopper_id=shopper_id, order_id=order_id)
    reviews = {
        r.order_line_id: r
        for r in session.scalars(select(Review).where(Review.order_id == order.id)).all()
    }
    open_ = (
        order.status in DELIVERED_STATUSES
        and order.delivered_at is not None
        and now - order.delivered_at <= POLICY.review_window
    )
    return [
        ReviewableLine(line, reviews.get(line.id), open_ and line.id not in reviews)
        for line in order.lines
    ]


def can_edit(review: Review, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return review.status != ReviewStatus.REMOVED and now - review.created_at <= POLICY.edit_window


# --- fake-review signals ----------------------------------------------------------------------


def _similar_text(session: Session, review: Review, now: datetime) -> tuple[str, float] | None:
    text = _normalise(review.body)
    if len(text) < POLICY.similar_text_min_chars:
        return None
    rows = session.execute(
        select(Review.id, Review.body)
        .where(
            Review.seller_id == review.seller_id,
            Review.reviewer_id != review.reviewer_id,
            Review.id != review.id,
            Review.created_at >= now - POLICY.similar_text_lookback,
        )
        .order_by(Review.created_at.desc())
        .limit(POLICY.similar_text_candidates)
    ).all()
    choices = {rid: _normalise(body) for rid, body in rows if body}
    match = process.extractOne(
        text, choices, scorer=fuzz.ratio, score_cutoff=POLICY.similar_text_score
    )
    if match is None:
        return None
    _choice, score, other_id = match
    return str(other_id), float(score)


def _count_since(session: Session, column: Any, value: str, since: datetime, exclude: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Review)
            .where(column == value, Review.created_at >= since, Review.id != exclude)
        )
        or 0
    )


def _other_reviewer_with(session: Session, review: Review, column: Any, value: str) -> bool:
    return (
        session.scalars(
            select(Review.id)
            .where(
                Review.seller_id == review.seller_id,
                Review.reviewer_id != review.reviewer_id,
                column == value,
            )
            .limit(1)
        ).first()
        is not None
    )


def _seller_address_hashes(session: Session, seller: SellerProfile) -> set[str]:
    """Addresses saved on the seller's account and those its own orders went to."""
    found: set[str | None] = {
        address_hash(
            {"line1": a.line1, "line2": a.line2, "postal_code": a.postal_code, "country": a.country}
        )
        for a in session.scalars(select(Address).where(Address.user_id == seller.user_id))
    }
    shipped_to = session.scalars(
        select(Checkout.shipping_address)
        .where(Checkout.shopper_id == seller.user_id)
        .order_by(Checkout.created_at.desc())
        .limit(20)
    )
    for raw in shipped_to:
        try:
            value = json.loads(raw)
        except (TypeError, ValueError):
            continue
        if isinstance(value, dict):
            found.add(address_hash(value))
    return {h for h in found if h}


def fake_signals(
    *, session: Session, review: Review, order: Order, now: datetime | None = None
) -> SignalReport:
    """Every fake-review signal that fires for this (flushed) review, with its evidence."""
    now = now or utcnow()
    report = SignalReport()
    since = now - POLICY.burst_window
    minutes = int(POLICY.burst_window.total_seconds() // 60)
    on_product = _count_since(session, Review.product_id, review.product_id, since, review.id)
    if on_product >= POLICY.burst_per_product:
        report.add(
            Signal.BURST_PRODUCT, f"{on_product} other reviews of this product in {minutes} min"
        )
    on_seller = _count_since(session, Review.seller_id, review.seller_id, since, review.id)
    if on_seller >= POLICY.burst_per_seller:
        report.add(
            Signal.BURST_SELLER, f"{on_seller} other reviews of this seller in {minutes} min"
        )
    similar = _similar_text(session, review, now)
    if similar is not None:
        report.add(Signal.SIMILAR_TEXT, f"{similar[1]:.0f}% like review {similar[0]}")
    seller = session.get(SellerProfile, review.seller_id)
    own_account = seller is not None and seller.user_id == review.reviewer_id
    if own_account:
        report.add(Signal.OWN_ACCOUNT, "the reviewer is the seller's own account")
    elif (
        seller is not None
        and review.address_hash
        and review.address_hash in _seller_address_hashes(session, seller)
    ):
        report.add(Signal.SHARED_ADDRESS, "delivered to an address the seller's account uses")
    if review.device_hash and _other_reviewer_with(
        session, review, Review.device_hash, review.device_hash
    ):
        report.add(Signal.SAME_DEVICE, "another reviewer of this seller used the same device")
    if order.subtotal_amount > 0 and order.seller_discount_amount >= order.subtotal_amount:
        report.add(Signal.PAID_BY_SELLER, "the seller paid for the goods (100 % seller voucher)")
    else:
        affiliate = session.scalars(
            select(OrderLine.id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.seller_id == review.seller_id, OrderLine.creator_id == review.reviewer_id)
            .limit(1)
        ).first()
        if affiliate is not None:
            report.add(
                Signal.PAID_BY_SELLER, "the reviewer earns affiliate commission from this seller"
            )
    return report


# --- aggregates -------------------------------------------------------------------------------


def refresh_aggregates(*, session: Session, product_id: str, seller_id: str) -> None:
    """Recount the product's and the seller's published reviews.

    The aggregate rows are locked before counting: two reviews committed at once on
    PostgreSQL then recount one after the other, and the second count sees the first
    review (READ COMMITTED), so the figures cannot go stale. SQLite's write lock does
    the same."""
    session.flush()
    now = utcnow()
    session.execute(
        insert_on_conflict(session, ProductRating)
        .values(product_id=product_id, updated_at=now)
        .on_conflict_do_nothing(index_elements=["product_id"])
    )
    rating = session.scalars(
        select(ProductRating)
        .where(ProductRating.product_id == product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    # NO KEY UPDATE: the review rows' foreign keys hold KEY SHARE locks on the seller,
    # which a plain FOR UPDATE would wait on (and deadlock with).
    seller = session.scalars(
        select(SellerProfile)
        .where(SellerProfile.id == seller_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).first()
    published = Review.status == ReviewStatus.PUBLISHED
    stars = dict(
        session.execute(
            select(Review.rating, func.count())
            .where(Review.product_id == product_id, published)
            .group_by(Review.rating)
        ).all()
    )
    for n in range(1, 6):
        setattr(rating, f"stars_{n}", int(stars.get(n, 0)))
    rating.rating_count = sum(int(c) for c in stars.values())
    rating.rating_sum = sum(int(r) * int(c) for r, c in stars.items())
    rating.updated_at = now
    if seller is not None:
        count, average = session.execute(
            select(func.count(), func.avg(Review.rating)).where(
                Review.seller_id == seller_id, published
            )
        ).one()
        seller.rating_count = int(count or 0)
        seller.rating_average = round(float(average), 2) if count else None
    session.flush()


def require_listed_product(*, session: Session, product_id: str) -> Product:
    """The product if shoppers can see it (on sale and cleared by moderation)."""
    product = session.get(Product, product_id) if looks_like("prd", product_id) else None
    if product is None or not product.on_sale:
        raise NotFound("no such product")
    return product


def product_rating(*, session: Session, product_id: str) -> ProductRating | None:
    return session.get(ProductRating, product_id)


def product_reviews(
    *, session: Session, product_id: str, limit: int = 20, offset: int = 0
) -> list[Review]:
    return list(
        session.scalars(
            select(Review)
            .where(Review.product_id == product_id, Review.status == ReviewStatus.PUBLISHED)
            .options(selectinload(Review.photos))
            .order_by(Review.created_at.desc(), Review.id)
            .limit(limit)
            .offset(offset)
        ).all()
    )


def reviewer_names(*, session: Session, reviews: list[Review]) -> dict[str, str]:
    ids = {r.reviewer_id for r in reviews}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids))).all()}
    return {uid: reviewer_name(users.get(uid)) for uid in ids}


def seller_review_stats(*, session: Session, seller_id: str, since: datetime) -> ReviewStats:
    """Published reviews of the seller created since ``since`` (the performance score's input)."""
    count, negative, average = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Review.rating <= 2, 1), else_=0)), 0),
            func.avg(Review.rating),
        ).where(
            Review.seller_id == seller_id,
            Review.status == ReviewStatus.PUBLISHED,
            Review.created_at >= since,
        )
    ).one()
    return ReviewStats(
        count=int(count or 0),
        negative=int(negative or 0),
        average=round(float(average), 2) if count else None,
    )


# --- writing ----------------------------------------------------------------------------------


def _publish(session: Session, review: Review, now: datetime) -> None:
    review.status = ReviewStatus.PUBLISHED
    review.published_at = review.published_at or now
    emit(
        session=session,
        topic="review.published",
        subject_id=review.id,
        payload={
            "review_id": review.id,
            "product_id": review.product_id,
            "seller_id": review.seller_id,
            "rating": review.rating,
        },
    )


def create_review(
    *,
    session: Session,
    reviewer_id: str,
    order_line_id: str,
    rating: int,
    body: str,
    device_fingerprint: str | None = None,
    now: datetime | None = None,
) -> Review:
    now = now or utcnow()
    rating = _check_rating(rating)
    body = _clean_body(body)
    line, order = _delivered_line(session, reviewer_id, order_line_id, now)
    # The order row lock serialises two reviews of the same line; the unique index is the
    # last word if anything slips past.
    lock_order(session=session, order_id=order.id)
    if session.scalars(select(Review.id).where(Review.order_line_id == line.id)).first():
        raise Conflict("this order line already has your review; edit it instead")
    shipping = session.get(Checkout, order.checkout_id)
    addr: dict[str, Any] = {}
    if shipping is not None:
        try:
            addr = json.loads(shipping.shipping_address)
        except (ValueError, TypeError):
            addr = {}
    review = Review(
        order_line_id=line.id,
        order_id=order.id,
        product_id=line.product_id,
        seller_id=order.seller_id,
        reviewer_id=reviewer_id,
        rating=rating,
        body=body,
        status=ReviewStatus.HELD,
        address_hash=address_hash(addr) if isinstance(addr, dict) else None,
        device_hash=device_hash(device_fingerprint),
        created_at=now,
        updated_at=now,
    )
    session.add(review)
    session.flush()
    report = fake_signals(session=session, review=review, order=order, now=now)
    review.hold_reasons = report.reasons
    if not report.reasons:
        _publish(session, review, now)
    refresh_aggregates(session=session, product_id=review.product_id, seller_id=review.seller_id)
    session.flush()
    return review


def edit_review(
    *,
    session: Session,
    reviewer_id: str,
    review_id: str,
    rating: int | None,
    body: str | None,
    now: datetime | None = None,
) -> Review:
    now = now or utcnow()
    review = _lock_review(session, review_id)
    if review.reviewer_id != reviewer_id:
        raise NotFound("no such review")
    if review.status == ReviewStatus.REMOVED:
        raise Conflict("this review was removed and cannot be edited")
    if now - review.created_at > POLICY.edit_window:
        raise Conflict(f"reviews can be edited for {POLICY.edit_window.days} days")
    if rating is not None:
        review.rating = _check_rating(rating)
    if body is not None:
        review.body = _clean_body(body)
        similar = _similar_text(session, review, now)
        if similar is not None and review.status == ReviewStatus.PUBLISHED:
            review.status = ReviewStatus.HELD
            review.hold_reasons = [
                *review.hold_reasons,
                {"signal": Signal.SIMILAR_TEXT, "detail": f"{similar[1]:.0f}% like {similar[0]}"},
            ]
    review.edited_at = now
    review.updated_at = now
    refresh_aggregates(session=session, product_id=review.product_id, seller_id=review.seller_id)
    session.flush()
    return review


def add_photo(
    *, session: Session, reviewer_id: str, review_id: str, data: bytes, now: datetime | None = None
) -> ReviewPhoto:
    """Re-encode the upload (pixels only) and attach it, within the edit window."""
    now = now or utcnow()
    review = _lock_review(session, review_id)
    if review.reviewer_id != reviewer_id:
        raise NotFound("no such review")
    if not can_edit(review, now):
        raise Conflict("photos can be added while the review can still be edited")
    if len(review.photos) >= POLICY.max_photos:
        raise Conflict(f"a review has at most {POLICY.max_photos} photos")
    processed = image_pipeline.process(data)
    storage = get_storage()
    key = new_key("reviews", ".webp")
    thumb_key = key.removesuffix(".webp") + "-400.webp"
    storage.put(key, processed.data, content_type=processed.content_type)
    storage.put(thumb_key, processed.thumb, content_type=processed.content_type)
    photo = ReviewPhoto(
        storage_key=key,
        thumb_key=thumb_key,
        content_type=processed.content_type,
        width=processed.width,
        height=processed.height,
        position=len(review.photos),
    )
    review.photos.append(photo)
    review.updated_at = now
    session.flush()
    return photo


def photo_for_viewing(
    *, session: Session, photo_id: str, viewer_id: str | None, is_staff: bool, thumb: bool
) -> tuple[bytes, str]:
    """A photo's bytes: anyone for a published review, the author and staff otherwise."""
    photo = session.get(ReviewPhoto, photo_id) if looks_like("rph", photo_id) else None
    if photo is None:
        raise NotFound("no such photo")
    review = photo.review
    if review.status != ReviewStatus.PUBLISHED and not (
        is_staff or (viewer_id is not None and viewer_id == review.reviewer_id)
    ):
        raise NotFound("no such photo")
    return get_storage().get(photo.thumb_key if thumb else photo.storage_key), photo.content_type


def answer_review(
    *, session: Session, seller_id: str, review_id: str, answer: str, now: datetime | None = None
) -> Review:
    """The seller's public answer: once, never edited."""
    now = now or utcnow()
    review = _lock_review(session, review_id)
    if review.seller_id != seller_id or review.status != ReviewStatus.PUBLISHED:
        raise NotFound("no such review")
    answer = answer.strip()
    if not answer:
        raise InvalidInput("write an answer", field="answer")
    if len(answer) > POLICY.max_answer_chars:
        raise InvalidInput(
            f"an answer is at most {POLICY.max_answer_chars} characters", field="answer"
        )
    if review.seller_answer is not None:
        raise Conflict("you have already answered this review; a seller answers once")
    review.seller_answer = answer
    review.seller_answered_at = now
    session.flush()
    return review


def seller_reviews(
    *, session: Session, seller_id: str, limit: int = 50, offset: int = 0
) -> list[Review]:
    return list(
        session.scalars(
            select(Review)
            .where(Review.seller_id == seller_id, Review.status == ReviewStatus.PUBLISHED)
            .order_by(Review.created_at.desc(), Review.id)
            .limit(limit)
            .offset(offset)
        ).all()
    )


# --- staff moderation -------------------------------------------------------------------------


def held_reviews(*, session: Session, limit: int = 100) -> list[Review]:
    return list(
        session.scalars(
            select(Review)
            .where(Review.status == ReviewStatus.HELD)
            .options(selectinload(Review.photos))
            .order_by(Review.created_at, Review.id)
            .limit(limit)
        ).all()
    )


def moderate_review(
    *,
    session: Session,
    review_id: str,
    actor_id: str,
    action: str,
    note: str = "",
    now: datetime | None = None,
) -> Review:
    """Staff release a held review (published and counted) or remove one (gone for good)."""
    now = now or utcnow()
    if action not in ("release", "remove"):
        raise InvalidInput("the action is release or remove", field="action")
    review = _lock_review(session, review_id)
    if action == "release":
        if review.status != ReviewStatus.HELD:
            raise Conflict("only a held review can be released", status=review.status)
        _publish(session, review, now)
    else:
        if review.status == ReviewStatus.REMOVED:
            raise Conflict("this review is already removed")
        review.status = ReviewStatus.REMOVED
    review.moderated_by = actor_id
    review.moderated_at = now
    review.moderation_note = note.strip()[:300] or None
    audit.record(
        session=session,
        actor_id=actor_id,
        action=f"review.{action}",
        target_type="review",
        target_id=review.id,
        reason=review.moderation_note,
        detail={"hold_reasons": [r.get("signal") for r in review.hold_reasons]},
    )
    refresh_aggregates(session=session, product_id=review.product_id, seller_id=review.seller_id)
    session.flush()
    return review
