"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from reelshop.accounts import models as accounts_models
from reelshop.analytics import models as analytics_models
from reelshop.catalog import import_models as catalog_import_models
from reelshop.catalog import models as catalog_models
from reelshop.catalog import search_models as catalog_search_models
from reelshop.checkout import models as checkout_models
from reelshop.feed import models as feed_models
from reelshop.feed import monetisation_models as feed_monetisation_models
from reelshop.inventory import models as inventory_models
from reelshop.logistics import customs_models as logistics_customs_models
from reelshop.logistics import estimate_models as logistics_estimate_models
from reelshop.logistics import fulfilment_models as logistics_fulfilment_models
from reelshop.logistics import models as logistics_models
from reelshop.logistics import performance_models as logistics_performance_models
from reelshop.markets import models as markets_models
from reelshop.notifications import models as notifications_models
from reelshop.outbox import models as outbox_models
from reelshop.payments import models as payments_models
from reelshop.security import hardening_models as security_hardening_models
from reelshop.security import models as security_models
from reelshop.sellers import models as sellers_models
from reelshop.trust import claim_models as trust_claim_models
from reelshop.trust import models as trust_models
from reelshop.trust import review_models as trust_review_models

__all__ = [
    "accounts_models",
    "analytics_models",
    "catalog_import_models",
    "catalog_models",
    "catalog_search_models",
    "checkout_models",
    "feed_models",
    "feed_monetisation_models",
    "inventory_models",
    "logistics_customs_models",
    "logistics_estimate_models",
    "logistics_fulfilment_models",
    "logistics_models",
    "logistics_performance_models",
    "markets_models",
    "notifications_models",
    "outbox_models",
    "payments_models",
    "security_hardening_models",
    "security_models",
    "sellers_models",
    "trust_claim_models",
    "trust_models",
    "trust_review_models",
]
