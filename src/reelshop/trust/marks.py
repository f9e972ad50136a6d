"""Finding a brand's marks in a listing's text, including the disguises counterfeiters
use: leetspeak ("N1ke", "Gucc1"), a name split by spaces or symbols ("G u c c i",
"N.I.K.E"), misspellings ("Nikee") and the brand's own registered aliases.

Each mention keeps where it was found (field and character span) so the moderation
case view can highlight it, and whether it was a compatibility use ("case for
iPhone", "compatible with Apple Watch"), which is lawful and not a brand claim.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

TOKEN = re.compile(r"[A-Za-z0-9@$]+")
SEPARATORS = re.compile(r"^[\s.\-_*/|·•+~'\"]{1,3}$")
UNIT = re.compile(
    r"^\d+(?:ml|l|g|kg|mm|cm|m|gb|tb|mb|w|v|mah|hz|k|pcs|pc|x|in|oz|lb|lbs|mp|p|s|th|nd|rd|st)?$"
)
LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
COMPATIBILITY = frozenset(
    {"for", "compatible", "compatibility", "fits", "fit", "replacement", "replaces", "works"}
)
# English words a fuzzy match must never turn into a brand ("channel" is not Chanel).
ORDINARY_WORDS = frozenset(
    {
        "channel",
        "channels",
        "nice",
        "bike",
        "like",
        "mike",
        "pike",
        "hike",
        "nuke",
        "pump",
        "prado",
        "door",
        "diet",
        "guide",
        "gucchi",
        "adios",
        "rolled",
        "rolls",
        "coat",
        "couch",
        "gas",
        "gape",
        "apply",
        "maple",
        "ample",
        "guest",
        "puppy",
        "diary",
        "dial",
        "fendi",
        "dove",
        "love",
        "cartier",
        "vance",
        "van",
        "vane",
        "cross",
        "pixel",
        "price",
        "prize",
        "pride",
        "lace",
        "lock",
        "mice",
        "ikea",
    }
)
# Brand names that are also ordinary words: a mention needs brand context.
COMMON_WORD_BRANDS = frozenset(
    {
        "apple",
        "coach",
        "guess",
        "gap",
        "puma",
        "dove",
        "shell",
        "orange",
        "mango",
        "fossil",
        "vans",
        "converse",
        "crocs",
        "amazon",
        "oracle",
        "jaguar",
        "target",
        "monster",
        "beats",
    }
)
UNBRANDED = frozenset(
    {
        "unbranded",
        "generic",
        "no brand",
        "nobrand",
        "non-branded",
        "oem",
        "none",
        "n/a",
        "brandless",
        "no-brand",
    }
)


@dataclass(frozen=True)
class Mark:
    """One name to look for: a brand's name, a registered alias or a product line's
    trademarked name ("AirPods")."""

    brand_id: str
    text: str
    kind: str  # name | alias | product_line

    @property
    def key(self) -> str:
        return "".join(self.words)

    @property
    def words(self) -> list[str]:
        return [normalise(m.group()) for m in TOKEN.finditer(self.text)]


@dataclass(frozen=True)
class Mention:
    brand_id: str
    mark: str
    how: str  # exact | alias | product_line | leetspeak | split | misspelt
    field: str  # title | description | brand
    start: int
    end: int
    matched: str
    compatibility: bool = False
    ratio: float = 100.0

    @property
    def disguised(self) -> bool:
        return self.how in ("leetspeak", "split", "misspelt", "alias")


def normalise(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return ascii_text.lower()


def _token_norm(raw: str) -> str:
    low = normalise(raw)
    if UNIT.match(low):
        return low
    if any(c.isalpha() for c in low) and any(not c.isalpha() for c in low):
        return low.translate(LEET)
    return low


@dataclass
class _Token:
    raw: str
    norm: str
    start: int
    end: int


def tokens(text: str) -> list[_Token]:
    return [
        _Token(m.group(), _token_norm(m.group()), m.start(), m.end()) for m in TOKEN.finditer(text)
    ]


def strip_html(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text or "")).strip()


@dataclass
class _Field:
    name: str
    text: str
    toks: list[_Token] = field(default_factory=list)


def _joinable(text: str, toks: Sequence[_Token]) -> bool:
    """Tokens that could be one word split up: separated by one to three separator
    characters each."""
    return all(
        SEPARATORS.match(text[a.end : b.start]) is not None for a, b in itertools.pairwise(toks)
    )


def _compatibility(toks: list[_Token], index: int) -> bool:
    before = {t.norm for t in toks[max(0, index - 4) : index]}
    return bool(before & COMPATIBILITY)


def find_mentions(
    *,
    title: str,
    description: str,
    brand_text: str | None,
    marks: Sequence[Mark],
    fuzzy_min_ratio: float = 80.0,
) -> list[Mention]:
    """Every mark found in the listing, at most one mention per (mark, field, span)."""
    fields = [_Field("title", title), _Field("description", strip_html(description))]
    if brand_text and normalise(brand_text).strip() not in UNBRANDED:
        fields.append(_Field("brand", brand_text))
    for f in fields:
        f.toks = tokens(f.text)
    found: list[Mention] = []
    # The brand's name is tried before its aliases; product lines are found separately.
    seen: set[tuple[str, str, int]] = set()
    for mark in marks:
        key = mark.key
        words = mark.words
        if len(key) < 2:
            continue
        for f in fields:
            toks = f.toks
            for i in range(len(toks)):
                for n in range(1, min(len(key), len(toks) - i) + 1):
                    window = toks[i : i + n]
                    joined = "".join(t.norm for t in window)
                    if len(joined) > len(key) + 2:
                        break
                    if n > 1 and not _joinable(f.text, window):
                        break
                    how = _classify(window, joined, key, words, mark, fuzzy_min_ratio)
                    if how is None:
                        continue
                    group = "line" if mark.kind == "product_line" else "name"
                    spot = (mark.brand_id + group, f.name, window[0].start)
                    if spot in seen:
                        continue
                    seen.add(spot)
                    found.append(
                        Mention(
                            brand_id=mark.brand_id,
                            mark=mark.text,
                            how=how[0],
                            field=f.name,
                            start=window[0].start,
                            end=window[-1].end,
                            matched=f.text[window[0].start : window[-1].end],
                            compatibility=f.name != "brand" and _compatibility(toks, i),
                            ratio=how[1],
                        )
                    )
    return found


def _classify(
    window: list[_Token],
    joined: str,
    key: str,
    words: list[str],
    mark: Mark,
    fuzzy_min_ratio: float,
) -> tuple[str, float] | None:
    n = len(window)
    raws = [normalise(t.raw) for t in window]
    if joined == key:
        leet = any(t.norm != normalise(t.raw) for t in window)
        if leet:
            return ("leetspeak", 100.0)
        if n > max(len(words), 1) or (n > 1 and raws != words):
            if n > 1 and any(len(t.norm) > 3 for t in window) and len(words) == 1:
                return None  # two real words that happen to spell the brand
            return ("split", 100.0)
        if mark.kind == "alias":
            return ("alias", 100.0)
        return ("product_line" if mark.kind == "product_line" else "exact", 100.0)
    if mark.kind != "name" or n > len(words) or len(key) < 4:
        return None
    if joined in ORDINARY_WORDS or abs(len(joined) - len(key)) > 2 or joined[0] != key[0]:
        return None
    if len(joined) < 4:
        return None
    ratio = float(fuzz.ratio(joined, key))
    if ratio >= fuzzy_min_ratio:
        return ("misspelt", ratio)
    return None
