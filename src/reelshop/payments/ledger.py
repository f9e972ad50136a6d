"""The double-entry ledger: balanced journal entries in integer minor units per currency.

Sign convention: a line's amount is a debit when positive and a credit when negative,
so every entry's lines sum to zero in each currency. Asset and expense accounts
normally carry a debit balance (positive), liability and revenue accounts a credit
balance (negative). Entries and lines are append-only; corrections are new entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reelshop.db import insert_on_conflict
from reelshop.errors import Conflict, problem_type
from reelshop.money import Money
from reelshop.payments.models import AccountKind, JournalEntry, JournalLine, LedgerAccount

PROCESSOR_CLEARING = "processor_clearing"  # buyer funds held for us by the processor
PLATFORM_ESCROW = "platform_escrow"
PLATFORM_COMMISSION_REVENUE = "platform_commission_revenue"
PLATFORM_VOUCHER_SUBSIDY = "platform_voucher_subsidy"
PAYOUTS_IN_TRANSIT = "payouts_in_transit"
SELLER_PAYABLE = "seller_payable"
SELLER_RECEIVABLE = "seller_receivable"
CREATOR_AFFILIATE_PAYABLE = "creator_affiliate_payable"
CREATOR_AFFILIATE_RECEIVABLE = "creator_affiliate_receivable"
PLATFORM_AD_REVENUE = "platform_ad_revenue"
PLATFORM_FULFILMENT_REVENUE = "platform_fulfilment_revenue"

_KINDS = {
    PROCESSOR_CLEARING: AccountKind.ASSET,
    PLATFORM_ESCROW: AccountKind.LIABILITY,
    PLATFORM_COMMISSION_REVENUE: AccountKind.REVENUE,
    PLATFORM_VOUCHER_SUBSIDY: AccountKind.EXPENSE,
    PAYOUTS_IN_TRANSIT: AccountKind.LIABILITY,
    SELLER_PAYABLE: AccountKind.LIABILITY,
    SELLER_RECEIVABLE: AccountKind.ASSET,
    CREATOR_AFFILIATE_PAYABLE: AccountKind.LIABILITY,
    CREATOR_AFFILIATE_RECEIVABLE: AccountKind.ASSET,
    PLATFORM_AD_REVENUE: AccountKind.REVENUE,
    PLATFORM_FULFILMENT_REVENUE: AccountKind.REVENUE,
}

UNBALANCED = problem_type("ledger-unbalanced", 422, "The journal entry does not balance")
ALREADY_POSTED = problem_type("ledger-already-posted", 409, "This movement is already recorded")
INSUFFICIENT_BALANCE = problem_type(
    "ledger-insufficient-balance", 409, "The account does not hold that much"
)


class UnbalancedEntry(Conflict):
    default_type = UNBALANCED


class AlreadyPosted(Conflict):
    default_type = ALREADY_POSTED


class InsufficientBalance(Conflict):
    default_type = INSUFFICIENT_BALANCE


def seller_payable(seller_id: str) -> str:
    return f"{SELLER_PAYABLE}:{seller_id}"


def seller_receivable(seller_id: str) -> str:
    return f"{SELLER_RECEIVABLE}:{seller_id}"


def creator_payable(creator_id: str) -> str:
    return f"{CREATOR_AFFILIATE_PAYABLE}:{creator_id}"


def creator_receivable(creator_id: str) -> str:
    return f"{CREATOR_AFFILIATE_RECEIVABLE}:{creator_id}"


def account_kind(code: str) -> AccountKind:
    base = code.split(":", 1)[0]
    if base not in _KINDS:
        raise ValueError(f"unknown ledger account {code!r}")
    return _KINDS[base]


@dataclass(frozen=True)
class Posting:
    """One side of an entry: ``amount`` positive debits the account, negative credits it."""

    account: str
    amount: Money

    @classmethod
    def debit(cls, account: str, amount: Money) -> Posting:
        return cls(account, amount)

    @classmethod
    def credit(cls, account: str, amount: Money) -> Posting:
        return cls(account, -amount)


def _ensure_accounts(session: Session, keys: Iterable[tuple[str, str]]) -> None:
    rows = [
        {"code": code, "currency": currency, "kind": account_kind(code).value, "balance": 0}
        for code, currency in keys
    ]
    if not rows:
        return
    session.execute(
        insert_on_conflict(session, LedgerAccount).values(rows).on_conflict_do_nothing()
    )


def _never_negative(code: str) -> bool:
    """Accounts whose balance must stay on their normal side: what we owe a seller can
    be paid out or refunded down to zero, never past it (the rest is a receivable)."""
    return code.startswith(SELLER_PAYABLE + ":")


def entry_exists(*, session: Session, ref: str) -> bool:
    return session.scalar(select(JournalEntry.id).where(JournalEntry.ref == ref)) is not None


def post(
    *,
    session: Session,
    kind: str,
    ref: str,
    postings: Sequence[Posting],
    order_id: str | None = None,
    seller_id: str | None = None,
    payout_id: str | None = None,
    memo: str = "",
) -> JournalEntry:
    """Record one balanced entry and move the account balances, in the caller's transaction.

    Raises UnbalancedEntry when the postings do not sum to zero per currency,
    AlreadyPosted when ``ref`` is taken, InsufficientBalance when a guarded account
    would go past zero (nothing is written in either case: the caller's transaction
    rolls back).
    """
    totals: dict[str, int] = defaultdict(int)
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for p in postings:
        account_kind(p.account)
        totals[p.amount.currency] += p.amount.amount
        merged[(p.account, p.amount.currency)] += p.amount.amount
    off = {cur: total for cur, total in totals.items() if total != 0}
    if off:
        raise UnbalancedEntry(f"entry {ref} does not balance: {off}", imbalance=off)
    lines = sorted((key, amount) for key, amount in merged.items() if amount != 0)
    if not lines:
        raise UnbalancedEntry(f"entry {ref} moves no money")
    if entry_exists(session=session, ref=ref):
        raise AlreadyPosted(f"{ref} is already in the ledger", ref=ref)
    entry = JournalEntry(
        kind=kind, ref=ref, order_id=order_id, seller_id=seller_id, payout_id=payout_id, memo=memo
    )
    session.add(entry)
    session.flush()
    _ensure_accounts(session, [key for key, _ in lines])
    # Always in (account, currency) order, so concurrent postings lock rows in one order.
    for (code, currency), amount in lines:
        stmt = update(LedgerAccount).where(
            LedgerAccount.code == code, LedgerAccount.currency == currency
        )
        if _never_negative(code):
            stmt = stmt.where(LedgerAccount.balance + amount <= 0)
        result = session.execute(
            stmt.values(balance=LedgerAccount.balance + amount).execution_options(
                synchronize_session=False
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise InsufficientBalance(
                f"{code} ({currency}) does not hold {abs(amount)} minor units", account=code
            )
        session.add(JournalLine(entry_id=entry.id, account=code, currency=currency, amount=amount))
    session.flush()
    return entry


def balance(*, session: Session, account: str, currency: str, lock: bool = False) -> int:
    """The account's balance, debits minus credits (credit-normal accounts are negative)."""
    query = select(LedgerAccount.balance).where(
        LedgerAccount.code == account, LedgerAccount.currency == currency
    )
    if lock:
        query = query.with_for_update()
    return int(session.scalar(query) or 0)


