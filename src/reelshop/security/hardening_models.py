"""Tables of the web hardening: envelope data keys and rate-limit counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base, CreatedAtMixin


class DataKey(CreatedAtMixin, Base):
    """A per-market data-encryption key, stored wrapped (AES-GCM) by a master key.

    Master keys come from settings and never touch the database; data keys are
    random, live here sealed, and are what personal-data columns are encrypted with.
    Rotating a data key re-encrypts rows; rotating a master key only re-wraps these
    few rows. ``state``: ``active`` (encrypts new values of its market), ``retiring``
    (still opens values, being re-encrypted away), ``retired`` (no value uses it)."""

    __tablename__ = "field_data_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    market_code: Mapped[str] = mapped_column(String(8), index=True)
    master_key_id: Mapped[str] = mapped_column(String(40))
    wrapped_key: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), index=True)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)


class RateCounter(Base):
    """Hits of one limiter key in its current fixed window."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime]
    hits: Mapped[int] = mapped_column(default=0)
