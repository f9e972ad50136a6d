"""Public ids: a readable prefix and 128 random bits, never sequential."""

from __future__ import annotations

import pytest

from reelshop.ids import looks_like, new_id


def test_shape_and_prefix() -> None:
    value = new_id("usr")
    head, _, body = value.partition("_")
    assert head == "usr" and len(body) == 25
    assert looks_like("usr", value)
    assert not looks_like("ord", value)


def test_ids_are_unique_and_not_ordered() -> None:
    ids = [new_id("ord") for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert ids != sorted(ids)
    # 25 characters from a 35-letter alphabet: every position varies.
    for position in range(4, 29):
        assert len({i[position] for i in ids}) > 20


@pytest.mark.parametrize("prefix", ["", "u", "USR", "toolong", "us-r", "1ab"])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError):
        new_id(prefix)


@pytest.mark.parametrize(
    "value",
    ["", "usr", "usr_", "usr_short", "usr_" + "l" * 25, "usr_" + "A" * 25, "usr-" + "a" * 25],
)
def test_looks_like_rejects_malformed(value: str) -> None:
    assert not looks_like("usr", value)
