"""Purchases and refunds come from the server's own records, and the dashboard's GMV
equals the ledger's captures for the same period."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from reelshop.analytics import jobs as analytics_jobs
from reelshop.analytics import service
from reelshop.checkout.models import Order
from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.money import Money
from reelshop.outbox.models import OutboxEvent
from reelshop.payments import service as payments
from reelshop.trust.claim_models import Claim
from tests.analytics.helpers import drain
from tests.factories import make_product, make_seller, make_user
from tests.payments.helpers import (
    LineSpec,
    OrderSpec,
    pay_and_confirm,
    place_checkout,
    processor,
)


def _shop(session: Session, country: str, category: str, price: int) -> tuple[str, object]:
    _, seller = make_seller(session, ships_from=country, commit=False)
    product = make_product(
        session, seller=seller, price_cents=price, stock=50, category_slug=category, commit=False
    )
    session.commit()
    return seller.id, product


def test_dashboard_gmv_equals_ledger_captures(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    analytics_root: Path,
    tmp_path: Path,
) -> None:
    cn_seller, earbuds = _shop(session, "CN", "electronics", 2500)
    us_seller, mug = _shop(session, "US", "home", 1200)
    shopper = make_user(session)
    creator = make_user(session)
    first = place_checkout(
        session,
        shopper=shopper,
        orders=[
            OrderSpec([LineSpec(earbuds, 2, creator_id=creator.id)], shipping=499),  # type: ignore[arg-type]
            OrderSpec([LineSpec(mug, 1)], shipping=0, platform_discount=200),  # type: ignore[arg-type]
        ],
    )
    second = place_checkout(
        session,
        shopper=shopper,
        orders=[OrderSpec([LineSpec(earbuds, 1)], shipping=499)],  # type: ignore[arg-type]
    )
    unpaid = place_checkout(session, shopper=shopper, orders=[OrderSpec([LineSpec(mug, 3)])])  # type: ignore[arg-type]
    pay_and_confirm(session_factory, settings, first)
    pay_and_confirm(session_factory, settings, second)
    refunded_order = first.order_ids[0]
    with unit_of_work(session_factory) as s:
        payments.refund_order(
            session=s,
            provider=processor(settings),
            order_id=refunded_order,
            amount=Money(1000, "USD"),
            reason="one earbud arrived broken",
        )
    with unit_of_work(session_factory) as s:  # the refund came from an upheld claim
        s.add(
            Claim(
                order_id=refunded_order,
                shopper_id=shopper.id,
                seller_id=cn_seller,
                claim_type="damaged",
                status="upheld",
                description="cracked case",
                respond_by=utcnow(),
                currency="USD",
                refund_amount=1000,
                decided_at=utcnow(),
            )
        )
    drain(settings, tmp_path)

    session.rollback()
    dashboard = service.staff_dashboard(session=session, root=analytics_root)
    assert dashboard.claims == service.ClaimsSummary(opened=1, upheld=1, refunded=1000)
    paid = [session.get(Order, oid) for oid in first.order_ids + second.order_ids]
    expected_gmv = sum(o.total_amount + o.platform_discount_amount for o in paid if o)
    assert dashboard.ledger_sales == expected_gmv
    assert dashboard.totals.gmv == dashboard.ledger_sales
    assert dashboard.totals.orders == 3
    assert dashboard.totals.units == 4
    assert dashboard.totals.refunds == 1000
    assert dashboard.totals.net_gmv == expected_gmv - 1000
    assert unpaid.order_ids[0] not in {o.id for o in paid if o}
    # Commission at the default 8 % on each line's share of escrow, shipping excluded.
    assert dashboard.totals.commission == sum(
        payments.settlement_split(
            session=session,
            order=o,
            lines=o.lines,
            market_code="US",
            escrowed=Money(o.total_amount + o.platform_discount_amount, "USD"),
        ).commission.amount
        for o in paid
        if o
    )
    by_country = {r["key"]: r["gmv"] for r in dashboard.by_seller_country.rows}
    assert set(by_country) == {"CN", "US"}
    assert sum(by_country.values()) == expected_gmv
    by_category = {r["key"]: r["gmv"] for r in dashboard.by_category.rows}
    assert sum(by_category.values()) == expected_gmv

    seller = session.get(
        __import__("reelshop.sellers.models").sellers.models.SellerProfile, cn_seller
    )
    assert seller is not None and us_seller
    mine = service.seller_dashboard(session=session, root=analytics_root, seller=seller)
    cn_orders = [o for o in paid if o and o.seller_id == cn_seller]
    assert mine.totals.gmv == sum(o.total_amount + o.platform_discount_amount for o in cn_orders)
    assert mine.totals.refunds == 1000
    creators = mine.tables["by_creator"].rows
    assert len(creators) == 1 and creators[0]["units"] == 2


def test_handlers_are_idempotent(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    analytics_root: Path,
    tmp_path: Path,
) -> None:
    _, product = _shop(session, "CN", "electronics", 3000)
    shopper = make_user(session)
    placed = place_checkout(session, shopper=shopper, orders=[OrderSpec([LineSpec(product, 1)])])  # type: ignore[arg-type]
    pay_and_confirm(session_factory, settings, placed)
    drain(settings, tmp_path)
    # The worker delivered order.paid once; a redelivery (at-least-once) runs the handler
    # again and writes the same event ids.
    session.rollback()
    paid_event = session.query(OutboxEvent).filter(OutboxEvent.topic == "order.paid").one()
    for _ in range(2):
        with unit_of_work(session_factory) as s:
            analytics_jobs.order_paid(s, s.get(OutboxEvent, paid_event.id))  # type: ignore[arg-type]
    from reelshop.analytics import events

    events.flush()
    dashboard = service.staff_dashboard(session=session, root=analytics_root)
    assert dashboard.totals.gmv == 3000 == dashboard.ledger_sales
    assert dashboard.totals.orders == 1


def test_a_rolled_back_handler_writes_nothing(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    analytics_root: Path,
) -> None:
    _, product = _shop(session, "CN", "electronics", 3000)
    shopper = make_user(session)
    placed = place_checkout(session, shopper=shopper, orders=[OrderSpec([LineSpec(product, 1)])])  # type: ignore[arg-type]
    pay_and_confirm(session_factory, settings, placed)
    session.rollback()
    paid_event = session.query(OutboxEvent).filter(OutboxEvent.topic == "order.paid").one()
    s = session_factory()
    try:
        analytics_jobs.order_paid(s, s.get(OutboxEvent, paid_event.id))  # type: ignore[arg-type]
        s.rollback()
    finally:
        s.close()
    from reelshop.analytics import events

    events.flush()
    assert service.staff_dashboard(session=session, root=analytics_root).totals.gmv == 0
