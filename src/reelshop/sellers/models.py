from __future__ import annotations

from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base, CreatedAtMixin
from reelshop.ids import new_id
from reelshop.security.fields import Encrypted


class SellerStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class SellerProfile(CreatedAtMixin, Base):
    """The shop a seller account runs: what shoppers see, and what vetting approved."""

    __tablename__ = "seller_profiles"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("sel"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    legal_name: Mapped[str] = mapped_column(Encrypted("seller_profiles.legal_name"))
    registration_number: Mapped[str | None] = mapped_column(
        Encrypted("seller_profiles.registration_number"), default=None
    )
    country: Mapped[str] = mapped_column(String(2))  # where the business is registered
    ships_from_country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    market_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=SellerStatus.PENDING, index=True)
