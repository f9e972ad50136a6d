"""Where each domain plugs its part into a data export and an account deletion.

A domain contributes an exporter (the person's rows, as JSON-ready data) and an
eraser (erase or pseudonymise those rows) and names the tables they cover; a
test fails when a table that points at a user is covered by no contribution and
not kept on purpose (``KEPT``). Erasers run in ascending ``order``; the account
itself goes last, so the others can still read it.

    @exporter("reviews", tables=("reviews",))
    def export_reviews(session: Session, user: User) -> list[dict[str, Any]]: ...

    @eraser("reviews", tables=("reviews",))
    def erase_reviews(session: Session, user: User, pseudonym: str) -> int: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from reelshop.accounts.models import User

ExportFn = Callable[[Session, "User"], Any]
EraseFn = Callable[[Session, "User", str], int]
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Exporter:
    name: str
    tables: tuple[str, ...]
    fn: ExportFn


@dataclass(frozen=True)
class Eraser:
    name: str
    tables: tuple[str, ...]
    order: int
    fn: EraseFn


EXPORTERS: dict[str, Exporter] = {}
ERASERS: dict[str, Eraser] = {}

# Tables that point at a user and are kept whole after deletion, and why. The user row
# itself stays (pseudonymised) so these keep a valid reference.
KEPT: dict[str, str] = {
    "orders": "legal and tax record of a sale; the ship-to is erased from the checkout",
    "order_lines": "part of the order record",
    "voucher_usages": "counts of a voucher's use per account (no personal data)",
    "voucher_redemptions": "financial record of a discount",
    "payments": "financial record (no card data is stored)",
    "payment_refunds": "financial record",
    "journal_entries": "the ledger is append-only",
    "journal_lines": "the ledger is append-only",
    "audit_log": "append-only, hash-chained record of privileged actions",
    "video_product_tags": "commission attribution of past sales",
    "seller_profiles": "an approved shop is closed by support, never by self-service deletion",
    "trust_infringement_complaints": "record of a takedown; the filer's account is pseudonymised",
    "trust_listing_reports": "moderation input; the reporter's account is pseudonymised",
}


def exporter(name: str, *, tables: tuple[str, ...] = ()) -> Callable[[F], F]:
    def register(fn: F) -> F:
        if name in EXPORTERS:
            raise ValueError(f"two exporters named {name!r}")
        EXPORTERS[name] = Exporter(name, tables, fn)
        return fn

    return register


def eraser(name: str, *, tables: tuple[str, ...] = (), order: int = 100) -> Callable[[F], F]:
    def register(fn: F) -> F:
        if name in ERASERS:
            raise ValueError(f"two erasers named {name!r}")
        ERASERS[name] = Eraser(name, tables, order, fn)
        return fn

    return register


def covered_tables() -> set[str]:
    found = {t for e in EXPORTERS.values() for t in e.tables}
    return found | {t for e in ERASERS.values() for t in e.tables}


def ordered_erasers() -> list[Eraser]:
    return sorted(ERASERS.values(), key=lambda e: (e.order, e.name))
