"""argon2id password hashing (argon2-cffi's RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4 by default


def use_cheap_hashing_for_tests() -> None:
    """Still argon2id, with the smallest cost: tests create many accounts."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)


MIN_LENGTH = 10
MAX_LENGTH = 128

# A few of the most common leaked passwords; the full breach check comes with the
# security hardening work. Kept lowercase.
_COMMON = frozenset(
    {
        "password12",
        "1234567890",
        "qwertyuiop",
        "password123",
        "iloveyou12",
        "0987654321",
        "1q2w3e4r5t",
        "qwerty1234",
        "letmein123",
        "welcome123",
        "passw0rd12",
        "abcdefghij",
        "1111111111",
        "123456789a",
        "reelshop123",
    }
)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"use at most {MAX_LENGTH} characters"
    if password.lower() in _COMMON:
        return "this password is too common"
    return None


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
