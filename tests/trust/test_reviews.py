"""Reviews: who may write one, one per line, the edit window, the seller's single answer,
each fake-review signal holding a review back, staff release/remove, aggregates and the
performance-score contract."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts.models import Address
from reelshop.catalog.models import Product
from reelshop.db import make_session_factory, unit_of_work, utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.outbox.models import OutboxEvent
from reelshop.sellers.models import SellerProfile
from reelshop.trust import reviews
from reelshop.trust.review_models import Review, ReviewStatus
from tests.factories import make_product, make_seller, make_staff, make_user
from tests.trust.protection_helpers import Delivered, delivered_line


def _shop(session: Session) -> tuple[SellerProfile, Product]:
    _, seller = make_seller(session, commit=False)
    product = make_product(session, seller=seller, price_cents=2000, commit=False)
    session.commit()
    return seller, product


def _review(
    factory: sessionmaker[Session], d: Delivered, *, rating: int = 5, body: str = "", **kw: object
) -> Review:
    with unit_of_work(factory) as s:
        review = reviews.create_review(
            session=s,
            reviewer_id=d.shopper_id,
            order_line_id=d.line_id,
            rating=rating,
            body=body,
            **kw,  # type: ignore[arg-type]
        )
        s.expunge(review)
        return review


def _fresh(session: Session) -> None:
    """Forget what the arranging session loaded (it does not expire on commit)."""
    session.rollback()
    session.expire_all()


def _signals(review: Review) -> set[str]:
    return {r["signal"] for r in review.hold_reasons}


def test_only_delivered_lines_of_your_own_orders_can_be_reviewed(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    _, product = _shop(session)
    shopper = make_user(session)
    shipped = delivered_line(session, product=product, shopper=shopper, status="shipped")
    with unit_of_work(session_factory) as s, pytest.raises(Conflict):
        reviews.create_review(
            session=s, reviewer_id=shopper.id, order_line_id=shipped.line_id, rating=5, body=""
        )
    done = delivered_line(session, product=product, shopper=shopper)
    stranger = make_user(session)
    for reviewer, line_id in ((stranger.id, done.line_id), (shopper.id, "oln_nope")):
        with unit_of_work(session_factory) as s, pytest.raises(NotFound):
            reviews.create_review(
                session=s, reviewer_id=reviewer, order_line_id=line_id, rating=5, body=""
            )
    for bad in (0, 6):
        with unit_of_work(session_factory) as s, pytest.raises(InvalidInput):
            reviews.create_review(
                session=s, reviewer_id=shopper.id, order_line_id=done.line_id, rating=bad, body=""
            )
    review = _review(session_factory, done, rating=4, body="Good sound for the price")
    assert review.status == ReviewStatus.PUBLISHED
    with unit_of_work(session_factory) as s, pytest.raises(Conflict):
        reviews.create_review(
            session=s, reviewer_id=shopper.id, order_line_id=done.line_id, rating=1, body=""
        )
    _fresh(session)
    assert session.scalar(select(Review.id).where(Review.order_line_id == done.line_id))
    assert session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "review.published")).all()


def test_edit_window_and_the_sellers_single_answer(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    seller, product = _shop(session)
    d = delivered_line(session, product=product, shopper=make_user(session))
    review = _review(session_factory, d, rating=2, body="Stopped charging")
    later = utcnow() + timedelta(days=10)
    with unit_of_work(session_factory) as s:
        edited = reviews.edit_review(
            session=s,
            reviewer_id=d.shopper_id,
            review_id=review.id,
            rating=4,
            body="Fixed",
            now=later,
        )
        assert edited.rating == 4 and edited.edited_at is not None
    with unit_of_work(session_factory) as s, pytest.raises(NotFound):
        reviews.edit_review(
            session=s, reviewer_id=seller.user_id, review_id=review.id, rating=1, body=None
        )
    too_late = utcnow() + reviews.POLICY.edit_window + timedelta(minutes=1)
    with unit_of_work(session_factory) as s, pytest.raises(Conflict):
        reviews.edit_review(
            session=s,
            reviewer_id=d.shopper_id,
            review_id=review.id,
            rating=5,
            body=None,
            now=too_late,
        )
    with unit_of_work(session_factory) as s:
        reviews.answer_review(
            session=s, seller_id=seller.id, review_id=review.id, answer="Glad we could help"
        )
    with unit_of_work(session_factory) as s, pytest.raises(Conflict):
        reviews.answer_review(session=s, seller_id=seller.id, review_id=review.id, answer="Again")
    _, other = make_seller(session)
    with unit_of_work(session_factory) as s, pytest.raises(NotFound):
        reviews.answer_review(session=s, seller_id=other.id, review_id=review.id, answer="Hi")
    _fresh(session)
    stored = session.get(Review, review.id)
    assert (
        stored is not None and stored.rating == 4 and stored.seller_answer == "Glad we could help"
    )


def test_burst_on_one_product_holds_the_next_review(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    _, product = _shop(session)
    held = []
    for i in range(reviews.POLICY.burst_per_product + 1):
        d = delivered_line(
            session, product=product, shopper=make_user(session), line1=f"{i} Elm St"
        )
        held.append(_review(session_factory, d, body=f"review number {i}"))
    assert [r.status for r in held[:-1]] == ["published"] * reviews.POLICY.burst_per_product
    assert held[-1].status == ReviewStatus.HELD
    assert reviews.Signal.BURST_PRODUCT in _signals(held[-1])


def test_burst_on_one_seller_across_products(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    seller, _ = _shop(session)
    last = None
    for i in range(reviews.POLICY.burst_per_seller + 1):
        product = make_product(session, seller=seller, price_cents=1000)
        d = delivered_line(session, product=product, shopper=make_user(session), line1=f"{i} Oak")
        last = _review(session_factory, d, body=f"distinct words {i}")
    assert last is not None and last.status == ReviewStatus.HELD
    assert _signals(last) == {reviews.Signal.BURST_SELLER}


def test_near_identical_text_across_reviewers_is_held(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    seller, product = _shop(session)
    other = make_product(session, seller=seller)
    first = delivered_line(session, product=product, shopper=make_user(session), line1="1 A St")
    second = delivered_line(session, product=other, shopper=make_user(session), line1="2 B St")
    third = delivered_line(session, product=product, shopper=make_user(session), line1="3 C St")
    text = "Amazing quality, fast shipping, would buy again from this seller!!"
    assert _review(session_factory, first, body=text).status == ReviewStatus.PUBLISHED
    copy = _review(
        session_factory,
        second,
        body="amazing quality fast shipping, would buy again from this seller",
    )
    assert copy.status == ReviewStatus.HELD
    assert _signals(copy) == {reviews.Signal.SIMILAR_TEXT}
    honest = _review(session_factory, third, body="The left earbud crackles at high volume.")
    assert honest.status == ReviewStatus.PUBLISHED


def test_reviewer_seller_links_hold_reviews(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    seller_user, seller = make_seller(session)
    product = make_product(session, seller=seller)
    # The seller's own account.
    own = delivered_line(session, product=product, shopper=seller_user, line1="9 Own Rd")
    assert reviews.Signal.OWN_ACCOUNT in _signals(_review(session_factory, own))
    # Delivered to an address saved on the seller's account.
    session.add(
        Address(
            user_id=seller_user.id,
            recipient="Boss",
            line1="77 Factory Lane",
            city="Newark",
            region="NJ",
            postal_code="07102",
            country="US",
        )
    )
    session.commit()
    friend = delivered_line(
        session,
        product=product,
        shopper=make_user(session),
        line1="77 factory lane",
        postal_code="07102",
    )
    assert _signals(_review(session_factory, friend)) == {reviews.Signal.SHARED_ADDRESS}
    # ... or to where the seller's own account had an order delivered.
    shill = delivered_line(
        session,
        product=make_product(session, seller=seller),
        shopper=make_user(session),
        line1="9 OWN RD.",
    )
    assert _signals(_review(session_factory, shill)) == {reviews.Signal.SHARED_ADDRESS}
    # Two honest reviewers in one building are not a link to the seller.
    neighbour = delivered_line(
        session,
        product=make_product(session, seller=seller),
        shopper=make_user(session),
        line1="77 Factory Lane",
        postal_code="99999",
    )
    assert _review(session_factory, neighbour).status == ReviewStatus.PUBLISHED
    # Two reviewers on one device.
    a = delivered_line(session, product=product, shopper=make_user(session), line1="1 X St")
    b = delivered_line(session, product=product, shopper=make_user(session), line1="2 Y St")
    assert _review(session_factory, a, device_fingerprint="dev-123").status == "published"
    assert _signals(_review(session_factory, b, device_fingerprint="dev-123")) == {
        reviews.Signal.SAME_DEVICE
    }
    # Goods paid by the seller (a 100 % seller voucher), and an affiliate the seller pays.
    free = delivered_line(
        session, product=product, shopper=make_user(session), line1="3 Z St", seller_discount=2999
    )
    assert _signals(_review(session_factory, free)) == {reviews.Signal.PAID_BY_SELLER}
    creator = make_user(session)
    delivered_line(
        session, product=product, shopper=make_user(session), line1="4 Q St", creator_id=creator.id
    )
    other = make_product(session, seller=seller)  # a fresh product: no burst on it
    paid = delivered_line(session, product=other, shopper=creator, line1="5 R St")
    assert _signals(_review(session_factory, paid)) == {reviews.Signal.PAID_BY_SELLER}


def test_aggregates_count_published_only_and_follow_staff_decisions(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    seller_user, seller = make_seller(session)
    product = make_product(session, seller=seller)
    ok = delivered_line(session, product=product, shopper=make_user(session, name="Grace Hopper"))
    _review(session_factory, ok, rating=4, body="Solid")
    own = delivered_line(session, product=product, shopper=seller_user, line1="8 Self St")
    held = _review(session_factory, own, rating=5, body="Best ever")
    assert held.status == ReviewStatus.HELD
    _fresh(session)
    rating = reviews.product_rating(session=session, product_id=product.id)
    assert rating is not None and (rating.rating_count, rating.average, rating.stars_4) == (
        1,
        4.0,
        1,
    )
    session.refresh(seller)
    assert (seller.rating_count, seller.rating_average) == (1, 4.0)
    assert [r.id for r in reviews.product_reviews(session=session, product_id=product.id)] != [
        held.id
    ]
    staff = make_staff(session)
    with unit_of_work(session_factory) as s:
        assert [r.id for r in reviews.held_reviews(session=s)] == [held.id]
        reviews.moderate_review(
            session=s, review_id=held.id, actor_id=staff.id, action="release", note="checked"
        )
    _fresh(session)
    rating = reviews.product_rating(session=session, product_id=product.id)
    assert rating is not None and (rating.rating_count, rating.average) == (2, 4.5)
    session.refresh(seller)
    assert (seller.rating_count, seller.rating_average) == (2, 4.5)
    stats = reviews.seller_review_stats(
        session=session, seller_id=seller.id, since=utcnow() - timedelta(days=1)
    )
    assert (stats.count, stats.negative, stats.average) == (2, 0, 4.5)
    with unit_of_work(session_factory) as s:
        reviews.moderate_review(session=s, review_id=held.id, actor_id=staff.id, action="remove")
    with unit_of_work(session_factory) as s, pytest.raises(Conflict):
        reviews.moderate_review(session=s, review_id=held.id, actor_id=staff.id, action="release")
    _fresh(session)
    session.refresh(seller)
    assert (seller.rating_count, seller.rating_average) == (1, 4.0)
    names = reviews.reviewer_names(
        session=session, reviews=reviews.product_reviews(session=session, product_id=product.id)
    )
    assert list(names.values()) == ["Grace"]


def test_review_stats_count_negatives_since_a_date(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    seller, product = _shop(session)
    bodies = ("Broke on day two", "Battery is weak", "Does the job, nothing more", "Love it")
    for i, rating in enumerate((1, 2, 3, 5)):
        d = delivered_line(session, product=product, shopper=make_user(session), line1=f"{i} Q")
        _review(session_factory, d, rating=rating, body=bodies[i])
    stats = reviews.seller_review_stats(
        session=session, seller_id=seller.id, since=utcnow() - timedelta(hours=1)
    )
    assert (stats.count, stats.negative, stats.average) == (4, 2, 2.75)
    empty = reviews.seller_review_stats(
        session=session, seller_id=seller.id, since=utcnow() + timedelta(hours=1)
    )
    assert (empty.count, empty.negative, empty.average) == (0, 0, None)


def test_deleted_users_show_as_deleted(session: Session) -> None:
    user = make_user(session, name="Ada Lovelace")
    assert reviews.reviewer_name(user) == "Ada"
    user.is_active = False
    assert reviews.reviewer_name(user) == reviews.DELETED_USER
    assert reviews.reviewer_name(None) == reviews.DELETED_USER


def test_concurrent_reviews_keep_the_aggregates_exact(session: Session, engine: Engine) -> None:
    """Reviews of one product committed at the same moment: neither count is lost."""
    seller, product = _shop(session)
    lines = [
        delivered_line(session, product=product, shopper=make_user(session), line1=f"{i} Race St")
        for i in range(4)
    ]
    writers = make_session_factory(engine)
    barrier = threading.Barrier(len(lines))
    failures: list[BaseException] = []
    bodies = ["Loud and clear", "Fits my ears well", "Case feels sturdy", "Pairs instantly"]

    def write(d: Delivered, body: str) -> None:
        barrier.wait()
        try:
            _review(writers, d, rating=4, body=body)
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=write, args=pair) for pair in zip(lines, bodies, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    _fresh(session)
    rating = reviews.product_rating(session=session, product_id=product.id)
    assert rating is not None and (rating.rating_count, rating.stars_4) == (4, 4)
    session.refresh(seller)
    assert seller.rating_count == 4
