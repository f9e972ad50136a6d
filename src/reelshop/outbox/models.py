from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base, CreatedAtMixin, utcnow
from reelshop.ids import new_id


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for the relay (new, or due for a retry)
    QUEUED = "queued"  # handed to the task queue; re-queued if not done in time
    DELIVERED = "delivered"  # every handler succeeded
    DEAD = "dead"  # gave up after max attempts; see last_error, replay by hand


class OutboxEvent(CreatedAtMixin, Base):
    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("evt"))
    topic: Mapped[str] = mapped_column(String(80), index=True)  # "domain.past_tense_verb"
    subject_id: Mapped[str | None] = mapped_column(String(40), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    handlers_done: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
