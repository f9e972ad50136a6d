"""Ledger entries per flow: capture, settlement after delivery + hold, refunds before and
after settlement, payouts with statements; guarded payouts under concurrent runs; the
append-only rule; and ``ledger verify`` catching what is wrong."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout import service as checkout
from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.money import Money
from reelshop.payments import ledger
from reelshop.payments import service as payments
from reelshop.payments.jobs import run_payouts, settle_delivered
from reelshop.payments.models import (
    CommissionRate,
    JournalEntry,
    MarketFinancePolicy,
    Payout,
)
from reelshop.payments.verify import verify
from tests.factories import make_user
from tests.payments.helpers import (
    LineSpec,
    OrderSpec,
    Placed,
    account,
    make_shop,
    pay_and_confirm,
    place_checkout,
    processor,
    shopper,
)

USD = "USD"


def _creator_order(session: Session) -> tuple[Placed, str, str]:
    """One order: 100.00 of goods sold through a creator's video, 5.00 shipping,
    a 10.00 platform voucher. Category commission 10 %, creator commission 10 %."""
    seller, product = make_shop(session, price_cents=10_000)
    session.add(CommissionRate(market_code="US", category_id=product.category_id, rate_bp=1000))
    creator = make_user(session)
    placed = place_checkout(
        session,
        shopper=shopper(session),
        orders=[
            OrderSpec(
                [LineSpec(product, 1, creator_id=creator.id)], shipping=500, platform_discount=1000
            )
        ],
    )
    return placed, seller.id, creator.id


def _deliver(factory: sessionmaker[Session], order_id: str, at: object) -> None:
    with unit_of_work(factory) as s:
        checkout.mark_delivered(session=s, order_id=order_id, delivered_at=at)  # type: ignore[arg-type]


def _ok(session: Session) -> None:
    session.rollback()
    report = verify(session=session)
    assert report.ok, report.violations


def test_capture_puts_buyer_funds_and_voucher_subsidy_into_escrow(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    placed, _, _ = _creator_order(session)
    assert placed.total == 9500
    pay_and_confirm(session_factory, settings, placed)
    session.rollback()
    entry = session.scalars(select(JournalEntry).where(JournalEntry.kind == "capture")).one()
    assert entry.ref == f"capture:{placed.order_ids[0]}"
    assert sorted((line.account, line.amount) for line in entry.lines) == [
        ("platform_escrow", -10_500),
        ("platform_voucher_subsidy", 1000),
        ("processor_clearing", 9500),
    ]
    _ok(session)


def test_settlement_waits_for_delivery_and_the_hold_then_splits_commissions(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    placed, seller_id, creator_id = _creator_order(session)
    pay_and_confirm(session_factory, settings, placed)
    now = utcnow()
    assert settle_delivered(session_factory, now=now + timedelta(days=30)) == 0  # not delivered
    _deliver(session_factory, placed.order_ids[0], now)
    assert settle_delivered(session_factory, now=now) == 0
    assert settle_delivered(session_factory, now=now + timedelta(days=6, hours=23)) == 0
    assert account(session, ledger.PLATFORM_ESCROW) == 10_500
    assert settle_delivered(session_factory, now=now + timedelta(days=7, seconds=1)) == 1
    # Goods 100.00 and shipping 5.00 in escrow: 10 % commission and 10 % creator
    # commission on the goods only; the seller gets 85.00.
    assert account(session, ledger.PLATFORM_ESCROW) == 0
    assert account(session, ledger.PLATFORM_COMMISSION_REVENUE) == 1000
    assert account(session, ledger.creator_payable(creator_id)) == 1000
    assert account(session, ledger.seller_payable(seller_id)) == 8500
    assert settle_delivered(session_factory, now=now + timedelta(days=40)) == 0  # once
    _ok(session)


def test_hold_period_is_configurable_per_market(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    session.add(
        MarketFinancePolicy(
            market_code="US",
            settlement_hold_days=3,
            default_commission_bp=500,
            default_creator_commission_bp=0,
        )
    )
    seller, product = make_shop(session, price_cents=2000)
    placed = place_checkout(
        session, shopper=shopper(session), orders=[OrderSpec([LineSpec(product)])]
    )
    pay_and_confirm(session_factory, settings, placed)
    now = utcnow()
    _deliver(session_factory, placed.order_ids[0], now)
    assert settle_delivered(session_factory, now=now + timedelta(days=2)) == 0
    assert settle_delivered(session_factory, now=now + timedelta(days=3, seconds=1)) == 1
    assert account(session, ledger.seller_payable(seller.id)) == 1900  # 5 % market default
    _ok(session)


def test_refund_before_settlement_comes_out_of_escrow_with_its_share_of_subsidy(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    placed, seller_id, _ = _creator_order(session)
    pay_and_confirm(session_factory, settings, placed)
    now = utcnow()
    # Delivered, then refunded in part within the hold (the order's state machine does not
    # let a partially refunded order go on to delivery).
    _deliver(session_factory, placed.order_ids[0], now)
    with unit_of_work(session_factory) as s:
        refund = payments.refund_order(
            session=s,
            provider=processor(settings),
            order_id=placed.order_ids[0],
            amount=Money(4750, USD),
            reason="one earbud missing",
        )
        assert not refund.after_settlement
    # Half the order refunded: half the 10.00 subsidy goes back too.
    assert account(session, ledger.PLATFORM_ESCROW) == 10_500 - 4750 - 500
    assert account(session, ledger.PROCESSOR_CLEARING) == 9500 - 4750
    assert account(session, ledger.PLATFORM_VOUCHER_SUBSIDY) == 500
    session.rollback()
    order = checkout.get_checkout(
        session=session, checkout_id=placed.checkout_id, shopper_id=None
    ).orders[0]
    assert order.refunded_amount == 4750 and order.status == "delivered"
    _ok(session)
    assert settle_delivered(session_factory, now=now + timedelta(days=8)) == 1
    # What is left (52.50) settles: commissions on its goods share only.
    assert account(session, ledger.PLATFORM_ESCROW) == 0
    assert account(session, ledger.seller_payable(seller_id)) == 5250 - 500 - 500
    _ok(session)


def test_refund_after_settlement_is_taken_from_the_seller_then_a_receivable(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    placed, seller_id, _ = _creator_order(session)
    pay_and_confirm(session_factory, settings, placed)
    now = utcnow()
    _deliver(session_factory, placed.order_ids[0], now - timedelta(days=10))
    assert settle_delivered(session_factory, now=now) == 1
    assert account(session, ledger.seller_payable(seller_id)) == 8500
    with unit_of_work(session_factory) as s:
        refund = payments.refund_order(
            session=s,
            provider=processor(settings),
            order_id=placed.order_ids[0],
            amount=Money(9500, USD),
            reason="counterfeit claim upheld",
        )
        assert refund.after_settlement
    # 95.00 back to the shopper and 10.00 subsidy back to the platform: the seller's 85.00
    # payable is used up and 20.00 more is owed by the seller.
    assert account(session, ledger.seller_payable(seller_id)) == 0
    assert account(session, ledger.seller_receivable(seller_id)) == 2000
    assert account(session, ledger.PLATFORM_VOUCHER_SUBSIDY) == 0
    _ok(session)
    with unit_of_work(session_factory) as s, pytest.raises(payments.Conflict):
        payments.refund_order(
            session=s,
            provider=processor(settings),
            order_id=placed.order_ids[0],
            amount=Money(1, USD),
            reason="more than paid",
        )


def test_refund_input_is_checked(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    placed, _, _ = _creator_order(session)
    with unit_of_work(session_factory) as s, pytest.raises(payments.Conflict):
        payments.refund_order(
            session=s,
            provider=processor(settings),
            order_id=placed.order_ids[0],
            amount=Money(100, USD),
            reason="not paid yet",
        )
    pay_and_confirm(session_factory, settings, placed)
    for amount, error in (
        (Money(100, "EUR"), payments.CurrencyMismatch),
        (Money(0, USD), payments.InvalidInput),
        (Money(9501, USD), payments.Conflict),
    ):
        with unit_of_work(session_factory) as s, pytest.raises(error):
            payments.refund_order(
                session=s,
                provider=processor(settings),
                order_id=placed.order_ids[0],
                amount=amount,
                reason="bad",
            )
    _ok(session)


def _settled_seller(
    session: Session, factory: sessionmaker[Session], settings: Settings, *, orders: int = 3
) -> str:
    seller, product = make_shop(session, price_cents=5000, stock=100)
    now = utcnow()
    for _ in range(orders):
        placed = place_checkout(
            session, shopper=shopper(session), orders=[OrderSpec([LineSpec(product)])]
        )
        pay_and_confirm(factory, settings, placed)
        _deliver(factory, placed.order_ids[0], now - timedelta(days=8))
    assert settle_delivered(factory, now=now) == orders
    return seller.id


def test_payout_pays_what_is_payable_with_a_statement(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    seller_id = _settled_seller(session, session_factory, settings)
    assert account(session, ledger.seller_payable(seller_id)) == 3 * 4600  # 8 % default
    assert run_payouts(session_factory) == 1
    assert run_payouts(session_factory) == 0
    session.rollback()
    payout = session.scalars(select(Payout)).one()
    assert payout.amount == 13_800 and payout.status == "paid"
    assert account(session, ledger.seller_payable(seller_id)) == 0
    assert account(session, ledger.PAYOUTS_IN_TRANSIT) == 0
    from reelshop.payments import statements

    rows = list(
        csv.DictReader(
            io.StringIO(
                statements.to_csv(statements.payout_statement(session=session, payout=payout))
            )
        )
    )
    assert [r["type"] for r in rows] == ["settlement"] * 3 + ["payout"]
    assert rows[-1]["amount"] == "-138.00" and rows[-1]["balance"] == "0.00"
    assert rows[0]["amount"] == "46.00"
    _ok(session)


def test_receivables_are_netted_from_the_next_payout(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    seller, product = make_shop(session, price_cents=5000, stock=100)
    now = utcnow()
    placed = []
    for _ in range(2):
        p = place_checkout(
            session, shopper=shopper(session), orders=[OrderSpec([LineSpec(product)])]
        )
        pay_and_confirm(session_factory, settings, p)
        _deliver(session_factory, p.order_ids[0], now - timedelta(days=8))
        placed.append(p)
    settle_delivered(session_factory, now=now)
    run_payouts(session_factory)  # 92.00 paid out
    with unit_of_work(session_factory) as s:
        payments.refund_order(
            session=s,
            provider=processor(settings),
            order_id=placed[0].order_ids[0],
            amount=Money(5000, USD),
            reason="returned",
        )
    assert account(session, ledger.seller_receivable(seller.id)) == 5000
    p = place_checkout(
        session, shopper=shopper(session), orders=[OrderSpec([LineSpec(product, 2)])]
    )
    pay_and_confirm(session_factory, settings, p)
    _deliver(session_factory, p.order_ids[0], now - timedelta(days=8))
    settle_delivered(session_factory, now=now)
    assert account(session, ledger.seller_payable(seller.id)) == 9200
    assert run_payouts(session_factory) == 1
    session.rollback()
    latest = session.scalars(select(Payout).order_by(Payout.created_at.desc())).first()
    assert latest is not None and latest.amount == 9200 - 5000
    assert account(session, ledger.seller_receivable(seller.id)) == 0
    _ok(session)


def test_concurrent_payout_runs_never_pay_more_than_payable(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, engine: Engine
) -> None:
    seller_ids = [_settled_seller(session, session_factory, settings, orders=2) for _ in range(3)]
    payable = {s: account(session, ledger.seller_payable(s)) for s in seller_ids}
    writer = __import__("reelshop.db", fromlist=["make_session_factory"]).make_session_factory(
        engine
    )
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            run_payouts(writer)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    session.rollback()
    for seller_id in seller_ids:
        paid = session.scalar(select(func.sum(Payout.amount)).where(Payout.seller_id == seller_id))
        assert paid == payable[seller_id]
        assert (
            session.scalar(
                select(func.count()).select_from(Payout).where(Payout.seller_id == seller_id)
            )
            == 1
        )
        assert account(session, ledger.seller_payable(seller_id)) == 0
    _ok(session)


def test_journal_lines_and_entries_are_append_only(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, engine: Engine
) -> None:
    placed, _, _ = _creator_order(session)
    pay_and_confirm(session_factory, settings, placed)
    for statement in (
        "UPDATE journal_lines SET amount = amount + 1",
        "DELETE FROM journal_lines",
        "UPDATE journal_entries SET memo = 'edited'",
        "DELETE FROM journal_entries",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    _ok(session)


def test_an_entry_that_does_not_balance_is_refused(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    with unit_of_work(session_factory) as s, pytest.raises(ledger.UnbalancedEntry):
        ledger.post(
            session=s,
            kind="correction",
            ref="correction:bad",
            postings=[
                ledger.Posting.debit(ledger.PROCESSOR_CLEARING, Money(100, USD)),
                ledger.Posting.credit(ledger.PLATFORM_ESCROW, Money(99, USD)),
            ],
        )
    with unit_of_work(session_factory) as s, pytest.raises(ledger.UnbalancedEntry):
        ledger.post(
            session=s,
            kind="correction",
            ref="correction:mixed",
            postings=[
                ledger.Posting.debit(ledger.PROCESSOR_CLEARING, Money(100, USD)),
                ledger.Posting.credit(ledger.PLATFORM_ESCROW, Money(100, "EUR")),
            ],
        )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == 0


def _ledger_verify_cli(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "REELSHOP_DATABASE_URL": settings.database_url,
        "REELSHOP_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(
        [str(Path(sys.executable).with_name("reelshop")), "ledger", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_ledger_verify_catches_a_hand_made_unbalanced_entry(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, engine: Engine
) -> None:
    placed, _, _ = _creator_order(session)
    pay_and_confirm(session_factory, settings, placed)
    ok = _ledger_verify_cli(settings)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ledger verifies" in ok.stdout
    with engine.begin() as conn:  # past the service: straight into the tables
        conn.execute(
            text(
                "INSERT INTO journal_entries (id, kind, ref, memo, created_at) "
                "VALUES ('jnl_handmade', 'correction', 'correction:handmade', '', "
                "CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO journal_lines (entry_id, account, currency, amount) "
                "VALUES ('jnl_handmade', 'platform_commission_revenue', 'USD', -700)"
            )
        )
    session.rollback()
    report = verify(session=session)
    assert any("jnl_handmade does not balance in USD: off by -700" in v for v in report.violations)
    assert any("platform_commission_revenue" in v for v in report.violations)  # cache differs
    bad = _ledger_verify_cli(settings)
    assert bad.returncode == 1
    assert "jnl_handmade" in bad.stdout and "does not verify" in bad.stdout


def test_ledger_verify_catches_escrow_that_does_not_match_the_orders(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    placed, _, _ = _creator_order(session)
    pay_and_confirm(session_factory, settings, placed)
    with unit_of_work(session_factory) as s:  # balanced, but takes money out of escrow
        ledger.post(
            session=s,
            kind="correction",
            ref="correction:leak",
            postings=[
                ledger.Posting.debit(ledger.PLATFORM_ESCROW, Money(250, USD)),
                ledger.Posting.credit(ledger.PROCESSOR_CLEARING, Money(250, USD)),
            ],
        )
    session.rollback()
    report = verify(session=session)
    assert report.violations == [
        "escrow holds 10250 USD but paid, unsettled orders account for 10500"
    ]


def test_finance_and_refund_api_need_the_finance_permission(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    from reelshop.accounts.models import StaffPermission
    from tests.factories import api_login, make_staff

    placed, _, _ = _creator_order(session)
    pay_and_confirm(session_factory, settings, placed)
    support = make_staff(session, StaffPermission.SUPPORT)
    finance = make_staff(session, StaffPermission.FINANCE)
    url = f"/api/v1/orders/{placed.order_ids[0]}/refunds"
    body = {"amount": 500, "currency": "USD", "reason": "late delivery goodwill"}
    denied = client.post(
        url, json=body, headers={**api_login(client, support.email), "Idempotency-Key": "r1"}
    )
    assert denied.status_code == 403
    headers = {**api_login(client, finance.email), "Idempotency-Key": "r1"}
    first = client.post(url, json=body, headers=headers)
    again = client.post(url, json=body, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json()
    summary = client.get("/api/v1/finance/summary", headers=headers).json()
    assert summary["escrow"] == [{"amount": 10_500 - 500 - 52, "currency": "USD"}]
    assert (
        client.get("/api/v1/finance/summary", headers=api_login(client, support.email)).status_code
        == 403
    )
    _ok(session)
