"""Seller statements: every movement of a seller's payable, as rows and as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.money import Money
from reelshop.payments import ledger
from reelshop.payments.models import JournalEntry, JournalLine, Payout

_DESCRIPTIONS = {
    "settlement": "Order settled (after delivery and hold), net of commissions",
    "refund": "Refund to the shopper after settlement",
    "payout": "Payout to your bank account",
    "receivable_offset": "Refunds after settlement netted from your balance",
    "correction": "Correction",
}


@dataclass(frozen=True)
class StatementRow:
    at: datetime
    entry_id: str
    kind: str
    order_id: str | None
    description: str
    amount: Money  # positive: owed to the seller; negative: taken from the balance
    balance: Money


def statement_rows(
    *,
    session: Session,
    seller_id: str,
    currency: str,
    after_line_id: int,
    through_line_id: int | None,
) -> list[StatementRow]:
    account = ledger.seller_payable(seller_id)
    query = (
        select(JournalLine, JournalEntry)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.account == account,
            JournalLine.currency == currency,
            JournalLine.id > after_line_id,
        )
        .order_by(JournalLine.id)
    )
    if through_line_id is not None:
        query = query.where(JournalLine.id <= through_line_id)
    opening = -ledger.line_sum_through(
        session=session, account=account, currency=currency, through_line_id=after_line_id
    )
    running = opening
    rows = []
    for line, entry in session.execute(query).all():
        running -= line.amount
        rows.append(
            StatementRow(
                at=entry.created_at,
                entry_id=entry.id,
                kind=entry.kind,
                order_id=entry.order_id,
                description=_DESCRIPTIONS.get(entry.kind, entry.kind),
                amount=Money(-line.amount, currency),
                balance=Money(running, currency),
            )
        )
    return rows


def payout_statement(*, session: Session, payout: Payout) -> list[StatementRow]:
    return statement_rows(
        session=session,
        seller_id=payout.seller_id,
        currency=payout.currency,
        after_line_id=payout.statement_after_line_id,
        through_line_id=payout.statement_through_line_id,
    )


def to_csv(rows: list[StatementRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["date", "entry", "type", "order", "description", "amount", "currency", "balance"]
    )
    for row in rows:
        writer.writerow(
            [
                row.at.isoformat(timespec="seconds"),
                row.entry_id,
                row.kind,
                row.order_id or "",
                row.description,
                f"{row.amount.to_decimal()}",
                row.amount.currency,
                f"{row.balance.to_decimal()}",
            ]
        )
    return out.getvalue()
