"""Each domain's part of an export and a deletion, registered with ``privacy.registry``.

Rows are read through the tables (not the domain models) so a domain that is still
being built can be covered by naming its table: a table missing from the schema
contributes nothing. Sealed columns (``Encrypted``) decrypt on the way out as usual.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from reelshop.accounts.models import Address, ApiToken, User
from reelshop.checkout.models import Cart, Checkout, IdempotencyRecord, Order, OrderLine
from reelshop.db import Base
from reelshop.feed.models import CreatorFollow, FeedEvent, Video, VideoStatus
from reelshop.privacy.registry import eraser, exporter
from reelshop.sellers.models import SellerApplication, SellerDocument

log = logging.getLogger("reelshop.privacy")

# Never exported: hashes, secrets and storage locations are ours, not the person's data.
WITHHELD = frozenset(
    {
        "password_hash",
        "token_hash",
        "email_hash",
        "secret",
        "storage_key",
        "thumb_key",
        "address_hash",
        "device_hash",
        "display_prefix",
    }
)
ERASED = "[erased]"
DELETED_NAME = "Deleted user"


def _table(name: str) -> Table | None:
    return Base.metadata.tables.get(name)


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return value


def rows_of(session: Session, table_name: str, column: str, value: str) -> list[dict[str, Any]]:
    """Every row of ``table_name`` whose ``column`` is ``value``, withheld columns dropped."""
    table = _table(table_name)
    if table is None or column not in table.c:
        return []
    found = session.execute(select(table).where(table.c[column] == value)).mappings().all()
    return [{k: _value(v) for k, v in row.items() if k not in WITHHELD} for row in found]


# --- accounts ----------------------------------------------------------------------------


@exporter("account", tables=("users", "addresses", "api_tokens"))
def export_account(session: Session, user: User) -> dict[str, Any]:
    return {
        "profile": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "phone": user.phone,
            "handle": user.handle,
            "role": user.role,
            "market": user.market_code,
            "locale": user.locale,
            "created_at": _value(user.created_at),
        },
        "addresses": rows_of(session, "addresses", "user_id", user.id),
        "api_tokens": rows_of(session, "api_tokens", "user_id", user.id),
    }


@eraser("addresses", tables=("addresses",), order=10)
def erase_addresses(session: Session, user: User, pseudonym: str) -> int:
    result = session.execute(delete(Address).where(Address.user_id == user.id))
    session.expire(user, ["addresses"])
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@eraser("api_tokens", tables=("api_tokens",), order=10)
def erase_tokens(session: Session, user: User, pseudonym: str) -> int:
    result = session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@exporter("two_factor", tables=("totp_factors", "totp_recovery_codes", "pending_second_factors"))
def export_two_factor(session: Session, user: User) -> dict[str, Any]:
    return {
        "authenticator": rows_of(session, "totp_factors", "user_id", user.id),
        "recovery_codes_left": sum(
            1
            for r in rows_of(session, "totp_recovery_codes", "user_id", user.id)
            if r.get("used_at") is None
        ),
    }


@eraser(
    "two_factor",
    tables=("totp_factors", "totp_recovery_codes", "pending_second_factors"),
    order=10,
)
def erase_two_factor(session: Session, user: User, pseudonym: str) -> int:
    return sum(
        _delete_where(session, t, "user_id", user.id)
        for t in ("totp_factors", "totp_recovery_codes", "pending_second_factors")
    )


# --- shopping ------------------------------------------------------------------------------


@exporter("orders", tables=("orders", "order_lines", "checkouts"))
def export_orders(session: Session, user: User) -> list[dict[str, Any]]:
    orders = session.scalars(
        select(Order).where(Order.shopper_id == user.id).order_by(Order.placed_at)
    ).all()
    out = []
    for order in orders:
        lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
        try:
            ship_to = json.loads(order.checkout.shipping_address)
        except ValueError:
            ship_to = order.checkout.shipping_address
        out.append(
            {
                "id": order.id,
                "status": order.status,
                "currency": order.currency,
                "total_amount": order.total_amount,
                "refunded_amount": order.refunded_amount,
                "placed_at": _value(order.placed_at),
                "ship_to": ship_to,
                "lines": [
                    {
                        "title": line.title,
                        "quantity": line.quantity,
                        "unit_price_amount": line.unit_price_amount,
                    }
                    for line in lines
                ],
            }
        )
    return out


@eraser("checkouts", tables=("checkouts",), order=20)
def erase_ship_to(session: Session, user: User, pseudonym: str) -> int:
    """The order stays (a legal record of the sale); the address it went to does not."""
    checkouts = session.scalars(select(Checkout).where(Checkout.shopper_id == user.id)).all()
    for checkout in checkouts:
        checkout.shipping_address = json.dumps(
            {"erased": True, "country": checkout.shipping_country}
        )
    return len(checkouts)


@exporter("cart", tables=("carts", "cart_lines"))
def export_cart(session: Session, user: User) -> list[dict[str, Any]]:
    cart = session.scalars(select(Cart).where(Cart.shopper_id == user.id)).first()
    return [] if cart is None else rows_of(session, "cart_lines", "cart_id", cart.id)


@eraser("cart", tables=("carts", "cart_lines", "idempotency_records"), order=20)
def erase_cart(session: Session, user: User, pseudonym: str) -> int:
    removed = session.execute(delete(Cart).where(Cart.shopper_id == user.id)).rowcount or 0  # type: ignore[attr-defined]
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.user_id == user.id))
    return int(removed)


@exporter("payments", tables=("payments",))
def export_payments(session: Session, user: User) -> list[dict[str, Any]]:
    return rows_of(session, "payments", "shopper_id", user.id)


@exporter("shipments", tables=("shipments",))
def export_shipments(session: Session, user: User) -> list[dict[str, Any]]:
    order_ids = list(session.scalars(select(Order.id).where(Order.shopper_id == user.id)))
    return [row for oid in order_ids for row in rows_of(session, "shipments", "order_id", oid)]


# --- feed and recommender ----------------------------------------------------------------------


@exporter("feed", tables=("feed_events", "creator_follows", "videos", "ad_impressions"))
def export_feed(session: Session, user: User) -> dict[str, Any]:
    return {
        "following": list(
            session.scalars(
                select(CreatorFollow.creator_user_id).where(
                    CreatorFollow.follower_user_id == user.id
                )
            )
        ),
        "interactions": rows_of(session, "feed_events", "user_id", user.id),
        "videos": rows_of(session, "videos", "author_user_id", user.id),
        "sponsored_impressions": rows_of(session, "ad_impressions", "user_id", user.id),
    }


@eraser("feed", tables=("feed_events", "creator_follows", "videos", "ad_impressions"), order=20)
def erase_feed(session: Session, user: User, pseudonym: str) -> int:
    """Interactions are re-keyed to a pseudonym no table links back to the account, so the
    recommender's aggregate counts stay right; follows go, videos come down."""
    moved = session.execute(
        update(FeedEvent).where(FeedEvent.user_id == user.id).values(user_id=pseudonym)
    ).rowcount  # type: ignore[attr-defined]
    impressions = _table("ad_impressions")
    if impressions is not None:
        session.execute(
            update(impressions).where(impressions.c.user_id == user.id).values(user_id=pseudonym)
        )
    session.execute(
        delete(CreatorFollow).where(
            (CreatorFollow.follower_user_id == user.id) | (CreatorFollow.creator_user_id == user.id)
        )
    )
    session.execute(
        update(Video).where(Video.author_user_id == user.id).values(status=VideoStatus.REMOVED)
    )
    return int(moved or 0)


