"""Buyer-protection claims: windows per type, the seller's answer, escalation when the
response window passes, staff decisions refunding through the ledger before and after
settlement, the double-uphold race, counterfeit take-downs, and the score contract."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.catalog.models import Product
from reelshop.checkout.models import Order
from reelshop.config import Settings
from reelshop.db import make_session_factory, unit_of_work, utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound, ProblemError
from reelshop.logistics.models import ShipByDeadline
from reelshop.outbox.models import OutboxEvent
from reelshop.payments import ledger
from reelshop.payments.jobs import settle_delivered
from reelshop.payments.models import Refund
from reelshop.security.models import AuditEntry
from reelshop.trust import claims
from reelshop.trust.claim_models import Claim, ClaimStatus
from reelshop.trust.models import Strike
from reelshop.trust.protection_jobs import escalate_overdue_claims
from tests.factories import make_staff, make_user
from tests.payments.helpers import account, processor
from tests.trust.protection_helpers import deliver, ledger_ok, paid_order

DESCRIPTION = "The box arrived crushed and the screen is cracked."


def _open(
    factory: sessionmaker[Session],
    shopper_id: str,
    order_id: str,
    claim_type: str,
    now: datetime | None = None,
) -> Claim:
    with unit_of_work(factory) as s:
        claim = claims.open_claim(
            session=s,
            shopper_id=shopper_id,
            order_id=order_id,
            claim_type=claim_type,
            description=DESCRIPTION,
            now=now,
        )
        s.expunge(claim)
        return claim


def _decide(
    factory: sessionmaker[Session],
    settings: Settings,
    claim_id: str,
    actor_id: str,
    outcome: str = "uphold_full",
    amount: int | None = None,
) -> Claim:
    with unit_of_work(factory) as s:
        claim = claims.decide_claim(
            session=s,
            provider=processor(settings),
            claim_id=claim_id,
            actor_id=actor_id,
            outcome=outcome,
            note="photos show the damage",
            amount=amount,
        )
        s.expunge(claim)
        return claim


def test_claim_windows_per_type(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    shopper = make_user(session)
    placed, _, _ = paid_order(session, session_factory, settings, shopper=shopper)
    order_id = placed.order_ids[0]
    # Not delivered yet: the delivery-anchored types cannot open.
    with pytest.raises(Conflict, match="once the order is delivered"):
        _open(session_factory, shopper.id, order_id, "damaged")
    # Not received opens only after the promised date plus grace, and closes 30 days later.
    order = session.get(Order, order_id)
    assert order is not None
    promised = claims.promised_delivery(session=session, order=order)
    assert promised is not None and promised > utcnow()
    with pytest.raises(Conflict, match="can be opened from"):
        _open(session_factory, shopper.id, order_id, "not_received")
    with pytest.raises(Conflict, match="closed on"):
        _open(session_factory, shopper.id, order_id, "not_received", promised + timedelta(days=31))
    opened = _open(
        session_factory, shopper.id, order_id, "not_received", promised + timedelta(days=3)
    )
    assert opened.status == ClaimStatus.AWAITING_SELLER
    with pytest.raises(Conflict, match="already have"):
        _open(session_factory, shopper.id, order_id, "not_received", promised + timedelta(days=3))
    # Delivered: damaged / counterfeit / not as described for 15 days.
    delivered_at = utcnow() - timedelta(days=2)
    deliver(session_factory, order_id, delivered_at)
    with pytest.raises(Conflict, match="closed on"):
        _open(session_factory, shopper.id, order_id, "damaged", delivered_at + timedelta(days=16))
    assert _open(session_factory, shopper.id, order_id, "damaged").claim_type == "damaged"
    session.rollback()
    assert (
        session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == "claim.opened")
        )
        == 2
    )


def test_not_received_is_anchored_on_the_ship_by_deadline_when_there_is_one(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    shopper = make_user(session)
    placed, seller_id, _ = paid_order(session, session_factory, settings, shopper=shopper)
    order = session.get(Order, placed.order_ids[0])
    assert order is not None and order.paid_at is not None
    ship_by = order.paid_at + timedelta(days=9)
    session.merge(
        ShipByDeadline(
            order_id=order.id,
            seller_id=seller_id,
            paid_at=order.paid_at,
            ship_by=ship_by,
            handling_days=9,
            seller_timezone="UTC",
        )
    )
    session.commit()
    promised = claims.promised_delivery(session=session, order=order)
    assert promised is not None and promised - ship_by >= timedelta(days=1)


def test_bad_claim_input(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    shopper = make_user(session)
    placed, _, _ = paid_order(session, session_factory, settings, shopper=shopper)
    deliver(session_factory, placed.order_ids[0], utcnow())
    with unit_of_work(session_factory) as s, pytest.raises(InvalidInput):
        claims.open_claim(
            session=s,
            shopper_id=shopper.id,
            order_id=placed.order_ids[0],
            claim_type="changed_my_mind",
            description=DESCRIPTION,
        )
    with unit_of_work(session_factory) as s, pytest.raises(InvalidInput):
        claims.open_claim(
            session=s,
            shopper_id=shopper.id,
            order_id=placed.order_ids[0],
            claim_type="damaged",
            description="bad",
        )
    stranger = make_user(session)
    for who, order_id in ((stranger.id, placed.order_ids[0]), (shopper.id, "ord_missing")):
        with unit_of_work(session_factory) as s, pytest.raises(NotFound):
            claims.open_claim(
                session=s,
                shopper_id=who,
                order_id=order_id,
                claim_type="damaged",
                description=DESCRIPTION,
            )


def test_seller_answers_once_and_silence_escalates(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    shopper = make_user(session)
    first, seller_id, _ = paid_order(session, session_factory, settings, shopper=shopper)
    second, other_seller, _ = paid_order(session, session_factory, settings, shopper=shopper)
    for placed in (first, second):
        deliver(session_factory, placed.order_ids[0], utcnow())
    answered = _open(session_factory, shopper.id, first.order_ids[0], "damaged")
    silent = _open(session_factory, shopper.id, second.order_ids[0], "not_as_described")
    with unit_of_work(session_factory) as s, pytest.raises(NotFound):
        claims.seller_respond(
            session=s, seller_id=other_seller, claim_id=answered.id, response="not ours"
        )
    with unit_of_work(session_factory) as s:
        claims.seller_respond(
            session=s, seller_id=seller_id, claim_id=answered.id, response="Sorry, we will refund"
        )
    with unit_of_work(session_factory) as s, pytest.raises(Conflict):
        claims.seller_respond(
            session=s, seller_id=seller_id, claim_id=answered.id, response="again"
        )
    # Inside the window nothing escalates; past it, only the unanswered claim does, once.
    assert escalate_overdue_claims(session_factory, now=utcnow() + timedelta(days=2)) == 0
    late = utcnow() + claims.POLICY.seller_response_window + timedelta(minutes=1)
    assert escalate_overdue_claims(session_factory, now=late) == 1
    assert escalate_overdue_claims(session_factory, now=late) == 0
    session.rollback()
    session.expire_all()
    assert session.get(Claim, answered.id).status == ClaimStatus.AWAITING_STAFF  # type: ignore[union-attr]
    assert session.get(Claim, silent.id).status == ClaimStatus.ESCALATED  # type: ignore[union-attr]
    queue = claims.staff_queue(session=session)
    assert [c.id for c in queue] == [silent.id, answered.id]


def test_uphold_before_settlement_refunds_from_escrow(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    shopper = make_user(session)
    staff = make_staff(session)
    placed, seller_id, _ = paid_order(session, session_factory, settings, shopper=shopper)
    deliver(session_factory, placed.order_ids[0], utcnow())
    escrow_before = account(session, ledger.PLATFORM_ESCROW)
    claim = _open(session_factory, shopper.id, placed.order_ids[0], "damaged")
    decided = _decide(session_factory, settings, claim.id, staff.id, "uphold_partial", amount=1500)
    assert decided.status == ClaimStatus.UPHELD and decided.refund_amount == 1500
    assert account(session, ledger.PLATFORM_ESCROW) == escrow_before - 1500
    session.rollback()
    refund = session.get(Refund, decided.refund_id)
    assert refund is not None and not refund.after_settlement
    ledger_ok(session)
    audit = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "claim.decide", AuditEntry.target_id == claim.id
        )
    ).one()
    assert audit.actor_id == staff.id and audit.detail["refund_amount"] == 1500
    stats = claims.seller_claim_stats(
        session=session, seller_id=seller_id, since=utcnow() - timedelta(days=1)
    )
    assert (stats.opened, stats.upheld, stats.upheld_order_ids) == (1, 1, placed.order_ids)
    with pytest.raises(Conflict):
        _decide(session_factory, settings, claim.id, staff.id, "reject")


def test_uphold_after_settlement_is_a_seller_debit(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    shopper = make_user(session)
    staff = make_staff(session)
    placed, seller_id, _ = paid_order(
        session, session_factory, settings, shopper=shopper, price_cents=4000
    )
    delivered_at = utcnow() - timedelta(days=10)
    deliver(session_factory, placed.order_ids[0], delivered_at)
    assert settle_delivered(session_factory, now=utcnow()) == 1
    payable = account(session, ledger.seller_payable(seller_id))
    assert payable > 0
    claim = _open(session_factory, shopper.id, placed.order_ids[0], "not_as_described")
    decided = _decide(session_factory, settings, claim.id, staff.id)
    assert decided.refund_amount == 4000
    session.rollback()
    refund = session.get(Refund, decided.refund_id)
    assert refund is not None and refund.after_settlement
    # The seller's payable is used up first; the rest becomes a receivable.
    assert account(session, ledger.seller_payable(seller_id)) == 0
    assert account(session, ledger.seller_receivable(seller_id)) == 4000 - payable
    ledger_ok(session)
    session.expire_all()
    assert session.get(Order, placed.order_ids[0]).status == "refunded"  # type: ignore[union-attr]


def test_reject_refunds_nothing_and_partial_amounts_are_checked(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    shopper = make_user(session)
    staff = make_staff(session)
    placed, seller_id, _ = paid_order(session, session_factory, settings, shopper=shopper)
    deliver(session_factory, placed.order_ids[0], utcnow())
    claim = _open(session_factory, shopper.id, placed.order_ids[0], "damaged")
    for outcome, amount in (("uphold_partial", None), ("uphold_partial", 10**9), ("maybe", None)):
        with pytest.raises(InvalidInput):
            _decide(session_factory, settings, claim.id, staff.id, outcome, amount)
    with pytest.raises(NotFound):
        _decide(session_factory, settings, "clm_unknown", staff.id)
    decided = _decide(session_factory, settings, claim.id, staff.id, "reject")
    assert decided.status == ClaimStatus.REJECTED and decided.refund_amount == 0
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Refund)) == 0
    stats = claims.seller_claim_stats(
        session=session, seller_id=seller_id, since=utcnow() - timedelta(days=1)
    )
    assert (stats.opened, stats.upheld) == (1, 0)


def test_two_staff_upholding_at_once_refund_once(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, engine: Engine
) -> None:
    writers = make_session_factory(engine)  # as the app's requests: SQLite BEGIN IMMEDIATE
    shopper = make_user(session)
    placed, _, _ = paid_order(session, session_factory, settings, shopper=shopper)
    deliver(session_factory, placed.order_ids[0], utcnow())
    claim = _open(session_factory, shopper.id, placed.order_ids[0], "damaged")
    deciders = [make_staff(session), make_staff(session)]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def uphold(actor_id: str) -> None:
        barrier.wait()
        try:
            _decide(writers, settings, claim.id, actor_id)
            results.append("upheld")
        except ProblemError as exc:
            results.append(f"{exc.status}")

    threads = [threading.Thread(target=uphold, args=(s.id,)) for s in deciders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["409", "upheld"]
    session.rollback()
    assert (
        session.scalar(
            select(func.count()).select_from(Refund).where(Refund.order_id == placed.order_ids[0])
        )
        == 1
    )
    ledger_ok(session)


def test_upheld_counterfeit_claim_takes_the_listing_down_and_strikes(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    shopper = make_user(session)
    staff = make_staff(session)
    placed, seller_id, product = paid_order(session, session_factory, settings, shopper=shopper)
    deliver(session_factory, placed.order_ids[0], utcnow())
    claim = _open(session_factory, shopper.id, placed.order_ids[0], "counterfeit")
    _decide(session_factory, settings, claim.id, staff.id)
    session.rollback()
    session.expire_all()
    strikes = session.scalars(select(Strike).where(Strike.seller_id == seller_id)).all()
    assert [s.ref for s in strikes] == [f"claim:{claim.id}"]
    listing = session.get(Product, product.id)
    assert listing is not None and listing.moderation_status == "taken_down"
