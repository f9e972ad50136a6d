"""``reelshop ledger verify``: the ledger's invariants, recomputed from scratch.

1. Every journal entry sums to zero in each currency.
2. Every account's cached balance equals the sum of its lines.
3. Escrow equals what paid-but-unsettled orders hold: computed from the orders
   themselves (total + platform voucher subsidy - refunds - the subsidy they reversed).
4. Every paid order has exactly one capture entry, and every capture belongs to a
   paid order (no order paid twice).
5. No payout exceeds what was payable: no seller payable ever ends in debit, each
   payout's amount is what its entry took, and payouts never exceed what was credited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.checkout.models import Order
from reelshop.payments import ledger
from reelshop.payments.models import (
    EntryKind,
    EscrowHold,
    HoldStatus,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    Payout,
)
from reelshop.payments.service import subsidy_reversed


@dataclass
class VerifyReport:
    entries: int = 0
    lines: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def verify(*, session: Session, max_reported: int = 50) -> VerifyReport:
    report = VerifyReport()
    report.entries = int(session.scalar(select(func.count()).select_from(JournalEntry)) or 0)
    report.lines = int(session.scalar(select(func.count()).select_from(JournalLine)) or 0)
    add = report.violations.append

    for entry_id, currency, total in session.execute(
        select(JournalLine.entry_id, JournalLine.currency, func.sum(JournalLine.amount))
        .group_by(JournalLine.entry_id, JournalLine.currency)
        .having(func.sum(JournalLine.amount) != 0)
        .limit(max_reported)
    ):
        add(f"entry {entry_id} does not balance in {currency}: off by {total}")

    from_lines = {
        (account, currency): int(total)
        for account, currency, total in session.execute(
            select(
                JournalLine.account, JournalLine.currency, func.sum(JournalLine.amount)
            ).group_by(JournalLine.account, JournalLine.currency)
        )
    }
    cached = {(a.code, a.currency): a.balance for a in session.scalars(select(LedgerAccount))}
    for key in sorted(set(from_lines) | set(cached)):
        if from_lines.get(key, 0) != cached.get(key, 0):
            add(
                f"account {key[0]} ({key[1]}) balance {cached.get(key, 0)} "
                f"but its lines sum to {from_lines.get(key, 0)}"
            )

    expected: dict[str, int] = defaultdict(int)
    held_orders = session.execute(
        select(Order)
        .join(EscrowHold, EscrowHold.order_id == Order.id, isouter=True)
        .where(
            Order.paid_at.is_not(None),
            (EscrowHold.status.is_(None)) | (EscrowHold.status == HoldStatus.HELD),
        )
    ).scalars()
    for order in held_orders:
        expected[order.currency] += (
            order.total_amount
            + order.platform_discount_amount
            - order.refunded_amount
            - subsidy_reversed(order, order.refunded_amount)
        )
    actual = {
        a.currency: -a.balance
        for a in session.scalars(
            select(LedgerAccount).where(LedgerAccount.code == ledger.PLATFORM_ESCROW)
        )
    }
    for currency in sorted(set(expected) | set(actual)):
        if expected.get(currency, 0) != actual.get(currency, 0):
            add(
                f"escrow holds {actual.get(currency, 0)} {currency} but paid, unsettled orders "
                f"account for {expected.get(currency, 0)}"
            )

    captures: dict[str, int] = {
        str(order_id): int(count)
        for order_id, count in session.execute(
            select(JournalEntry.order_id, func.count())
            .where(JournalEntry.kind == EntryKind.CAPTURE, JournalEntry.order_id.is_not(None))
            .group_by(JournalEntry.order_id)
        ).all()
    }
    for order_id, count in captures.items():
        if count != 1:
            add(f"order {order_id} has {count} capture entries (paid more than once)")
    paid_ids = set(session.scalars(select(Order.id).where(Order.paid_at.is_not(None))))
    for order_id in sorted(paid_ids - set(captures))[:max_reported]:
        add(f"order {order_id} is paid but its capture is not in the ledger")
    for order_id in sorted(set(captures) - paid_ids)[:max_reported]:
        add(f"capture recorded for order {order_id}, which is not paid")

    for account in session.scalars(
        select(LedgerAccount).where(
            LedgerAccount.code.startswith(ledger.SELLER_PAYABLE + ":"), LedgerAccount.balance > 0
        )
    ):
        add(f"{account.code} ({account.currency}) is overdrawn by {account.balance}")
    taken = dict(
        session.execute(
            select(JournalEntry.payout_id, func.sum(JournalLine.amount))
            .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
            .where(
                JournalEntry.kind == EntryKind.PAYOUT,
                JournalLine.account.startswith(ledger.SELLER_PAYABLE + ":"),
            )
            .group_by(JournalEntry.payout_id)
        ).all()
    )
    paid_out: dict[tuple[str, str], int] = defaultdict(int)
    for payout in session.scalars(select(Payout)):
        paid_out[(payout.seller_id, payout.currency)] += payout.amount
        if int(taken.get(payout.id, 0)) != payout.amount:
            add(
                f"payout {payout.id} of {payout.amount} took {taken.get(payout.id, 0)} "
                "from the seller's payable"
            )
    for (seller_id, currency), total in sorted(paid_out.items()):
        credited = -int(
            session.scalar(
                select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
                    JournalLine.account == ledger.seller_payable(seller_id),
                    JournalLine.currency == currency,
                    JournalLine.amount < 0,
                )
            )
            or 0
        )
        if total > credited:
            add(f"seller {seller_id} was paid {total} {currency} but only {credited} was payable")
    return report