# --- seller vetting ----------------------------------------------------------------------------


@exporter("seller_application", tables=("seller_applications", "seller_documents"))
def export_application(session: Session, user: User) -> list[dict[str, Any]]:
    apps = rows_of(session, "seller_applications", "user_id", user.id)
    for app in apps:
        app["documents"] = rows_of(session, "seller_documents", "application_id", app["id"])
    return apps


@eraser("seller_application", tables=("seller_applications", "seller_documents"), order=30)
def erase_application(session: Session, user: User, pseudonym: str) -> int:
    """An application that never became a shop: its KYC details and files go."""
    from reelshop import storage

    application = session.scalars(
        select(SellerApplication).where(SellerApplication.user_id == user.id)
    ).first()
    if application is None:
        return 0
    application.legal_name = ERASED
    application.registration_number = ERASED
    documents = session.scalars(
        select(SellerDocument).where(SellerDocument.application_id == application.id)
    ).all()
    for document in documents:
        try:
            storage.get_storage().delete(document.storage_key)
        except Exception:  # the row is erased either way; a stray file is swept by ops
            log.warning("could not delete a KYC file", extra={"document": document.id})
        document.filename = ERASED
        document.storage_key = ERASED
    return 1 + len(documents)


# --- domains built alongside (registered by table name) ----------------------------------------


