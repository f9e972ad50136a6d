"""What a new password must be: long enough, not common, not the account's own name.

Length is what makes a password hard to guess (NIST SP 800-63B); composition rules
("one digit, one symbol") mostly produce ``Password1!``. So the rules are: 12 to 128
characters, not in the bundled list of ~28,000 passwords seen most often in public
breaches (also not one of them with a few digits or symbols tacked on), not built on
the email's local part, and not one character or a short pattern repeated.

The list ships with the package (``security/data/common_passwords.txt.gz``): nothing
is fetched at run time and no password leaves the process.
"""

from __future__ import annotations

import gzip
import unicodedata
from functools import lru_cache
from importlib import resources

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_DISTINCT_CHARACTERS = 5
# A common password with at most this many digits/symbols added still counts as common.
_PADDING = 6
_LIST = "common_passwords.txt.gz"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    raw = resources.files("reelshop.security").joinpath("data", _LIST).read_bytes()
    lines = gzip.decompress(raw).decode().splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _strip_padding(text: str) -> str:
    """'iloveyou2024!' -> 'iloveyou': the stem people pad to pass length rules."""
    stem = text
    while stem and not stem[-1].isalpha():
        stem = stem[:-1]
    while stem and not stem[0].isalpha():
        stem = stem[1:]
    return stem


def _is_repetition(text: str) -> bool:
    """'abcabcabcabc', 'zzzzzzzzzzzz': a short unit repeated."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return True
    return False


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why a new password is refused (a sentence for the user), or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"use at most {MAX_LENGTH} characters"
    folded = _fold(password)
    common = common_passwords()
    squashed = folded.replace(" ", "")
    if folded in common or squashed in common:
        return "this is a common password found in breached password lists; choose another"
    stem = _strip_padding(squashed)
    if stem != squashed and len(squashed) - len(stem) <= _PADDING and stem in common:
        return "this is a common breached password with a few characters added; choose another"
    if len(set(folded)) < MIN_DISTINCT_CHARACTERS or _is_repetition(folded):
        return "this password repeats too few characters; use a longer phrase"
    if email:
        local = _fold(email.partition("@")[0])
        if len(local) >= 3 and local in folded:
            return "the password must not contain your email address"
    return None
