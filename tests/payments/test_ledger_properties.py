"""Property-based: any sequence of captures, refunds, deliveries, settlements and payouts
keeps every ledger invariant, and the money adds up to what moved through the processor."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout import service as checkout
from reelshop.checkout.models import Order
from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.errors import ProblemError
from reelshop.money import Money
from reelshop.payments import ledger
from reelshop.payments import service as payments
from reelshop.payments.jobs import run_payouts, settle_delivered
from reelshop.payments.models import LedgerAccount, Payout, Refund
from reelshop.payments.verify import verify
from tests.factories import make_user
from tests.payments.helpers import (
    LineSpec,
    OrderSpec,
    make_shop,
    pay_and_confirm,
    place_checkout,
    processor,
    shopper,
)

buy = st.tuples(
    st.just("buy"),
    st.integers(1, 3),  # quantity
    st.integers(0, 2000),  # shipping
    st.integers(0, 90),  # platform voucher, % of goods
    st.integers(0, 50),  # seller voucher, % of goods
    st.booleans(),  # sold through a creator's video
)
refund = st.tuples(st.just("refund"), st.integers(0, 50), st.integers(1, 100))
deliver = st.tuples(st.just("deliver"), st.integers(0, 50), st.integers(0, 20))
settle = st.tuples(st.just("settle"), st.integers(0, 20))
payout = st.tuples(st.just("payout"))
operations = st.lists(st.one_of(buy, refund, deliver, settle, payout), min_size=1, max_size=12)


@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, price=st.integers(1, 50_000))
def test_any_sequence_of_money_movements_keeps_the_ledger_sound(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    ops: list[tuple[object, ...]],
    price: int,
) -> None:
    sellers = [make_shop(session, price_cents=price, stock=1000) for _ in range(2)]
    creator = make_user(session)
    order_ids: list[str] = []
    now = utcnow()
    provider = processor(settings)
    for i, op in enumerate(ops):
        kind = op[0]
        try:
            if kind == "buy":
                _, quantity, shipping, platform_pct, seller_pct, via_creator = op
                _, product = sellers[i % 2]
                goods = price * int(quantity)  # type: ignore[call-overload]
                placed = place_checkout(
                    session,
                    shopper=shopper(session),
                    orders=[
                        OrderSpec(
                            [
                                LineSpec(
                                    product,
                                    int(quantity),  # type: ignore[call-overload]
                                    creator_id=creator.id if via_creator else None,
                                )
                            ],
                            shipping=int(shipping),  # type: ignore[call-overload]
                            platform_discount=goods * int(platform_pct) // 100,  # type: ignore[call-overload]
                            seller_discount=(goods - goods * int(platform_pct) // 100)  # type: ignore[call-overload]
                            * int(seller_pct)  # type: ignore[call-overload]
                            // 100,
                        )
                    ],
                )
                if placed.total > 0:
                    pay_and_confirm(session_factory, settings, placed)
                    order_ids.extend(placed.order_ids)
            elif kind == "refund" and order_ids:
                _, which, pct = op
                order_id = order_ids[int(which) % len(order_ids)]  # type: ignore[call-overload]
                with unit_of_work(session_factory) as s:
                    order = s.get(Order, order_id)
                    assert order is not None
                    left = order.total_amount - order.refunded_amount
                amount = max(1, left * int(pct) // 100)  # type: ignore[call-overload]
                with unit_of_work(session_factory) as s:
                    payments.refund_order(
                        session=s,
                        provider=provider,
                        order_id=order_id,
                        amount=Money(amount, "USD"),
                        reason="property test",
                    )
            elif kind == "deliver" and order_ids:
                _, which, days_ago = op
                order_id = order_ids[int(which) % len(order_ids)]  # type: ignore[call-overload]
                with unit_of_work(session_factory) as s:
                    checkout.mark_delivered(
                        session=s,
                        order_id=order_id,
                        delivered_at=now - timedelta(days=int(days_ago)),  # type: ignore[call-overload]
                    )
            elif kind == "settle":
                settle_delivered(session_factory, now=now + timedelta(days=int(op[1])))  # type: ignore[call-overload]
            elif kind == "payout":
                run_payouts(session_factory)
        except ProblemError:
            pass  # refused (nothing left to refund, illegal transition): nothing written
        session.rollback()
        report = verify(session=session)
        assert report.ok, (op, report.violations)

    session.rollback()
    # Every entry balances, so all accounts together sum to zero; and the processor
    # clearing account holds exactly what came in, less refunds and payouts.
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerAccount.balance), 0)).where(
            LedgerAccount.currency == "USD"
        )
    )
    assert total == 0
    captured = session.scalar(
        select(func.coalesce(func.sum(payments.Payment.amount), 0)).where(
            payments.Payment.status == "captured"
        )
    )
    refunded = session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)))
    paid_out = session.scalar(select(func.coalesce(func.sum(Payout.amount), 0)))
    clearing = ledger.balance(session=session, account=ledger.PROCESSOR_CLEARING, currency="USD")
    assert clearing == captured - refunded - paid_out
