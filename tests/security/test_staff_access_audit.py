"""Staff reads of personal data need a reason and are audited; admins read the log."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role, StaffPermission
from reelshop.security.models import AuditEntry
from reelshop.sellers import service as sellers
from reelshop.sellers.models import SellerApplication
from reelshop.sellers.samples import sample_pdf, sample_png
from tests.factories import api_login, make_staff, make_user, page_login
from tests.sellers.helpers import set_onboarding_mode


def _application(session: Session) -> tuple[SellerApplication, str]:
    set_onboarding_mode(session, "open")
    applicant = make_user(session, role=Role.SELLER, name="Kyc Person", commit=False)
    application = sellers.submit_application(
        session=session,
        applicant=applicant,
        details=sellers.BusinessDetails(
            display_name="Audited Goods",
            legal_name="Audited Goods Pty Ltd",
            registration_number="91440101MA5CK2P31R",
            country="US",
            ships_from_country="US",
            categories=["electronics"],
            market_codes=["US"],
        ),
        uploads=[
            sellers.DocumentUpload(
                kind="business_licence", filename="l.pdf", data=sample_pdf("Licence", ["x"])
            ),
            sellers.DocumentUpload(kind="identity", filename="i.png", data=sample_png()),
        ],
    )
    session.commit()
    return application, applicant.email


def _reads(session: Session, target_id: str) -> list[AuditEntry]:
    session.rollback()  # a fresh snapshot: the requests committed in their own sessions
    return list(
        session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "pii.read", AuditEntry.target_id == target_id
            )
        )
    )


def test_staff_api_read_needs_a_reason_and_is_audited(client: TestClient, session: Session) -> None:
    application, applicant_email = _application(session)
    reviewer = make_staff(session, StaffPermission.TRUST_SAFETY)
    headers = api_login(client, reviewer.email)
    url = f"/api/v1/staff/seller-applications/{application.id}"

    for bad in ("", "?reason=", "?reason=curiosity", "?reason=" + "x" * 41):
        refused = client.get(url + bad, headers=headers)
        assert refused.status_code == 422, (bad, refused.text)
        assert "Audited Goods Pty Ltd" not in refused.text
    assert _reads(session, application.id) == []

    seen = client.get(url + "?reason=kyc_review", headers=headers)
    assert seen.status_code == 200 and seen.json()["legal_name"] == "Audited Goods Pty Ltd"
    (entry,) = _reads(session, application.id)
    assert entry.actor_id == reviewer.id and entry.reason == "kyc_review"
    assert "legal_name" in entry.detail["fields"]
    assert entry.detail["subject"] == application.user_id

    document = application.documents[0]
    doc_url = f"/api/v1/seller-applications/{application.id}/documents/{document.id}"
    assert client.get(doc_url, headers=headers).status_code == 422
    assert client.get(doc_url + "?reason=legal_request", headers=headers).status_code == 200
    (doc_entry,) = _reads(session, document.id)
    assert doc_entry.reason == "legal_request"

    # The applicant opens their own document without giving a reason, and nothing is logged.
    own = api_login(client, applicant_email)
    assert client.get(doc_url, headers=own).status_code == 200
    assert len(_reads(session, document.id)) == 1


def test_staff_page_asks_why_before_showing_kyc_details(
    client: TestClient, session: Session
) -> None:
    application, _ = _application(session)
    reviewer = make_staff(session, StaffPermission.TRUST_SAFETY)
    page_login(client, reviewer.email)
    asked = client.get(f"/staff/sellers/applications/{application.id}")
    assert asked.status_code == 400
    assert "Why are you opening this?" in asked.text and "Audited Goods Pty Ltd" not in asked.text
    assert 'name="reason"' in asked.text
    shown = client.get(f"/staff/sellers/applications/{application.id}?reason=fraud_review")
    assert shown.status_code == 200 and "Audited Goods Pty Ltd" in shown.text
    assert "?reason=fraud_review" in shown.text  # document links carry the reason on
    (entry,) = _reads(session, application.id)
    assert entry.reason == "fraud_review"


def test_admins_read_the_log_with_its_chain_status(client: TestClient, session: Session) -> None:
    application, _ = _application(session)
    reviewer = make_staff(session, StaffPermission.TRUST_SAFETY)
    admin = make_staff(session, StaffPermission.ADMIN)
    support = make_staff(session, StaffPermission.SUPPORT)
    reviewer_headers = api_login(client, reviewer.email)
    client.get(
        f"/api/v1/staff/seller-applications/{application.id}?reason=kyc_review",
        headers=reviewer_headers,
    )

    assert client.get("/api/v1/staff/audit-log", headers=reviewer_headers).status_code == 403
    assert (
        client.get("/api/v1/staff/audit-log", headers=api_login(client, support.email)).status_code
        == 403
    )
    admin_headers = api_login(client, admin.email)
    log = client.get("/api/v1/staff/audit-log?action=pii.", headers=admin_headers).json()
    assert log["chain_ok"] is True and log["total"] == 1, log
    assert log["entries"][0]["actor_id"] == reviewer.id
    by_actor = client.get(
        f"/api/v1/staff/audit-log?actor={reviewer.id}", headers=admin_headers
    ).json()
    assert {e["action"] for e in by_actor["entries"]} == {"pii.read"}
    by_target = client.get(
        f"/api/v1/staff/audit-log?target={application.id}", headers=admin_headers
    ).json()
    assert "pii.read" in {e["action"] for e in by_target["entries"]}
    assert {e["target_id"] for e in by_target["entries"]} == {application.id}

    client.cookies.clear()
    page_login(client, admin.email)
    home = client.get("/staff")
    assert 'href="/staff/audit"' in home.text
    page = client.get("/staff/audit?action=pii.")
    assert page.status_code == 200
    assert "Hash chain verified" in page.text and "kyc_review" in page.text

    session.execute(text("UPDATE audit_log SET reason = 'curiosity' WHERE action = 'pii.read'"))
    session.commit()
    broken = client.get("/staff/audit")
    assert "Hash chain broken" in broken.text and "entry was altered" in broken.text
    assert client.get("/api/v1/staff/audit-log", headers=admin_headers).json()["chain_ok"] is False

    client.cookies.clear()
    page_login(client, support.email)
    assert 'href="/staff/audit"' not in client.get("/staff").text
    assert client.get("/staff/audit").status_code == 403


def test_privileged_money_actions_are_audited(client: TestClient, session: Session) -> None:
    from datetime import timedelta

    from reelshop.db import utcnow

    finance = make_staff(session, StaffPermission.FINANCE)
    headers = api_login(client, finance.email)
    now = utcnow()
    body = {
        "code": "AUDIT-5",
        "kind": "fixed",
        "amount": 500,
        "currency": "USD",
        "market_code": "US",
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(days=7)).isoformat(),
    }
    created = client.post("/api/v1/staff/vouchers", json=body, headers=headers)
    assert created.status_code == 201, created.text
    session.rollback()
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "checkout.platform_voucher_created")
    ).one()
    assert entry.actor_id == finance.id and entry.target_id == created.json()["id"]
