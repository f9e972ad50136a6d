from __future__ import annotations

from enum import StrEnum

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base


class OnboardingMode(StrEnum):
    INVITE_ONLY = "invite_only"
    OPEN = "open"


class RolloutStage(StrEnum):
    CLOSED = "closed"
    PILOT = "pilot"
    LIVE = "live"


class Market(Base):
    """A country the platform sells in, described as data."""

    __tablename__ = "markets"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)  # ISO 3166-1 alpha-2
    name: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(3))  # ISO 4217
    default_locale: Mapped[str] = mapped_column(String(16))
    locales: Mapped[list[str]] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(64))
    onboarding_mode: Mapped[str] = mapped_column(String(16))
    rollout_stage: Mapped[str] = mapped_column(String(16))
    handling_days: Mapped[int] = mapped_column(default=2)
