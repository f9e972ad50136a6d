"""API token scopes, and which scopes each role may hold."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reelshop.accounts.models import User


class Scope(StrEnum):
    PROFILE_READ = "profile:read"
    PROFILE_WRITE = "profile:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"  # sellers: their own listings
    VIDEOS_WRITE = "videos:write"  # sellers and creators
    STAFF = "staff"  # staff actions, still limited by the staff member's permissions


_BASE = {
    Scope.PROFILE_READ,
    Scope.PROFILE_WRITE,
    Scope.ORDERS_READ,
    Scope.ORDERS_WRITE,
    Scope.CATALOG_READ,
}
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "shopper": frozenset(_BASE),
    "creator": frozenset(_BASE | {Scope.VIDEOS_WRITE}),
    "seller": frozenset(_BASE | {Scope.CATALOG_WRITE, Scope.VIDEOS_WRITE}),
    "staff": frozenset(_BASE | {Scope.STAFF}),
}


def scopes_for(user: User) -> frozenset[str]:
    return ROLE_SCOPES.get(user.role, frozenset())
