"""Sponsored posts: second-price charging with a reserve, pacing, the frequency and ad-load
caps over a day of scrolling, budgets that concurrent impressions never overspend, the
ledger charges, and bad input refused with nothing written."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role, User
from reelshop.db import make_session_factory, unit_of_work, utcnow
from reelshop.feed import sponsored
from reelshop.feed.models import Video
from reelshop.feed.monetisation_models import (
    AdCampaign,
    AdCampaignDay,
    AdImpression,
    CampaignStatus,
    MarketFeedSettings,
)
from reelshop.money import Money
from reelshop.payments import ledger
from reelshop.payments.verify import verify
from reelshop.sellers.models import SellerProfile
from tests.factories import api_login, make_product, make_seller, make_user, page_login
from tests.feed.helpers import add_video
from tests.payments.helpers import account

USD = "USD"
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LATE = datetime(2026, 3, 2, 23, 59, tzinfo=UTC)


def _seller_video(session: Session, seller: SellerProfile) -> Video:
    product = make_product(session, seller=seller, commit=False)
    video = add_video(session, author_user_id=seller.user_id, product_id=product.id)
    video.seller_id = seller.id
    session.flush()
    return video


def _campaign(
    session: Session, *, bid: int, budget: int = 1_000_000, seller: SellerProfile | None = None
) -> AdCampaign:
    if seller is None:
        _, seller = make_seller(session, commit=False)
    campaign = sponsored.create_campaign(
        session=session,
        seller=seller,
        video_id=_seller_video(session, seller).id,
        daily_budget=Money(budget, USD),
        max_cpm=Money(bid, USD),
    )
    session.commit()
    return campaign


def _users(session: Session, n: int) -> list[User]:
    users = [make_user(session, commit=False) for _ in range(n)]
    session.commit()
    return users


def _ok(session: Session) -> None:
    session.rollback()
    report = verify(session=session)
    assert report.ok, report.violations


def test_second_price_with_a_reserve(session: Session) -> None:
    high = _campaign(session, bid=500)
    low = _campaign(session, bid=300)
    shopper = make_user(session)
    served = sponsored.run_auction(session=session, user_id=shopper.id, market_code="US", now=NOON)
    assert served is not None
    assert (served.campaign_id, served.price_cpm) == (high.id, Money(301, USD))

    low.status = CampaignStatus.PAUSED
    session.commit()
    served = sponsored.run_auction(session=session, user_id=shopper.id, market_code="US", now=NOON)
    assert served is not None and served.price_cpm == Money(500, USD)  # alone: its own bid

    low.status = CampaignStatus.ACTIVE
    session.add(MarketFeedSettings(market_code="US", reserve_cpm_amount=400))
    session.commit()
    other = make_user(session)
    served = sponsored.run_auction(session=session, user_id=other.id, market_code="US", now=NOON)
    # The 3.00 bid is under the reserve: it neither wins nor sets the price.
    assert served is not None and served.price_cpm == Money(500, USD)
    assert sponsored.clearing_price([700, 700]) == 700
    assert sponsored.clearing_price([700, 200, 650]) == 651


def test_spend_is_charged_to_the_ledger_in_whole_minor_units(session: Session) -> None:
    campaign = _campaign(session, bid=1500)
    for user in _users(session, 9):
        assert sponsored.run_auction(session=session, user_id=user.id, market_code="US", now=NOON)
    session.commit()
    day = session.get(AdCampaignDay, (campaign.id, NOON.date()))
    assert day is not None and (day.impressions, day.spent_millis) == (9, 13_500)
    # 9 impressions at 15.00 CPM = 13.5 cents: 13 charged so far, the half cent carries.
    assert account(session, ledger.PLATFORM_AD_REVENUE) == 13
    assert account(session, ledger.seller_receivable(campaign.seller_id)) == 13
    _ok(session)


def test_pacing_spreads_the_budget_over_the_day(session: Session) -> None:
    # 10.00 a day at 10.00 CPM: 1,000 impressions a day, one cent each.
    campaign = _campaign(session, bid=1000, budget=1000)
    users = _users(session, 8)
    six_am = NOON.replace(hour=6)
    served = 0
    for i in range(400):
        if sponsored.run_auction(
            session=session, user_id=users[i % 8].id, market_code="US", now=six_am
        ):
            served += 1
        else:
            break
        if i % 8 == 7:  # fresh shoppers, so the frequency cap is not what stops it
            users = _users(session, 8)
    # A quarter of the day has passed, plus the half-hour burst: 1000 * (1/4 + 1/48).
    assert served == 270
    assert sponsored.allowed_spend_millis(daily_budget=1000, now=six_am) == 270_833
    assert sponsored.allowed_spend_millis(daily_budget=1000, now=LATE) == 1_000_000
    more = make_user(session)
    assert sponsored.run_auction(session=session, user_id=more.id, market_code="US", now=NOON)
    session.commit()
    assert account(session, ledger.PLATFORM_AD_REVENUE) == 271
    _ = campaign


def test_frequency_cap_and_ad_load_over_a_day_of_scrolling(
    client: TestClient, session: Session
) -> None:
    creators = [make_user(session, role=Role.CREATOR, commit=False) for _ in range(4)]
    _, shop = make_seller(session, commit=False)
    products = [make_product(session, seller=shop, title=f"p{i}", commit=False) for i in range(6)]
    for i in range(120):
        add_video(session, author_user_id=creators[i % 4].id, product_id=products[i % 6].id)
    session.commit()
    campaigns = [_campaign(session, bid=200 + 100 * i) for i in range(3)]
    shopper = make_user(session)
    # Through the day (the auction's own clock), the same shopper keeps meeting ads:
    for hour in range(24):
        sponsored.run_auction(
            session=session,
            user_id=shopper.id,
            market_code="US",
            now=NOON.replace(hour=hour),
        )
    session.commit()
    per_campaign = dict(
        session.execute(
            select(AdImpression.campaign_id, func.count())
            .where(AdImpression.user_id == shopper.id)
            .group_by(AdImpression.campaign_id)
        ).all()
    )
    assert per_campaign == {c.id: 2 for c in campaigns}

    # And scrolling the feed today: at most one ad per 6 organic videos, each ad ≤ 2 times.
    reader = make_user(session)
    headers = api_login(client, reader.email)
    ad_ids = {c.video_id for c in campaigns}
    items: list[dict[str, object]] = []
    cursor: str | None = None
    for _ in range(6):
        body = client.get(
            "/api/v1/feed", params={"cursor": cursor} if cursor else {}, headers=headers
        ).json()
        items += body["items"]
        cursor = body["next_cursor"]
    ads = [i for i, item in enumerate(items) if item["sponsored"]]
    assert ads, "no sponsored post was served"
    assert all(items[i]["video_id"] in ad_ids for i in ads)
    gaps = [b - a - 1 for a, b in zip([-1, *ads], ads, strict=False)]
    assert min(gaps) >= 6
    served = [items[i]["video_id"] for i in ads]
    assert all(served.count(v) <= 2 for v in ad_ids)
    assert len(served) == 6  # three campaigns, twice each, then no more ads today


@pytest.mark.parametrize("threads", [8])
def test_concurrent_impressions_never_overspend_the_budget(
    session: Session, engine: Engine, threads: int
) -> None:
    writer = make_session_factory(engine)  # writing units of work, as the app's requests
    campaign = _campaign(session, bid=1000, budget=100)  # 100 impressions at 1 cent
    users = [u.id for u in _users(session, threads * 25)]
    served: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def scroll(mine: list[str]) -> None:
        start.wait()
        for user_id in mine:
            try:
                with unit_of_work(writer) as s:
                    ad = sponsored.run_auction(
                        session=s, user_id=user_id, market_code="US", now=LATE
                    )
                if ad:
                    with lock:
                        served.append(ad.impression_id)
            except BaseException as exc:
                errors.append(exc)

    workers = [threading.Thread(target=scroll, args=(users[i::threads],)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors[:3]
    session.rollback()
    day = session.get(AdCampaignDay, (campaign.id, LATE.date()))
    assert day is not None
    assert day.spent_millis == 100_000 and day.impressions == 100 == len(served)
    assert account(session, ledger.PLATFORM_AD_REVENUE) == 100
    _ok(session)


def test_campaign_api_refuses_bad_input_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    seller_user, seller = make_seller(session)
    video = _seller_video(session, seller)
    _, other = make_seller(session, display_name="Other shop")
    foreign = _seller_video(session, other)
    session.commit()
    headers = api_login(client, seller_user.email)
    url = "/api/v1/seller/ad-campaigns"

    def body(budget: int, bid: int, currency: str = USD, video_id: str = video.id) -> dict:
        return {
            "video_id": video_id,
            "daily_budget": {"amount": budget, "currency": currency},
            "max_cpm": {"amount": bid, "currency": currency},
        }

    for bad in (
        body(0, 500),
        body(-100, 500),
        body(5000, 0),
        body(5000, -1),
        body(5000, 500, "EUR"),
    ):
        response = client.post(url, json=bad, headers=headers)
        assert response.status_code == 422, response.text
    assert client.post(url, json=body(5000, 500, "XX1"), headers=headers).status_code == 422
    assert (
        client.post(url, json=body(5000, 500, video_id=foreign.id), headers=headers).status_code
        == 404
    )
    shopper = make_user(session)
    assert (
        client.post(url, json=body(5000, 500), headers=api_login(client, shopper.email)).status_code
        == 403
    )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AdCampaign)) == 0

    created = client.post(url, json=body(5000, 500), headers=headers)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    paused = client.put(f"{url}/{campaign_id}/status", json={"status": "paused"}, headers=headers)
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert (
        client.put(
            f"{url}/{campaign_id}/status", json={"status": "gone"}, headers=headers
        ).status_code
        == 422
    )
    listed = client.get(url, headers=headers).json()
    assert [c["id"] for c in listed] == [campaign_id]
    assert listed[0]["spent_today"]["amount"] == 0


def test_paused_or_paced_out_campaigns_do_not_serve(session: Session) -> None:
    campaign = _campaign(session, bid=800, budget=1)
    shopper = make_user(session)
    now = utcnow().replace(hour=23, minute=59)
    assert sponsored.run_auction(session=session, user_id=shopper.id, market_code="US", now=now)
    campaign.status = CampaignStatus.PAUSED
    session.commit()
    other = make_user(session)
    assert (
        sponsored.run_auction(session=session, user_id=other.id, market_code="US", now=now) is None
    )


def test_seller_page_creates_pauses_and_shows_spend_and_the_feed_labels_ads(
    client: TestClient, session: Session
) -> None:
    seller_user, seller = make_seller(session)
    video = _seller_video(session, seller)
    session.commit()
    csrf = page_login(client, seller_user.email)
    page = client.get("/seller/ads")
    assert page.status_code == 200 and video.id in page.text
    assert "/seller/ads" in client.get("/seller").text
    response = client.post(
        "/seller/ads",
        data={"video_id": video.id, "daily_budget": "-5", "max_cpm": "4.00", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 422
    response = client.post(
        "/seller/ads",
        data={"video_id": video.id, "daily_budget": "abc", "max_cpm": "4.00", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 422
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AdCampaign)) == 0
    response = client.post(
        "/seller/ads",
        data={"video_id": video.id, "daily_budget": "20.00", "max_cpm": "4.00", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/seller/ads").text
    assert "$20.00" in page and "Active" in page
    session.rollback()
    campaign = session.scalars(select(AdCampaign)).one()

    shopper = make_user(session)
    creators = [make_user(session, role=Role.CREATOR, commit=False) for _ in range(3)]
    for i in range(12):
        add_video(session, author_user_id=creators[i % 3].id, product_id=None)
    session.commit()
    client.cookies.clear()
    page_login(client, shopper.email)
    feed = client.get("/feed").text
    assert "Sponsored" in feed and video.id in feed

    client.cookies.clear()
    csrf = page_login(client, seller_user.email)
    response = client.post(
        f"/seller/ads/{campaign.id}/status",
        data={"status": "paused", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "Paused" in client.get("/seller/ads").text and "Impressions today" in page