def normal_balance(*, session: Session, account: str, currency: str) -> Money:
    """The balance as a positive number on the account's normal side."""
    raw = balance(session=session, account=account, currency=currency)
    if account_kind(account) in (AccountKind.LIABILITY, AccountKind.REVENUE):
        raw = -raw
    return Money(raw, currency)


def balances_by_prefix(*, session: Session, prefix: str) -> list[LedgerAccount]:
    return list(
        session.scalars(
            select(LedgerAccount)
            .where(LedgerAccount.code.startswith(prefix))
            .order_by(LedgerAccount.code, LedgerAccount.currency)
        )
    )


def line_sum(*, session: Session, account: str, currency: str, order_id: str | None = None) -> int:
    query = (
        select(func.coalesce(func.sum(JournalLine.amount), 0))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account == account, JournalLine.currency == currency)
    )
    if order_id is not None:
        query = query.where(JournalEntry.order_id == order_id)
    return int(session.scalar(query) or 0)


def recent_entries(*, session: Session, limit: int = 50) -> list[JournalEntry]:
    from sqlalchemy.orm import selectinload

    return list(
        session.scalars(
            select(JournalEntry)
            .options(selectinload(JournalEntry.lines))
            .order_by(JournalEntry.created_at.desc(), JournalEntry.id)
            .limit(limit)
        )
    )


def line_sum_through(*, session: Session, account: str, currency: str, through_line_id: int) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
                JournalLine.account == account,
                JournalLine.currency == currency,
                JournalLine.id <= through_line_id,
            )
        )
        or 0
    )
