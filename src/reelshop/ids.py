"""Opaque, unguessable public ids: a readable prefix and 128 random bits.

``usr_4f9k2...`` tells a support agent what kind of thing an id names, and
nothing about how many there are or which came first.
"""

from __future__ import annotations

import re
import secrets

_ALPHABET = "0123456789abcdefghijkmnopqrstuvwxyz"  # no "l", easy to read aloud
_LENGTH = 25  # 35**25 > 2**128
_PREFIX = re.compile(r"^[a-z]{2,5}$")


def new_id(prefix: str) -> str:
    if not _PREFIX.match(prefix):
        raise ValueError(f"bad id prefix {prefix!r}")
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    return f"{prefix}_{body}"


def looks_like(prefix: str, value: str) -> bool:
    """Cheap shape check before a lookup: right prefix, right length and alphabet."""
    head, sep, body = value.partition("_")
    return (
        sep == "_" and head == prefix and len(body) == _LENGTH and all(c in _ALPHABET for c in body)
    )
