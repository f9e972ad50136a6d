"""argon2id password hashing (argon2-cffi's RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from reelshop.security.password_policy import MAX_LENGTH, MIN_LENGTH, password_problem

_hasher = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4 by default


def use_cheap_hashing_for_tests() -> None:
    """Still argon2id, with the smallest cost: tests create many accounts."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)


# The rules for new passwords live in password_policy; re-exported for older imports.
__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "burn_verify_time",
    "hash_password",
    "needs_rehash",
    "password_problem",
    "use_cheap_hashing_for_tests",
    "verify_password",
]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


_DUMMY_HASH = _hasher.hash("reelshop-timing-equaliser")


def burn_verify_time(password: str) -> None:
    """Spend a verify's worth of time when the account does not exist (no user enumeration)."""
    verify_password(_DUMMY_HASH, password)
