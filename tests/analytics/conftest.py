from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reelshop.analytics import events
from reelshop.config import Settings


@pytest.fixture
def analytics_root(settings: Settings) -> Iterator[Path]:
    """This process's event writer pointed at the test's own folder."""
    events.configure(settings.analytics_path, flush_interval_s=3600)
    yield settings.analytics_path
    events.shutdown()
