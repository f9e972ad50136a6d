"""Creator affiliate commission: last-click attribution inside the market's window, the
product's rate at settlement, reversal on refund (and a creator receivable once paid out),
the creator's earnings, and bad input refused with nothing written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts.models import Role, User
from reelshop.catalog.models import Product
from reelshop.checkout import service as checkout
from reelshop.checkout.models import Order, OrderLine
from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.feed import affiliates
from reelshop.feed.models import EventKind, FeedEvent, Video
from reelshop.feed.monetisation_models import (
    AffiliateAttribution,
    AffiliateTerms,
    AttributionStatus,
    MarketFeedSettings,
)
from reelshop.money import Money
from reelshop.outbox.models import OutboxEvent
from reelshop.payments import ledger
from reelshop.payments import service as payments
from reelshop.payments.jobs import settle_delivered
from reelshop.payments.ledger import Posting
from reelshop.payments.models import JournalEntry
from reelshop.payments.verify import verify
from reelshop.sellers.models import SellerProfile
from tests.factories import api_login, make_product, make_seller, make_user, page_login
from tests.feed.helpers import add_video
from tests.payments.helpers import (
    LineSpec,
    OrderSpec,
    Placed,
    account,
    make_shop,
    pay_and_confirm,
    place_checkout,
    processor,
)

USD = "USD"


@dataclass
class World:
    seller: SellerProfile
    product: Product
    shopper: User
    creator_a: User
    creator_b: User
    video_a: Video
    video_b: Video
    seller_video: Video


def _creator_video(session: Session, creator: User, product: Product) -> Video:
    video = add_video(session, author_user_id=creator.id, product_id=product.id)
    video.tags[0].affiliate_user_id = creator.id
    session.flush()
    return video


def _world(session: Session) -> World:
    seller, product = make_shop(session, price_cents=10_000)
    creator_a = make_user(session, role=Role.CREATOR, commit=False)
    creator_b = make_user(session, role=Role.CREATOR, commit=False)
    shopper = make_user(session, commit=False)
    world = World(
        seller=seller,
        product=product,
        shopper=shopper,
        creator_a=creator_a,
        creator_b=creator_b,
        video_a=_creator_video(session, creator_a, product),
        video_b=_creator_video(session, creator_b, product),
        seller_video=add_video(session, author_user_id=seller.user_id, product_id=product.id),
    )
    session.commit()
    return world


def _click(session: Session, w: World, video: Video, at: datetime) -> None:
    session.add(
        FeedEvent(
            user_id=w.shopper.id,
            video_id=video.id,
            kind=EventKind.PRODUCT_CARD_CLICK,
            product_id=w.product.id,
            created_at=at,
        )
    )
    session.commit()


def _place(session: Session, w: World, now: datetime, claimed: str | None = None) -> Order:
    """An order for the product; ``claimed`` is what a client put on the cart line."""
    placed = place_checkout(
        session,
        shopper=w.shopper,
        orders=[OrderSpec([LineSpec(w.product, 1, creator_id=claimed)])],
    )
    order = session.get(Order, placed.order_ids[0])
    assert order is not None
    affiliates.attribute_order_lines(
        session=session, shopper_id=w.shopper.id, market_code="US", orders=[order], now=now
    )
    session.commit()
    return order


def _line(session: Session, order: Order) -> OrderLine:
    return session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).one()


def _ok(session: Session) -> None:
    session.rollback()
    report = verify(session=session)
    assert report.ok, report.violations


def test_a_click_inside_the_window_credits_the_creator_and_outside_it_does_not(
    session: Session,
) -> None:
    w = _world(session)
    now = utcnow()
    _click(session, w, w.video_a, now - timedelta(days=8))
    order = _place(session, w, now, claimed=w.creator_b.id)
    # Outside the default 7 days: nobody is credited, whatever the client claimed.
    assert _line(session, order).creator_id is None
    assert session.scalar(select(func.count()).select_from(AffiliateAttribution)) == 0

    session.add(MarketFeedSettings(market_code="US", attribution_window_days=10))
    session.commit()
    order = _place(session, w, now)
    line = _line(session, order)
    assert (line.creator_id, line.video_id) == (w.creator_a.id, w.video_a.id)

    _click(session, w, w.video_a, now - timedelta(days=6, hours=23))
    session.delete(session.get(MarketFeedSettings, "US"))
    session.commit()
    assert _line(session, _place(session, w, now)).creator_id == w.creator_a.id


def test_the_last_click_wins_and_the_sellers_own_video_or_a_later_click_does_not_count(
    session: Session,
) -> None:
    w = _world(session)
    now = utcnow()
    _click(session, w, w.video_a, now - timedelta(days=3))
    _click(session, w, w.video_b, now - timedelta(days=1))
    _click(session, w, w.seller_video, now - timedelta(hours=2))  # no creator on it
    _click(session, w, w.video_a, now + timedelta(minutes=5))  # after the order
    order = _place(session, w, now, claimed=w.creator_a.id)
    line = _line(session, order)
    assert (line.creator_id, line.video_id) == (w.creator_b.id, w.video_b.id)
    attribution = session.get(AffiliateAttribution, line.id)
    assert attribution is not None and attribution.creator_id == w.creator_b.id


def _deliver(factory: sessionmaker[Session], order: Order) -> None:
    with unit_of_work(factory) as s:
        checkout.mark_delivered(
            session=s, order_id=order.id, delivered_at=utcnow() - timedelta(days=8)
        )


def _settle(factory: sessionmaker[Session], order: Order) -> None:
    _deliver(factory, order)
    assert settle_delivered(factory, now=utcnow()) == 1


def _refund(factory: sessionmaker[Session], settings: Settings, order: Order, cents: int) -> None:
    with unit_of_work(factory) as s:
        payments.refund_order(
            session=s,
            provider=processor(settings),
            order_id=order.id,
            amount=Money(cents, USD),
            reason="returned",
        )


def test_commission_uses_the_products_rate_at_settlement_and_is_reversed_on_refund(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    w = _world(session)
    affiliates.set_affiliate_rate(
        session=session, seller=w.seller, product_id=w.product.id, rate_bp=2000
    )
    session.commit()
    _click(session, w, w.video_a, utcnow() - timedelta(hours=1))
    order = _place(session, w, utcnow())
    placed_checkout = order.checkout_id
    pay_and_confirm(
        session_factory, settings, Placed(placed_checkout, w.shopper.id, [order.id], 10_000)
    )
    _settle(session_factory, order)
    creator = ledger.creator_payable(w.creator_a.id)
    assert account(session, creator) == 2000  # 20 % of 100.00, the seller's rate
    seller_after_settlement = account(session, ledger.seller_payable(w.seller.id))
    earnings = affiliates.creator_earnings(session=session, creator_id=w.creator_a.id)
    assert (earnings.orders, earnings.clicks) == (1, 1)
    assert earnings.earnings[0].settled == Money(2000, USD)
    _ok(session)

    _refund(session_factory, settings, order, 5000)  # half back: half the commission
    assert account(session, creator) == 1000
    # The seller bore the 50.00 refund and gets the creator's 10.00 back.
    assert (
        account(session, ledger.seller_payable(w.seller.id))
        == seller_after_settlement - 5000 + 1000
    )
    _ok(session)

    # The creator is paid what is left; the next refund's reversal becomes a receivable.
    with unit_of_work(session_factory) as s:
        ledger.post(
            session=s,
            kind="correction",
            ref="test:creator-paid",
            postings=[
                Posting.debit(creator, Money(1000, USD)),
                Posting.credit(ledger.PAYOUTS_IN_TRANSIT, Money(1000, USD)),
            ],
        )
    _refund(session_factory, settings, order, 5000)
    assert account(session, creator) == 0
    assert account(session, ledger.creator_receivable(w.creator_a.id)) == 1000
    attribution = session.get(AffiliateAttribution, _line(session, order).id)
    assert attribution is not None
    assert (attribution.status, attribution.reversed_amount) == (AttributionStatus.REVERSED, 2000)
    earnings = affiliates.creator_earnings(session=session, creator_id=w.creator_a.id)
    assert earnings.earnings[0].reversed == Money(2000, USD)
    assert earnings.earnings[0].settled == Money(0, USD)
    _ok(session)


def test_a_refund_before_settlement_leaves_less_to_commission(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    w = _world(session)
    _click(session, w, w.video_b, utcnow() - timedelta(hours=1))
    order = _place(session, w, utcnow())
    pay_and_confirm(
        session_factory, settings, Placed(order.checkout_id, w.shopper.id, [order.id], 10_000)
    )
    pending = affiliates.creator_earnings(session=session, creator_id=w.creator_b.id)
    assert pending.earnings[0].pending == Money(1000, USD)  # market default 10 %
    _deliver(session_factory, order)
    _refund(session_factory, settings, order, 4000)
    assert settle_delivered(session_factory, now=utcnow()) == 1
    # 60.00 left in escrow: 10 % of it; nothing was credited before, so nothing reversed.
    assert account(session, ledger.creator_payable(w.creator_b.id)) == 600
    assert (
        session.scalar(
            select(func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.kind == "affiliate_reversal")
        )
        == 0
    )
    _ok(session)


def test_rates_are_bounded_and_only_for_your_own_products(
    client: TestClient, session: Session
) -> None:
    seller_user, seller = make_seller(session)
    product = make_product(session, seller=seller)
    _, other = make_seller(session, display_name="Other shop")
    foreign = make_product(session, seller=other, title="not yours")
    headers = api_login(client, seller_user.email)
    url = f"/api/v1/seller/products/{product.id}/affiliate-rate"
    for bad in (-1, 5001, 100_000):
        response = client.put(url, json={"rate_bp": bad}, headers=headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.put(url, json={"rate_bp": "lots"}, headers=headers).status_code == 422
    response = client.put(
        f"/api/v1/seller/products/{foreign.id}/affiliate-rate",
        json={"rate_bp": 1000},
        headers=headers,
    )
    assert response.status_code == 404
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AffiliateTerms)) == 0
    response = client.put(url, json={"rate_bp": 5000}, headers=headers)
    assert response.status_code == 200 and response.json()["rate_bp"] == 5000


def test_creator_earnings_api_and_page(client: TestClient, session: Session) -> None:
    w = _world(session)
    _click(session, w, w.video_a, utcnow())
    _place(session, w, utcnow())
    headers = api_login(client, w.creator_a.email)
    body = client.get("/api/v1/creator/earnings", headers=headers).json()
    assert (body["clicks"], body["orders"]) == (1, 1)
    assert body["earnings"][0]["pending"]["amount"] == 1000
    assert (
        client.get(
            "/api/v1/creator/earnings", headers=api_login(client, w.shopper.email)
        ).status_code
        == 403
    )


def test_creator_earnings_page_is_linked_from_the_creator_home(
    client: TestClient, session: Session
) -> None:
    w = _world(session)
    _click(session, w, w.video_a, utcnow())
    _place(session, w, utcnow())
    page_login(client, w.creator_a.email)
    assert 'href="/creator/earnings"' in client.get("/creator").text
    page = client.get("/creator/earnings")
    assert page.status_code == 200
    assert "Card clicks" in page.text and "$10.00" in page.text  # pending 10 % of 100.00


def test_creators_can_read_a_products_rate_and_attribution_is_announced(
    client: TestClient, session: Session
) -> None:
    w = _world(session)
    w.product.status = "active"
    affiliates.set_affiliate_rate(
        session=session, seller=w.seller, product_id=w.product.id, rate_bp=1500
    )
    session.commit()
    headers = api_login(client, w.creator_a.email)
    url = f"/api/v1/products/{w.product.id}/affiliate-rate"
    assert client.get(url, headers=headers).json() == {"product_id": w.product.id, "rate_bp": 1500}
    assert client.get(url).status_code == 401
    assert (
        client.get("/api/v1/products/prd_nope/affiliate-rate", headers=headers).status_code == 404
    )
    _click(session, w, w.video_b, utcnow())
    order = _place(session, w, utcnow())
    event = session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.topic == "affiliate.attributed", OutboxEvent.subject_id == order.id
        )
    ).one()
    assert event.payload["lines"][0]["creator_id"] == w.creator_b.id
    assert event.payload["lines"][0]["rate_bp"] == 1500
