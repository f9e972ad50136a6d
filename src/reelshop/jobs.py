"""Imports every domain's outbox handlers and periodic jobs so the worker knows them."""

from reelshop.accounts import jobs as accounts_jobs
from reelshop.analytics import jobs as analytics_jobs
from reelshop.catalog import jobs as catalog_jobs
from reelshop.catalog import search_jobs as catalog_search_jobs
from reelshop.checkout import jobs as checkout_jobs
from reelshop.feed import jobs as feed_jobs
from reelshop.logistics import fulfilment_jobs as logistics_fulfilment_jobs
from reelshop.logistics import jobs as logistics_jobs
from reelshop.logistics import promise_jobs as logistics_promise_jobs
from reelshop.notifications import jobs as notifications_jobs
from reelshop.payments import jobs as payments_jobs
from reelshop.privacy import jobs as privacy_jobs
from reelshop.security import rotation_jobs as security_rotation_jobs
from reelshop.sellers import jobs as sellers_jobs
from reelshop.trust import jobs as trust_jobs
from reelshop.trust import protection_jobs as trust_protection_jobs

__all__ = [
    "accounts_jobs",
    "analytics_jobs",
    "catalog_jobs",
    "catalog_search_jobs",
    "checkout_jobs",
    "feed_jobs",
    "logistics_fulfilment_jobs",
    "logistics_jobs",
    "logistics_promise_jobs",
    "notifications_jobs",
    "payments_jobs",
    "privacy_jobs",
    "security_rotation_jobs",
    "sellers_jobs",
    "trust_jobs",
    "trust_protection_jobs",
]
