from __future__ import annotations

from collections.abc import Iterator

import pytest

from reelshop.feed import service


@pytest.fixture(autouse=True)
def _fresh_feed_caches() -> Iterator[None]:
    """Each test has its own database; the process-wide feed caches must not leak ids."""
    service.clear_caches()
    yield
    service.clear_caches()
