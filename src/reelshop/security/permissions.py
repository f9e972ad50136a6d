"""The permission matrix: which role may do which action on which resource, and whose.

One table answers "may a <role> <action> a <resource>, and only their own, their
shop's, or anybody's?"; a second table says which (action, resource) every API
route performs. The typed dependencies in ``authz`` consult both on every API
request, so a route whose caller's roles hold no grant is refused before its body
runs. Ownership ("own", "own shop's") is enforced by the services, which answer a
foreign id with 404; ``tests/security/test_permission_matrix.py`` walks every
route as every role with other people's ids to prove they do.

A route missing from ``ROUTES`` is logged at start-up and fails that test; it is
not refused at run time, so routes other engineers are adding keep working while
their entries are written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.routing import APIRoute, iter_route_contexts

from reelshop.errors import Forbidden, Unauthenticated

if TYPE_CHECKING:
    from fastapi import FastAPI

    from reelshop.security.authz import Principal

log = logging.getLogger("reelshop.security.permissions")


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    DECIDE = "decide"  # approve, reject, refund: a judgement about someone else's thing
    EXPORT = "export"


class Resource(StrEnum):
    SESSION = "session"  # signing up, logging in and out
    PROFILE = "profile"
    API_TOKEN = "api_token"  # noqa: S105 - a resource name, not a secret
    ADDRESS = "address"
    PERSONAL_DATA = "personal_data"  # the export and the deletion of an account
    MARKET = "market"
    CATEGORY = "category"
    LISTING = "listing"  # the public face of a product: search, feed, shop pages
    SELLER_PUBLIC = "seller_public"
    CART = "cart"
    CHECKOUT = "checkout"
    ORDER = "order"
    PAYMENT = "payment"
    SHIPMENT = "shipment"
    VOUCHER = "voucher"
    PLATFORM_VOUCHER = "platform_voucher"
    FLASH_DEAL = "flash_deal"
    PLATFORM_FLASH_DEAL = "platform_flash_deal"
    SELLER_PRODUCT = "seller_product"  # the seller's catalogue, drafts and stock
    CATALOG_IMPORT = "catalog_import"
    SHIPPING_RATE = "shipping_rate"
    PAYOUT = "payout"
    REFUND = "refund"
    FINANCE_REPORT = "finance_report"
    SELLER_APPLICATION = "seller_application"
    KYC_DOCUMENT = "kyc_document"
    SELLER_INVITATION = "seller_invitation"
    WEBHOOK = "webhook"  # signed by the payment processor or the carrier, not by a user
    VIDEO = "video"
    FEED_EVENT = "feed_event"
    FOLLOW = "follow"
    AFFILIATE_RATE = "affiliate_rate"
    CREATOR_EARNINGS = "creator_earnings"
    AD_CAMPAIGN = "ad_campaign"
    AUDIT_LOG = "audit_log"
    TWO_FACTOR = "two_factor"
    NOTIFICATION = "notification"
    FULFILMENT = "fulfilment"  # platform warehouse: inbound stock, fees, picking
    SELLER_PERFORMANCE = "seller_performance"
    SELLER_ANALYTICS = "seller_analytics"
    PLATFORM_ANALYTICS = "platform_analytics"
    OPS_DASHBOARD = "ops_dashboard"
    DELIVERY_ESTIMATE = "delivery_estimate"
    LISTING_REPORT = "listing_report"
    MODERATION_CASE = "moderation_case"
    STRIKE = "strike"
    BRAND = "brand"  # a brand's registry entry; its owners are accounts staff recorded
    BRAND_COMPLAINT = "brand_complaint"
    BRAND_AUTHORISATION = "brand_authorisation"
    REVIEW = "review"  # published reviews are public; writing one is the reviewer's
    CLAIM = "claim"
    CLAIM_EVIDENCE = "claim_evidence"


class Ownership(IntEnum):
    """How far a grant reaches; larger reaches further."""

    OWN = 1  # rows whose user is the caller
    OWN_SELLER = 2  # rows of the caller's shop
    ANY = 3  # everybody's


OWN, SHOP, ANY = Ownership.OWN, Ownership.OWN_SELLER, Ownership.ANY

STAFF_PERMISSIONS = ("trust_safety", "support", "finance", "admin")
ANONYMOUS = "anonymous"
SHOPPER = "shopper"
SELLER = "seller"
CREATOR = "creator"
STAFF = "staff"
STAFF_ROLES = tuple(f"staff:{p}" for p in STAFF_PERMISSIONS)
ROLES: tuple[str, ...] = (ANONYMOUS, SHOPPER, SELLER, CREATOR, STAFF, *STAFF_ROLES)

# Only staff may ever hold these; the property test checks no other role does.
STAFF_ONLY: frozenset[Resource] = frozenset(
    {
        Resource.PLATFORM_VOUCHER,
        Resource.PLATFORM_FLASH_DEAL,
        Resource.REFUND,
        Resource.FINANCE_REPORT,
        Resource.SELLER_INVITATION,
        Resource.AUDIT_LOG,
        Resource.PLATFORM_ANALYTICS,
        Resource.OPS_DASHBOARD,
        Resource.MODERATION_CASE,
    }
)
# Somebody's own things: outside staff, a grant on them never reaches ``ANY``.
OWNED: frozenset[Resource] = frozenset(
    {
        Resource.PROFILE,
        Resource.API_TOKEN,
        Resource.ADDRESS,
        Resource.PERSONAL_DATA,
        Resource.CART,
        Resource.CHECKOUT,
        Resource.ORDER,
        Resource.PAYMENT,
        Resource.SHIPMENT,
        Resource.VOUCHER,
        Resource.FLASH_DEAL,
        Resource.SELLER_PRODUCT,
        Resource.CATALOG_IMPORT,
        Resource.SHIPPING_RATE,
        Resource.PAYOUT,
        Resource.SELLER_APPLICATION,
        Resource.KYC_DOCUMENT,
        Resource.VIDEO,
        Resource.FEED_EVENT,
        Resource.FOLLOW,
        Resource.CREATOR_EARNINGS,
        Resource.AD_CAMPAIGN,
        Resource.TWO_FACTOR,
        Resource.NOTIFICATION,
        Resource.FULFILMENT,
        Resource.SELLER_PERFORMANCE,
        Resource.SELLER_ANALYTICS,
        Resource.LISTING_REPORT,
        Resource.STRIKE,
        Resource.BRAND_COMPLAINT,
        Resource.BRAND_AUTHORISATION,
        Resource.CLAIM,
        Resource.CLAIM_EVIDENCE,
    }
)

Grant = tuple[Action, Resource]
R, C, U, D, X, E = (
    Action.READ,
    Action.CREATE,
    Action.UPDATE,
    Action.DELETE,
    Action.DECIDE,
    Action.EXPORT,
)


def _grants(*rows: tuple[Iterable[Action], Resource, Ownership]) -> dict[Grant, Ownership]:
    return {(action, resource): reach for actions, resource, reach in rows for action in actions}


# Each role's own grants. A signed-in account also holds the anonymous grants, and every
# account can shop, so sellers, creators and staff hold the shopper grants too
# (``roles_of`` below); admin holds every other staff permission's grants.
_MATRIX: dict[str, dict[Grant, Ownership]] = {
    ANONYMOUS: _grants(
        ((C,), Resource.SESSION, ANY),
        ((R,), Resource.MARKET, ANY),
        ((R,), Resource.CATEGORY, ANY),
        ((R,), Resource.LISTING, ANY),
        ((R,), Resource.SELLER_PUBLIC, ANY),
        ((C,), Resource.WEBHOOK, ANY),
        ((R,), Resource.DELIVERY_ESTIMATE, ANY),
        ((R,), Resource.REVIEW, ANY),
    ),
    SHOPPER: _grants(
        ((D,), Resource.SESSION, OWN),
        ((R, U), Resource.PROFILE, OWN),
        ((R, C, D), Resource.API_TOKEN, OWN),
        ((R, C, D), Resource.ADDRESS, OWN),
        ((E, D), Resource.PERSONAL_DATA, OWN),
        ((R, C, U, D), Resource.CART, OWN),
        ((R, C), Resource.CHECKOUT, OWN),
        ((R,), Resource.ORDER, OWN),
        ((R, C), Resource.PAYMENT, OWN),
        ((R,), Resource.SHIPMENT, OWN),
        ((R,), Resource.VOUCHER, OWN),
        ((C, R), Resource.SELLER_APPLICATION, OWN),
        ((U,), Resource.SELLER_APPLICATION, OWN),
        ((R,), Resource.KYC_DOCUMENT, OWN),
        ((C,), Resource.FEED_EVENT, OWN),
        ((C, D), Resource.FOLLOW, OWN),
        ((R,), Resource.AFFILIATE_RATE, ANY),
        ((R, C, U, D), Resource.TWO_FACTOR, OWN),
        ((R, U), Resource.NOTIFICATION, OWN),
        ((C,), Resource.LISTING_REPORT, OWN),
        ((C, U), Resource.REVIEW, OWN),
        ((C, R), Resource.CLAIM, OWN),
        ((C,), Resource.CLAIM_EVIDENCE, OWN),
        # Any account may speak for a brand once trust & safety record it as an owner:
        # the brand-owner routes reach only the brands the caller owns.
        ((R, U), Resource.BRAND, OWN),
        ((C, R), Resource.BRAND_COMPLAINT, OWN),
        ((R, X), Resource.BRAND_AUTHORISATION, OWN),
    ),
    SELLER: _grants(
        ((R, U), Resource.ORDER, SHOP),
        ((R, C), Resource.SHIPMENT, SHOP),
        ((R,), Resource.SHIPPING_RATE, SHOP),
        ((C,), Resource.VOUCHER, SHOP),
        ((C,), Resource.FLASH_DEAL, SHOP),
        ((R, C, U), Resource.SELLER_PRODUCT, SHOP),
        ((R, C), Resource.CATALOG_IMPORT, SHOP),
        ((R,), Resource.PAYOUT, SHOP),
        ((C,), Resource.VIDEO, OWN),
        ((U,), Resource.AFFILIATE_RATE, SHOP),
        ((R, C, U), Resource.AD_CAMPAIGN, SHOP),
        ((R, C), Resource.FULFILMENT, SHOP),
        ((R,), Resource.SELLER_PERFORMANCE, SHOP),
        ((R, U), Resource.SELLER_ANALYTICS, SHOP),
        ((R, C), Resource.STRIKE, SHOP),
        ((R, C), Resource.BRAND_AUTHORISATION, SHOP),
        ((U,), Resource.REVIEW, SHOP),  # answering a review of the shop
        ((R, U), Resource.CLAIM, SHOP),
        ((C,), Resource.CLAIM_EVIDENCE, SHOP),
    ),
    CREATOR: _grants(
        ((C,), Resource.VIDEO, OWN),
        ((R,), Resource.CREATOR_EARNINGS, OWN),
    ),
    STAFF: {},
    "staff:trust_safety": _grants(
        ((R, X), Resource.SELLER_APPLICATION, ANY),
        ((R,), Resource.KYC_DOCUMENT, ANY),
        ((R, C, U), Resource.SELLER_INVITATION, ANY),
        ((R, X), Resource.MODERATION_CASE, ANY),
        ((R, X), Resource.STRIKE, ANY),
        ((R, C, U), Resource.BRAND, ANY),
        ((R, X), Resource.BRAND_COMPLAINT, ANY),
        ((X,), Resource.BRAND_AUTHORISATION, ANY),
        ((R, X), Resource.REVIEW, ANY),
    ),
    "staff:support": _grants(
        ((R,), Resource.ORDER, ANY),
        ((R,), Resource.SHIPMENT, ANY),
        ((R,), Resource.ADDRESS, ANY),
        ((R, U), Resource.FULFILMENT, ANY),
        ((R,), Resource.OPS_DASHBOARD, ANY),
        ((R, X), Resource.CLAIM, ANY),
    ),
    "staff:finance": _grants(
        ((C, X), Resource.REFUND, ANY),
        ((R,), Resource.FINANCE_REPORT, ANY),
        ((R,), Resource.PAYOUT, ANY),
        ((C,), Resource.PLATFORM_VOUCHER, ANY),
        ((C,), Resource.PLATFORM_FLASH_DEAL, ANY),
        ((R, U), Resource.PLATFORM_ANALYTICS, ANY),
    ),
    "staff:admin": _grants(
        ((R,), Resource.AUDIT_LOG, ANY),
    ),
}


def _with_admin_superset(
    matrix: dict[str, dict[Grant, Ownership]],
) -> dict[str, dict[Grant, Ownership]]:
    admin = dict(matrix["staff:admin"])
    for role in STAFF_ROLES:
        for grant, reach in matrix[role].items():
            admin[grant] = max(admin.get(grant, reach), reach)
    return {**matrix, "staff:admin": admin}


MATRIX: Mapping[str, Mapping[Grant, Ownership]] = _with_admin_superset(_MATRIX)


def roles_of(principal: Principal | None) -> tuple[str, ...]:
    """Every role whose grants this caller holds."""
    if principal is None:
        return (ANONYMOUS,)
    roles = [ANONYMOUS, SHOPPER]
    if principal.role != SHOPPER:
        roles.append(principal.role)
    if principal.role == STAFF and "staff" in principal.scopes:
        granted = set(principal.user.staff_permissions)
        roles += [f"staff:{p}" for p in STAFF_PERMISSIONS if p in granted or "admin" in granted]
    return tuple(roles)


def reach(roles: Iterable[str], action: Action, resource: Resource) -> Ownership | None:
    """The widest grant any of ``roles`` holds for (action, resource), or None."""
    found: Ownership | None = None
    for role in roles:
        granted = MATRIX.get(role, {}).get((action, resource))
        if granted is not None and (found is None or granted > found):
            found = granted
    return found


# --- what every API route does ------------------------------------------------------------

ROUTES: dict[tuple[str, str], Grant] = {
    ("POST", "/api/v1/auth/signup"): (C, Resource.SESSION),
    ("POST", "/api/v1/auth/login"): (C, Resource.SESSION),
    ("POST", "/api/v1/auth/logout"): (D, Resource.SESSION),
    ("GET", "/api/v1/me"): (R, Resource.PROFILE),
    ("GET", "/api/v1/me/tokens"): (R, Resource.API_TOKEN),
    ("POST", "/api/v1/me/tokens"): (C, Resource.API_TOKEN),
    ("DELETE", "/api/v1/me/tokens/{token_id}"): (D, Resource.API_TOKEN),
    ("GET", "/api/v1/me/addresses"): (R, Resource.ADDRESS),
    ("POST", "/api/v1/me/addresses"): (C, Resource.ADDRESS),
    ("DELETE", "/api/v1/me/addresses/{address_id}"): (D, Resource.ADDRESS),
    ("GET", "/api/v1/me/data"): (E, Resource.PERSONAL_DATA),
    ("POST", "/api/v1/me/deletion"): (D, Resource.PERSONAL_DATA),
    ("GET", "/api/v1/markets"): (R, Resource.MARKET),
    ("GET", "/api/v1/markets/{code}"): (R, Resource.MARKET),
    ("GET", "/api/v1/cart"): (R, Resource.CART),
    ("POST", "/api/v1/cart/lines"): (C, Resource.CART),
    ("PATCH", "/api/v1/cart/lines/{line_id}"): (U, Resource.CART),
    ("DELETE", "/api/v1/cart/lines/{line_id}"): (D, Resource.CART),
    ("POST", "/api/v1/cart/accept-prices"): (U, Resource.CART),
    ("POST", "/api/v1/checkouts"): (C, Resource.CHECKOUT),
    ("GET", "/api/v1/checkouts/{checkout_id}"): (R, Resource.CHECKOUT),
    ("GET", "/api/v1/orders"): (R, Resource.ORDER),
    ("GET", "/api/v1/orders/{order_id}"): (R, Resource.ORDER),
    ("GET", "/api/v1/seller/orders"): (R, Resource.ORDER),
    ("GET", "/api/v1/seller/orders/{order_id}"): (R, Resource.ORDER),
    ("POST", "/api/v1/seller/orders/{order_id}/cancel"): (U, Resource.ORDER),
    ("GET", "/api/v1/vouchers/{code}/check"): (R, Resource.VOUCHER),
    ("POST", "/api/v1/seller/vouchers"): (C, Resource.VOUCHER),
    ("POST", "/api/v1/staff/vouchers"): (C, Resource.PLATFORM_VOUCHER),
    ("POST", "/api/v1/seller/flash-deals"): (C, Resource.FLASH_DEAL),
    ("POST", "/api/v1/staff/flash-deals"): (C, Resource.PLATFORM_FLASH_DEAL),
    ("POST", "/api/v1/seller/imports"): (C, Resource.CATALOG_IMPORT),
    ("GET", "/api/v1/seller/imports"): (R, Resource.CATALOG_IMPORT),
    ("GET", "/api/v1/seller/imports/{import_id}"): (R, Resource.CATALOG_IMPORT),
    ("GET", "/api/v1/seller/products/export.csv"): (R, Resource.SELLER_PRODUCT),
    ("GET", "/api/v1/categories"): (R, Resource.CATEGORY),
    ("GET", "/api/v1/seller/products"): (R, Resource.SELLER_PRODUCT),
    ("POST", "/api/v1/seller/products"): (C, Resource.SELLER_PRODUCT),
    ("GET", "/api/v1/seller/products/{product_id}"): (R, Resource.SELLER_PRODUCT),
    ("PUT", "/api/v1/seller/products/{product_id}"): (U, Resource.SELLER_PRODUCT),
    ("POST", "/api/v1/seller/products/{product_id}/status"): (U, Resource.SELLER_PRODUCT),
    ("POST", "/api/v1/seller/products/{product_id}/images"): (U, Resource.SELLER_PRODUCT),
    ("GET", "/api/v1/seller/skus/{sku_id}/stock"): (R, Resource.SELLER_PRODUCT),
    ("POST", "/api/v1/seller/skus/{sku_id}/stock"): (U, Resource.SELLER_PRODUCT),
    ("GET", "/api/v1/search"): (R, Resource.LISTING),
    ("POST", "/api/v1/seller-applications"): (C, Resource.SELLER_APPLICATION),
    ("GET", "/api/v1/seller-applications"): (R, Resource.SELLER_APPLICATION),
    ("GET", "/api/v1/seller-applications/{application_id}"): (R, Resource.SELLER_APPLICATION),
    ("POST", "/api/v1/seller-applications/{application_id}/resubmit"): (
        U,
        Resource.SELLER_APPLICATION,
    ),
    ("GET", "/api/v1/seller-applications/{application_id}/documents/{document_id}"): (
        R,
        Resource.KYC_DOCUMENT,
    ),
    ("GET", "/api/v1/staff/seller-applications"): (R, Resource.SELLER_APPLICATION),
    ("GET", "/api/v1/staff/seller-applications/{application_id}"): (
        R,
        Resource.SELLER_APPLICATION,
    ),
    ("POST", "/api/v1/staff/seller-applications/{application_id}/approve"): (
        X,
        Resource.SELLER_APPLICATION,
    ),
    ("POST", "/api/v1/staff/seller-applications/{application_id}/reject"): (
        X,
        Resource.SELLER_APPLICATION,
    ),
    ("POST", "/api/v1/staff/seller-applications/{application_id}/request-information"): (
        X,
        Resource.SELLER_APPLICATION,
    ),
    ("POST", "/api/v1/staff/seller-invitations"): (C, Resource.SELLER_INVITATION),
    ("GET", "/api/v1/staff/seller-invitations"): (R, Resource.SELLER_INVITATION),
    ("POST", "/api/v1/staff/seller-invitations/{invitation_id}/revoke"): (
        U,
        Resource.SELLER_INVITATION,
    ),
    ("GET", "/api/v1/sellers/{seller_id}"): (R, Resource.SELLER_PUBLIC),
    ("POST", "/api/v1/checkouts/{checkout_id}/payments"): (C, Resource.PAYMENT),
    ("GET", "/api/v1/payments/{payment_id}"): (R, Resource.PAYMENT),
    ("POST", "/api/v1/payments/webhooks/{provider}"): (C, Resource.WEBHOOK),
    ("POST", "/api/v1/orders/{order_id}/refunds"): (C, Resource.REFUND),
    ("GET", "/api/v1/seller/payouts"): (R, Resource.PAYOUT),
    ("GET", "/api/v1/seller/payouts/{payout_id}/statement.csv"): (R, Resource.PAYOUT),
    ("GET", "/api/v1/finance/summary"): (R, Resource.FINANCE_REPORT),
    ("POST", "/api/v1/seller/orders/{order_id}/shipments"): (C, Resource.SHIPMENT),
    ("GET", "/api/v1/seller/shipping-rates"): (R, Resource.SHIPPING_RATE),
    ("GET", "/api/v1/seller/orders/{order_id}/shipments"): (R, Resource.SHIPMENT),
    ("GET", "/api/v1/orders/{order_id}/shipments"): (R, Resource.SHIPMENT),
    ("POST", "/api/v1/logistics/webhooks/{carrier}"): (C, Resource.WEBHOOK),
    ("GET", "/api/v1/feed"): (R, Resource.LISTING),
    ("POST", "/api/v1/feed/events"): (C, Resource.FEED_EVENT),
    ("POST", "/api/v1/videos"): (C, Resource.VIDEO),
    ("PUT", "/api/v1/creators/{creator_user_id}/follow"): (C, Resource.FOLLOW),
    ("DELETE", "/api/v1/creators/{creator_user_id}/follow"): (D, Resource.FOLLOW),
    ("PUT", "/api/v1/seller/products/{product_id}/affiliate-rate"): (U, Resource.AFFILIATE_RATE),
    ("GET", "/api/v1/products/{product_id}/affiliate-rate"): (R, Resource.AFFILIATE_RATE),
    ("GET", "/api/v1/creator/earnings"): (R, Resource.CREATOR_EARNINGS),
    ("POST", "/api/v1/seller/ad-campaigns"): (C, Resource.AD_CAMPAIGN),
    ("GET", "/api/v1/seller/ad-campaigns"): (R, Resource.AD_CAMPAIGN),
    ("PUT", "/api/v1/seller/ad-campaigns/{campaign_id}/status"): (U, Resource.AD_CAMPAIGN),
    ("GET", "/api/v1/staff/audit-log"): (R, Resource.AUDIT_LOG),
    # Added while other domains were being built (web hardening, notifications).
    ("POST", "/api/v1/auth/login/totp"): (C, Resource.SESSION),
    ("POST", "/api/v1/me/password"): (U, Resource.PROFILE),
    ("GET", "/api/v1/me/totp"): (R, Resource.TWO_FACTOR),
    ("POST", "/api/v1/me/totp"): (C, Resource.TWO_FACTOR),
    ("POST", "/api/v1/me/totp/confirm"): (U, Resource.TWO_FACTOR),
    ("POST", "/api/v1/me/totp/disable"): (D, Resource.TWO_FACTOR),
    ("GET", "/api/v1/notifications"): (R, Resource.NOTIFICATION),
    ("POST", "/api/v1/notifications/{notification_id}/read"): (U, Resource.NOTIFICATION),
    ("POST", "/api/v1/notifications/read-all"): (U, Resource.NOTIFICATION),
    # Fulfilment, performance, delivery estimates, trust & safety, brands, reviews,
    # claims and analytics (added while those domains were being built).
    ("POST", "/api/v1/seller/fulfilment/inbound-shipments"): (C, Resource.FULFILMENT),
    ("GET", "/api/v1/seller/fulfilment/inbound-shipments"): (R, Resource.FULFILMENT),
    ("GET", "/api/v1/seller/fulfilment/fees"): (R, Resource.FULFILMENT),
    ("POST", "/api/v1/staff/fulfilment/inbound-shipments/{inbound_id}/receive"): (
        U,
        Resource.FULFILMENT,
    ),
    ("POST", "/api/v1/staff/fulfilment/orders/{order_id}/ship"): (U, Resource.FULFILMENT),
    ("GET", "/api/v1/checkout/landed-cost"): (R, Resource.CART),
    ("GET", "/api/v1/seller/performance"): (R, Resource.SELLER_PERFORMANCE),
    ("GET", "/api/v1/seller/performance/history"): (R, Resource.SELLER_PERFORMANCE),
    ("POST", "/api/v1/products/{product_id}/reports"): (C, Resource.LISTING_REPORT),
    ("GET", "/api/v1/trust/cases"): (R, Resource.MODERATION_CASE),
    ("GET", "/api/v1/trust/cases/{case_id}"): (R, Resource.MODERATION_CASE),
    ("POST", "/api/v1/trust/cases/{case_id}/decision"): (X, Resource.MODERATION_CASE),
    ("GET", "/api/v1/trust/appeals"): (R, Resource.STRIKE),
    ("POST", "/api/v1/trust/appeals/{appeal_id}/decision"): (X, Resource.STRIKE),
    ("GET", "/api/v1/seller/strikes"): (R, Resource.STRIKE),
    ("POST", "/api/v1/seller/strikes/{strike_id}/appeal"): (C, Resource.STRIKE),
    ("POST", "/api/v1/trust/brands"): (C, Resource.BRAND),
    ("GET", "/api/v1/trust/brands"): (R, Resource.BRAND),
    ("POST", "/api/v1/trust/brands/{brand_id}/owners"): (U, Resource.BRAND),
    ("GET", "/api/v1/trust/complaints"): (R, Resource.BRAND_COMPLAINT),
    ("POST", "/api/v1/trust/complaints/{complaint_id}/decision"): (X, Resource.BRAND_COMPLAINT),
    ("POST", "/api/v1/trust/brand-authorisations/{authorisation_id}/decision"): (
        X,
        Resource.BRAND_AUTHORISATION,
    ),
    ("GET", "/api/v1/brand-owner/brands"): (R, Resource.BRAND),
    ("GET", "/api/v1/brand-owner/brands/{brand_id}"): (R, Resource.BRAND),
    ("PUT", "/api/v1/brand-owner/brands/{brand_id}/marks"): (U, Resource.BRAND),
    ("POST", "/api/v1/brand-owner/brands/{brand_id}/price-ranges"): (U, Resource.BRAND),
    ("POST", "/api/v1/brand-owner/brands/{brand_id}/images"): (U, Resource.BRAND),
    ("GET", "/api/v1/brand-owner/brands/{brand_id}/mentions"): (R, Resource.BRAND),
    ("POST", "/api/v1/brand-owner/brands/{brand_id}/complaints"): (C, Resource.BRAND_COMPLAINT),
    ("GET", "/api/v1/brand-owner/brands/{brand_id}/complaints"): (R, Resource.BRAND_COMPLAINT),
    ("GET", "/api/v1/brand-owner/brands/{brand_id}/authorisations"): (
        R,
        Resource.BRAND_AUTHORISATION,
    ),
    ("POST", "/api/v1/brand-owner/authorisations/{authorisation_id}/decision"): (
        X,
        Resource.BRAND_AUTHORISATION,
    ),
    ("GET", "/api/v1/seller/brand-authorisations"): (R, Resource.BRAND_AUTHORISATION),
    ("POST", "/api/v1/seller/brand-authorisations"): (C, Resource.BRAND_AUTHORISATION),
    ("GET", "/api/v1/delivery-estimate"): (R, Resource.DELIVERY_ESTIMATE),
    ("GET", "/api/v1/orders/{order_id}/delivery-estimate"): (R, Resource.ORDER),
    ("GET", "/api/v1/staff/logistics/dashboard"): (R, Resource.OPS_DASHBOARD),
    ("GET", "/api/v1/analytics/gmv"): (R, Resource.PLATFORM_ANALYTICS),
    ("GET", "/api/v1/analytics/gmv/tables/{name}.csv"): (R, Resource.PLATFORM_ANALYTICS),
    ("PUT", "/api/v1/analytics/targets/{year}"): (U, Resource.PLATFORM_ANALYTICS),
    ("GET", "/api/v1/seller/analytics"): (R, Resource.SELLER_ANALYTICS),
    ("GET", "/api/v1/seller/analytics/tables/{name}.csv"): (R, Resource.SELLER_ANALYTICS),
    ("PUT", "/api/v1/seller/analytics/targets/{year}/{month}"): (U, Resource.SELLER_ANALYTICS),
    ("GET", "/api/v1/products/{product_id}/reviews"): (R, Resource.REVIEW),
    ("POST", "/api/v1/reviews"): (C, Resource.REVIEW),
    ("PATCH", "/api/v1/reviews/{review_id}"): (U, Resource.REVIEW),
    ("POST", "/api/v1/reviews/{review_id}/photos"): (U, Resource.REVIEW),
    ("POST", "/api/v1/seller/reviews/{review_id}/answer"): (U, Resource.REVIEW),
    ("GET", "/api/v1/staff/reviews/held"): (R, Resource.REVIEW),
    ("POST", "/api/v1/staff/reviews/{review_id}/moderation"): (X, Resource.REVIEW),
    ("POST", "/api/v1/orders/{order_id}/claims"): (C, Resource.CLAIM),
    ("GET", "/api/v1/claims"): (R, Resource.CLAIM),
    ("GET", "/api/v1/claims/{claim_id}"): (R, Resource.CLAIM),
    ("POST", "/api/v1/claims/{claim_id}/evidence"): (C, Resource.CLAIM_EVIDENCE),
    ("GET", "/api/v1/seller/claims"): (R, Resource.CLAIM),
    ("GET", "/api/v1/seller/claims/{claim_id}"): (R, Resource.CLAIM),
    ("POST", "/api/v1/seller/claims/{claim_id}/response"): (U, Resource.CLAIM),
    ("POST", "/api/v1/seller/claims/{claim_id}/evidence"): (C, Resource.CLAIM_EVIDENCE),
    ("GET", "/api/v1/staff/claims"): (R, Resource.CLAIM),
    ("GET", "/api/v1/staff/claims/{claim_id}"): (R, Resource.CLAIM),
    ("POST", "/api/v1/staff/claims/{claim_id}/decision"): (X, Resource.CLAIM),
}


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, full path template, route) of every API route the app serves."""
    found: list[tuple[str, str, APIRoute]] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path
        if not isinstance(route, APIRoute) or not path or not path.startswith("/api/"):
            continue
        for method in sorted(context.methods or ()):
            if method != "HEAD":
                found.append((method, path, route))
    return found