@exporter("notifications", tables=("notifications",))
def export_notifications(session: Session, user: User) -> list[dict[str, Any]]:
    return rows_of(session, "notifications", "user_id", user.id)


@eraser("notifications", tables=("notifications",), order=40)
def erase_notifications(session: Session, user: User, pseudonym: str) -> int:
    return _delete_where(session, "notifications", "user_id", user.id)


@exporter("reviews", tables=("reviews", "review_photos"))
def export_reviews(session: Session, user: User) -> list[dict[str, Any]]:
    return rows_of(session, "reviews", "reviewer_id", user.id)


@eraser("reviews", tables=("reviews", "review_photos"), order=40)
def erase_reviews(session: Session, user: User, pseudonym: str) -> int:
    """Reviews stay up (others relied on them) under the account's new name, "Deleted
    user"; the fraud fingerprints that could tie them to a person go."""
    table = _table("reviews")
    if table is None:
        return 0
    values = {c: None for c in ("address_hash", "device_hash") if c in table.c}
    if not values:
        return 0
    result = session.execute(update(table).where(table.c.reviewer_id == user.id).values(**values))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@exporter("claims", tables=("claims", "claim_evidence"))
def export_claims(session: Session, user: User) -> list[dict[str, Any]]:
    claims = rows_of(session, "claims", "shopper_id", user.id)
    for claim in claims:
        claim["evidence"] = rows_of(session, "claim_evidence", "claim_id", claim["id"])
    return claims


@eraser("claims", tables=("claims", "claim_evidence"), order=40)
def erase_claims(session: Session, user: User, pseudonym: str) -> int:
    """Decided claims stay as the record of a refund decision; the shopper's own words go.
    (Deletion waits while a claim is open; evidence photos follow the retention rule.)"""
    table = _table("claims")
    if table is None or "description" not in table.c:
        return 0
    result = session.execute(
        update(table).where(table.c.shopper_id == user.id).values(description=ERASED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@exporter(
    "trust",
    tables=("trust_brand_owners", "trust_infringement_complaints", "trust_listing_reports"),
)
def export_trust(session: Session, user: User) -> dict[str, Any]:
    return {
        "brands_you_speak_for": rows_of(session, "trust_brand_owners", "user_id", user.id),
        "infringement_complaints_filed": rows_of(
            session, "trust_infringement_complaints", "filed_by", user.id
        ),
        "listings_reported": rows_of(session, "trust_listing_reports", "reporter_id", user.id),
    }


@eraser("brand_ownership", tables=("trust_brand_owners",), order=40)
def erase_brand_ownership(session: Session, user: User, pseudonym: str) -> int:
    """A deleted account no longer speaks for any brand."""
    return _delete_where(session, "trust_brand_owners", "user_id", user.id)


def _delete_where(session: Session, table_name: str, column: str, value: str) -> int:
    table = _table(table_name)
    if table is None or column not in table.c:
        return 0
    result = session.execute(delete(table).where(table.c[column] == value))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- the account itself, last ----------------------------------------------------------------


@eraser("account", tables=("users",), order=1000)
def pseudonymise_account(session: Session, user: User, pseudonym: str) -> int:
    """The row stays so orders and the ledger keep a valid reference; nothing on it
    identifies the person any more, and no credential opens it."""
    from reelshop.security import keys

    email = f"{pseudonym}@deleted.invalid"
    user.email = email
    user.email_hash = keys.email_lookup_hash(email)
    user.name = DELETED_NAME
    user.phone = None
    user.handle = None
    user.password_hash = "!deleted"  # noqa: S105 - not a hash of anything: no password opens it
    user.staff_permissions = []
    user.is_active = False
    user.session_version += 1
    return 1
