"""Days carriers do not collect, per country (data; extend per market)."""

from __future__ import annotations

from datetime import date

HOLIDAYS: dict[str, frozenset[date]] = {
    "US": frozenset(
        {
            date(2026, 1, 1),
            date(2026, 1, 19),
            date(2026, 2, 16),
            date(2026, 5, 25),
            date(2026, 6, 19),
            date(2026, 7, 3),
            date(2026, 9, 7),
            date(2026, 10, 12),
            date(2026, 11, 11),
            date(2026, 11, 26),
            date(2026, 12, 25),
            date(2027, 1, 1),
        }
    ),
}
