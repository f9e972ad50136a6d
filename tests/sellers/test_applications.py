"""Applying to sell: onboarding modes, invitations, documents, privacy of applications."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from reelshop.config import Settings
from reelshop.db import utcnow
from reelshop.outbox.models import OutboxEvent
from reelshop.sellers import service as sellers
from reelshop.sellers.documents import MAX_DOCUMENT_BYTES
from reelshop.sellers.models import SellerApplication, SellerDocument, SellerInvitation
from tests.factories import make_user
from tests.sellers.helpers import (
    PDF,
    PNG,
    add_open_market,
    apply,
    details,
    files,
    seller_with_token,
    set_onboarding_mode,
    trust_staff,
)


def kyc_objects(settings: Settings) -> list[Path]:
    root = settings.data_dir / "media" / "kyc"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def count(session: Session, model: type) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_apply_in_open_market(client: TestClient, session: Session, settings: Settings) -> None:
    set_onboarding_mode(session, "open")
    user, headers = seller_with_token(client, session)
    response = apply(client, headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "submitted" and body["id"].startswith("apl_")
    assert body["legal_name"] == "Shenzhen Lumi Electronics Co., Ltd."
    assert sorted(d["kind"] for d in body["documents"]) == ["business_licence", "identity"]
    assert [d["outcome"] for d in body["decisions"]] == ["submitted"]
    assert body["decisions"][0]["actor_id"] == user.id

    # KYC fields are ciphertext in the database, and so are the stored document bytes.
    raw = session.execute(
        text("SELECT legal_name, registration_number FROM seller_applications")
    ).one()
    assert "Lumi" not in raw[0] and "91440300" not in raw[1]
    raw_key = session.execute(text("SELECT storage_key FROM seller_documents")).scalars().first()
    assert raw_key is not None and "kyc/" not in raw_key
    stored = kyc_objects(settings)
    assert len(stored) == 2
    assert all(b"%PDF" not in p.read_bytes() and b"PNG" not in p.read_bytes() for p in stored)

    # The applicant downloads the original bytes, as an attachment.
    doc = next(d for d in body["documents"] if d["kind"] == "business_licence")
    download = client.get(
        f"/api/v1/seller-applications/{body['id']}/documents/{doc['id']}", headers=headers
    )
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == 'attachment; filename="licence.pdf"'
    assert download.headers["x-content-type-options"] == "nosniff"

    topics = session.scalars(select(OutboxEvent.topic)).all()
    assert "seller.application_submitted" in topics
    again = apply(client, headers)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/seller-application-exists"


def test_invite_only_market_refuses_without_invitation(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _, headers = seller_with_token(client, session)
    response = apply(client, headers)
    assert response.status_code == 403
    problem = response.json()
    assert problem["type"] == "/problems/seller-invitation-required"
    assert "invitation" in problem["detail"]
    assert count(session, SellerApplication) == 0
    assert kyc_objects(settings) == []


def test_open_market_beside_invite_only_one(client: TestClient, session: Session) -> None:
    add_open_market(session, "GB")
    _, headers = seller_with_token(client, session)
    assert apply(client, headers, data=details(market_codes=["GB", "US"])).status_code == 403
    response = apply(client, headers, data=details(market_codes=["GB"]))
    assert response.status_code == 201, response.text
    assert response.json()["market_codes"] == ["GB"]


def test_invitation_lets_the_invited_business_apply_once(
    client: TestClient, session: Session
) -> None:
    staff, staff_headers = trust_staff(client, session)
    user, headers = seller_with_token(client, session)
    invite = client.post(
        "/api/v1/staff/seller-invitations",
        json={"email": user.email.upper(), "business_name": "Lumi Electronics", "market": "US"},
        headers=staff_headers,
    )
    assert invite.status_code == 201, invite.text
    token = invite.json()["token"]
    assert len(token) >= 40 and invite.json()["apply_url"].endswith(token)
    stored = session.scalars(select(SellerInvitation)).one()
    assert token not in stored.token_hash and stored.invited_by == staff.id

    # Someone else holding the link cannot use it.
    _, other_headers = seller_with_token(client, session)
    stolen = apply(client, other_headers, data=details(invitation_token=token))
    assert stolen.status_code == 403
    assert stolen.json()["type"] == "/problems/seller-invitation-invalid"

    # A failed attempt (bad document) does not use the invitation up.
    bad = apply(
        client,
        headers,
        data=details(invitation_token=token),
        upload=files(identity_document=("id.pdf", b"GIF89a not really", "application/pdf")),
    )
    assert bad.status_code == 415
    session.rollback()
    assert session.scalars(select(SellerInvitation)).one().used_at is None

    ok = apply(client, headers, data=details(invitation_token=token))
    assert ok.status_code == 201, ok.text
    assert ok.json()["invitation_id"] == stored.id
    session.rollback()
    assert session.scalars(select(SellerInvitation)).one().used_at is not None
    assert sellers.find_invitation(session=session, token=token) is None
    listed = client.get("/api/v1/staff/seller-invitations", headers=staff_headers).json()
    assert [i["state"] for i in listed] == ["used"]


def test_invitation_is_single_use_even_after_the_application_is_gone(
    client: TestClient, session: Session
) -> None:
    staff, _ = trust_staff(client, session)
    user, headers = seller_with_token(client, session)
    issued = sellers.invite_seller(
        session=session, staff=staff, email=user.email, business_name="Lumi", market_code="US"
    )
    session.commit()
    assert apply(client, headers, data=details(invitation_token=issued.token)).status_code == 201
    # Even if the first application were withdrawn, the used token stays used.
    session.execute(text("DELETE FROM seller_application_decisions"))
    session.execute(text("DELETE FROM seller_documents"))
    session.execute(text("DELETE FROM seller_applications"))
    session.commit()
    again = apply(client, headers, data=details(invitation_token=issued.token))
    assert again.status_code == 403
    assert again.json()["type"] == "/problems/seller-invitation-invalid"


def test_expired_and_revoked_invitations_are_refused(client: TestClient, session: Session) -> None:
    staff, staff_headers = trust_staff(client, session)
    user, headers = seller_with_token(client, session)
    expired = sellers.invite_seller(
        session=session,
        staff=staff,
        email=user.email,
        business_name="Lumi",
        market_code="US",
        ttl=timedelta(seconds=-1),
    )
    revoked = sellers.invite_seller(
        session=session, staff=staff, email=user.email, business_name="Lumi", market_code="US"
    )
    session.commit()
    response = client.post(
        f"/api/v1/staff/seller-invitations/{revoked.invitation.id}/revoke", headers=staff_headers
    )
    assert response.status_code == 200 and response.json()["state"] == "revoked"
    for token in (expired.token, revoked.token, "made-up-token"):
        refused = apply(client, headers, data=details(invitation_token=token))
        assert refused.status_code == 403, token
        assert refused.json()["type"] == "/problems/seller-invitation-invalid"
    assert count(session, SellerApplication) == 0
    assert sellers.invitation_state(expired.invitation, now=utcnow()) == "expired"


@pytest.mark.parametrize(
    ("upload", "status", "problem"),
    [
        # HTML named .pdf: the bytes decide, not the name or the declared type.
        (
            {"business_licence": ("licence.pdf", b"<html><script>x</script>", "application/pdf")},
            415,
            "unsupported-media-type",
        ),
        (
            {"identity_document": ("id.png", b"\x89PNG\r\n\x1a\nnot-a-png", "image/png")},
            415,
            "unsupported-media-type",
        ),
        (
            {
                "business_licence": (
                    "big.pdf",
                    b"%PDF-1.4\n" + b"0" * MAX_DOCUMENT_BYTES,
                    "application/pdf",
                )
            },
            413,
            "payload-too-large",
        ),
        ({"business_licence": ("empty.pdf", b"", "application/pdf")}, 422, "validation-error"),
        ({"identity_document": None}, 422, "validation-error"),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_written(
    client: TestClient,
    session: Session,
    settings: Settings,
    upload: dict[str, object],
    status: int,
    problem: str,
) -> None:
    set_onboarding_mode(session, "open")
    _, headers = seller_with_token(client, session)
    response = apply(client, headers, upload=files(**upload))
    assert response.status_code == status, response.text
    assert response.json()["type"] == f"/problems/{problem}"
    assert count(session, SellerApplication) == 0
    assert count(session, SellerDocument) == 0
    assert kyc_objects(settings) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"country": "XX"},
        {"ships_from_country": "cn1"},
        {"categories": ["weapons"]},
        {"market_codes": ["ZZ"]},
        {"legal_name": " "},
        {"registration_number": "1"},
    ],
)
def test_bad_details_are_refused(
    client: TestClient, session: Session, settings: Settings, bad: dict[str, object]
) -> None:
    set_onboarding_mode(session, "open")
    _, headers = seller_with_token(client, session)
    response = apply(client, headers, data=details(**bad))
    assert 400 <= response.status_code < 500, response.text
    assert count(session, SellerApplication) == 0
    assert kyc_objects(settings) == []


def test_only_seller_accounts_apply(client: TestClient, session: Session) -> None:
    from tests.factories import api_login

    shopper = make_user(session)
    response = apply(client, api_login(client, shopper.email))
    assert response.status_code == 403


def test_applicants_see_only_their_own_application(client: TestClient, session: Session) -> None:
    set_onboarding_mode(session, "open")
    _, headers = seller_with_token(client, session)
    body = apply(client, headers).json()
    _, other = seller_with_token(client, session)
    assert client.get(f"/api/v1/seller-applications/{body['id']}", headers=other).status_code == 404
    doc_id = body["documents"][0]["id"]
    download = client.get(
        f"/api/v1/seller-applications/{body['id']}/documents/{doc_id}", headers=other
    )
    assert download.status_code == 404
    assert client.get("/api/v1/seller-applications", headers=other).json() == []
    mine = client.get(f"/api/v1/seller-applications/{body['id']}", headers=headers)
    assert mine.status_code == 200
    # Staff without the trust & safety permission are treated like anyone else.
    from reelshop.accounts.models import StaffPermission
    from tests.factories import api_login, make_staff

    support = make_staff(session, StaffPermission.SUPPORT)
    support_headers = api_login(client, support.email)
    assert (
        client.get(f"/api/v1/seller-applications/{body['id']}", headers=support_headers).status_code
        == 404
    )
    _, reviewer = trust_staff(client, session)
    seen = client.get(
        f"/api/v1/seller-applications/{body['id']}/documents/{doc_id}?reason=kyc_review",
        headers=reviewer,
    )
    assert seen.status_code == 200 and seen.content in (PDF, PNG)


def test_existing_sellers_cannot_apply_again(client: TestClient, session: Session) -> None:
    from reelshop.sellers.models import SellerStatus
    from tests.factories import api_login, make_seller

    set_onboarding_mode(session, "open")
    for status, expected in ((SellerStatus.APPROVED, 409), (SellerStatus.SUSPENDED, 403)):
        user, _ = make_seller(session, status=status)
        response = apply(client, api_login(client, user.email))
        assert response.status_code == expected, response.text
    assert count(session, SellerApplication) == 0