def undeclared_routes(app: FastAPI) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in api_routes(app) if (m, p) not in ROUTES]


def _route_grants(app: Any) -> dict[tuple[int, str], Grant | None]:
    """(id of the route object, method) -> its declared grant, built once per app."""
    cached = getattr(app.state, "route_grants", None)
    if isinstance(cached, dict):
        return cached
    table: dict[tuple[int, str], Grant | None] = {
        (id(route), method): ROUTES.get((method, path)) for method, path, route in api_routes(app)
    }
    app.state.route_grants = table
    return table


def check_declared(app: FastAPI) -> list[tuple[str, str]]:
    """Called at start-up: name every API route the matrix does not know."""
    missing = undeclared_routes(app)
    for method, path in missing:
        log.error("API route not in the permission matrix", extra={"route": f"{method} {path}"})
    return missing


def enforce(request: Request, principal: Principal | None) -> None:
    """Refuse the request if none of the caller's roles holds the route's grant."""
    route = request.scope.get("route")
    if route is None or not request.url.path.startswith("/api/"):
        return
    grant = _route_grants(request.app).get((id(route), request.method))
    if grant is None:
        return  # undeclared: logged at start-up and failed by the matrix test
    action, resource = grant
    if reach(roles_of(principal), action, resource) is not None:
        return
    if principal is None:
        raise Unauthenticated("log in first")
    raise Forbidden(f"your account may not {action.value} {resource.value.replace('_', ' ')}")


def require(action: Action, resource: Resource) -> Callable[..., Principal]:
    """A route dependency for new routes: the caller, once the matrix grants them."""
    import inspect

    from reelshop.security.authz import CurrentPrincipal

    def dependency(principal: Principal) -> Principal:
        if reach(roles_of(principal), action, resource) is None:
            raise Forbidden(
                f"your account may not {action.value} {resource.value.replace('_', ' ')}"
            )
        return principal

    # authz imports this module, so the parameter's type is attached here, resolved.
    dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "principal", inspect.Parameter.KEYWORD_ONLY, annotation=CurrentPrincipal
            )
        ]
    )
    return dependency
