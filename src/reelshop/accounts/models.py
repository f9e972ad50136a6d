from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reelshop.db import Base, CreatedAtMixin
from reelshop.ids import new_id
from reelshop.security.fields import Encrypted


class Role(StrEnum):
    SHOPPER = "shopper"
    SELLER = "seller"
    CREATOR = "creator"
    STAFF = "staff"


class StaffPermission(StrEnum):
    TRUST_SAFETY = "trust_safety"
    SUPPORT = "support"
    FINANCE = "finance"
    ADMIN = "admin"


class User(CreatedAtMixin, Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("usr"))
    # Looked up by keyed hash of the normalised address; the address itself is sealed.
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(Encrypted("users.email"))
    name: Mapped[str] = mapped_column(Encrypted("users.name"))
    phone: Mapped[str | None] = mapped_column(Encrypted("users.phone"), default=None)
    handle: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), index=True)
    staff_permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"))
    locale: Mapped[str] = mapped_column(String(16), default="en_US")
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bumped to end every session of this user at once (password change, "log out everywhere").
    session_version: Mapped[int] = mapped_column(default=1)

    addresses: Mapped[list[Address]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Address.created_at"
    )

    def has_permission(self, permission: StaffPermission) -> bool:
        if self.role != Role.STAFF:
            return False
        return (
            StaffPermission.ADMIN in self.staff_permissions or permission in self.staff_permissions
        )


class Address(CreatedAtMixin, Base):
    __tablename__ = "addresses"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("adr"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(Encrypted("addresses.recipient"))
    line1: Mapped[str] = mapped_column(Encrypted("addresses.line1"))
    line2: Mapped[str | None] = mapped_column(Encrypted("addresses.line2"), default=None)
    city: Mapped[str] = mapped_column(Encrypted("addresses.city"))
    region: Mapped[str] = mapped_column(Encrypted("addresses.region"))
    postal_code: Mapped[str] = mapped_column(Encrypted("addresses.postal_code"))
    phone: Mapped[str | None] = mapped_column(Encrypted("addresses.phone"), default=None)
    # The country routes shipping, tax and residency; it stays readable.
    country: Mapped[str] = mapped_column(String(2))
    is_default: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(back_populates="addresses")


class ApiToken(CreatedAtMixin, Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("tok"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # SHA-256 of a 256-bit random secret: a fast hash is enough for that much entropy.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display_prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginThrottle(Base):
    """Failure counters and lock-outs, keyed by account+client, account, or client."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class TotpFactor(CreatedAtMixin, Base):
    """A user's authenticator-app second factor (RFC 6238), one per user.

    The shared secret is sealed like any personal data. ``last_step`` is the newest
    30-second time step a code was accepted for: a code is refused unless its step is
    newer, so an observed code cannot be replayed inside its window."""

    __tablename__ = "totp_factors"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(Encrypted("totp_factors.secret"))
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)


class RecoveryCode(CreatedAtMixin, Base):
    """A one-time code for when the authenticator is lost; stored as a SHA-256 hash
    (each code carries 59 random bits, too many to brute-force a hash of)."""

    __tablename__ = "totp_recovery_codes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("rcv"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class PendingSecondFactor(Base):
    """A log-in that passed the password and waits for its TOTP code.

    The browser or API client holds only the random ticket; its hash is the key.
    Tickets live five minutes and allow five code attempts."""

    __tablename__ = "pending_second_factors"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
