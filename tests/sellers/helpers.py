"""Shared arrangements for the seller-vetting tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role, StaffPermission, User
from reelshop.markets.models import Market
from reelshop.sellers.samples import sample_pdf, sample_png
from tests.factories import api_login, make_staff, make_user

PDF = sample_pdf("Business licence", ["Registration 91440300MA5F8XK21Q"])
PNG = sample_png()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64


def set_onboarding_mode(session: Session, mode: str, code: str = "US") -> None:
    market = session.get(Market, code)
    assert market is not None
    market.onboarding_mode = mode
    session.commit()


def add_open_market(session: Session, code: str = "GB") -> None:
    session.add(
        Market(
            code=code,
            name="United Kingdom",
            currency="GBP",
            default_locale="en_GB",
            locales=["en_GB"],
            timezone="Europe/London",
            onboarding_mode="open",
            rollout_stage="pilot",
        )
    )
    session.commit()


def details(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "display_name": "Lumi Electronics",
        "legal_name": "Shenzhen Lumi Electronics Co., Ltd.",
        "registration_number": "91440300MA5F8XK21Q",
        "country": "CN",
        "ships_from_country": "CN",
        "categories": ["electronics", "phone-accessories"],
        "market_codes": ["US"],
    }
    body.update(overrides)
    return body


def files(**overrides: Any) -> dict[str, Any]:
    chosen: dict[str, Any] = {
        "business_licence": ("licence.pdf", PDF, "application/pdf"),
        "identity_document": ("passport.png", PNG, "image/png"),
    }
    chosen.update(overrides)
    return {k: v for k, v in chosen.items() if v is not None}


def seller_with_token(client: TestClient, session: Session) -> tuple[User, dict[str, str]]:
    user = make_user(session, role=Role.SELLER)
    return user, api_login(client, user.email)


def trust_staff(client: TestClient, session: Session) -> tuple[User, dict[str, str]]:
    staff = make_staff(session, StaffPermission.TRUST_SAFETY)
    return staff, api_login(client, staff.email)


def apply(
    client: TestClient,
    headers: dict[str, str],
    *,
    data: dict[str, Any] | None = None,
    upload: dict[str, Any] | None = None,
) -> Any:
    return client.post(
        "/api/v1/seller-applications",
        data=data if data is not None else details(),
        files=upload if upload is not None else files(),
        headers=headers,
    )
