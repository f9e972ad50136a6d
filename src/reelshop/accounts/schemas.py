from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from reelshop.security.passwords import MAX_LENGTH, MIN_LENGTH


class SignUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)
    name: str = Field(min_length=1, max_length=120)
    role: Literal["shopper", "seller", "creator"] = "shopper"
    market: str = Field(default="US", min_length=2, max_length=2)
    handle: str | None = Field(default=None, pattern=r"^[a-z0-9_.]{3,30}$")


class LogInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=1, max_length=MAX_LENGTH)
    token_name: str = Field(default="api log-in", max_length=80)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str
    handle: str | None
    role: str
    staff_permissions: list[str]
    market_code: str
    locale: str
    created_at: datetime


class TokenCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    scopes: list[str] | None = Field(default=None, max_length=20)
    ttl_days: int | None = Field(default=None, ge=1, le=365)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    display_prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class IssuedTokenOut(BaseModel):
    token: TokenOut
    secret: str = Field(description="Shown once. Send as 'Authorization: Bearer <secret>'.")


class LogInOut(BaseModel):
    user: UserOut
    token: TokenOut
    secret: str


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient: str = Field(min_length=1, max_length=120)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=2, max_length=20)
    country: str = Field(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9 ()\-]{5,30}$")
    make_default: bool = False


class AddressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    recipient: str
    line1: str
    line2: str | None
    city: str
    region: str
    postal_code: str
    country: str
    phone: str | None
    is_default: bool


class SecondFactorChallengeOut(BaseModel):
    second_factor_required: Literal[True] = True
    ticket: str = Field(description="Send with a code to POST /api/v1/auth/login/totp.")
    expires_in_s: int


class SecondFactorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket: str = Field(min_length=1, max_length=100)
    code: str = Field(
        min_length=6, max_length=20, description="6-digit app code or a recovery code"
    )
    token_name: str = Field(default="api log-in", max_length=80)


class TotpStatusOut(BaseModel):
    available: bool
    enabled: bool
    pending: bool
    recovery_codes_left: int


class TotpEnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_data_uri: str


class TotpCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=6, max_length=20)


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="Shown once; each works one time.")


class TotpDisableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=MAX_LENGTH)
    code: str = Field(min_length=6, max_length=20)


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=MAX_LENGTH)
    new_password: str = Field(min_length=1, max_length=MAX_LENGTH)
