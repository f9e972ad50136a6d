"""Seller vetting pages: onboarding, staff queue and review, invitations, public profile."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role, StaffPermission
from reelshop.sellers import service as sellers
from reelshop.sellers.models import SellerApplication, SellerStatus
from tests.factories import make_seller, make_staff, make_user, page_login
from tests.sellers.helpers import PDF, PNG, details, set_onboarding_mode

FORM_FILES = {
    "business_licence": ("licence.pdf", PDF, "application/pdf"),
    "identity_document": ("passport.png", PNG, "image/png"),
}


def page_apply(client: TestClient, csrf: str, **overrides: Any) -> Any:
    data = details(**overrides)
    data["csrf_token"] = csrf
    return client.post(
        "/seller/onboarding",
        data=data,
        files=FORM_FILES,
        headers={"accept": "text/html"},
        follow_redirects=False,
    )


def test_seller_applies_through_the_onboarding_page(client: TestClient, session: Session) -> None:
    user = make_user(session, role=Role.SELLER)
    csrf = page_login(client, user.email)
    home = client.get("/seller")
    assert 'href="/seller/onboarding"' in home.text
    form = client.get("/seller/onboarding")
    assert form.status_code == 200
    assert "invitation only" in form.text and 'enctype="multipart/form-data"' in form.text

    refused = page_apply(client, csrf)
    assert refused.status_code == 403
    assert "invitation only" in refused.text
    assert 'value="Shenzhen Lumi Electronics Co., Ltd."' in refused.text  # form kept

    set_onboarding_mode(session, "open")
    bad = client.post(
        "/seller/onboarding",
        data={**details(), "csrf_token": csrf},
        files={**FORM_FILES, "business_licence": ("x.pdf", b"MZ\x90\x00", "application/pdf")},
        headers={"accept": "text/html"},
    )
    assert bad.status_code == 415 and "not a PDF, PNG or JPEG" in bad.text

    no_csrf = client.post("/seller/onboarding", data=details(), files=FORM_FILES)
    assert no_csrf.status_code == 403

    ok = page_apply(client, csrf)
    assert ok.status_code == 303 and ok.headers["location"] == "/seller/onboarding"
    status = client.get("/seller/onboarding")
    assert "Submitted" in status.text and "reviewing your application" in status.text
    link = re.search(r'href="(/seller/onboarding/apl_[^"]+/documents/doc_[^"]+)"', status.text)
    assert link
    download = client.get(link.group(1))
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")


def test_invitation_link_prefills_the_form(client: TestClient, session: Session) -> None:
    staff = make_staff(session, StaffPermission.TRUST_SAFETY)
    user = make_user(session, role=Role.SELLER)
    issued = sellers.invite_seller(
        session=session,
        staff=staff,
        email=user.email,
        business_name="Yiwu Crafts",
        market_code="US",
    )
    session.commit()
    csrf = page_login(client, user.email)
    page = client.get(f"/seller/onboarding?invitation={issued.token}")
    assert "You were invited" in page.text and "Yiwu Crafts" in page.text
    bogus = client.get("/seller/onboarding?invitation=nope")
    assert "cannot be used" in bogus.text
    ok = page_apply(client, csrf, invitation_token=issued.token, display_name="Yiwu Crafts")
    assert ok.status_code == 303, ok.text


def test_staff_review_console(app: Any, client: TestClient, session: Session) -> None:
    set_onboarding_mode(session, "open")
    applicant = make_user(session, role=Role.SELLER)
    with TestClient(app) as applicant_client:
        csrf = page_login(applicant_client, applicant.email)
        assert page_apply(applicant_client, csrf).status_code == 303
    application = session.scalars(select(SellerApplication)).one()

    staff = make_staff(session, StaffPermission.TRUST_SAFETY)
    csrf = page_login(client, staff.email)
    console = client.get("/staff")
    assert 'href="/staff/sellers/applications"' in console.text
    queue = client.get("/staff/sellers/applications")
    assert queue.status_code == 200 and "Lumi Electronics" in queue.text
    assert "1 application," in queue.text
    filtered = client.get("/staff/sellers/applications?country=US")
    assert "Lumi Electronics" not in filtered.text

    asked = client.get(f"/staff/sellers/applications/{application.id}")
    assert asked.status_code == 400 and "91440300MA5F8XK21Q" not in asked.text
    page = client.get(f"/staff/sellers/applications/{application.id}?reason=kyc_review")
    assert page.status_code == 200
    assert "91440300MA5F8XK21Q" in page.text and "Business licence" in page.text
    doc = re.search(r'href="(/staff/sellers/applications/[^"]+/documents/[^"]+)"', page.text)
    assert doc
    download = client.get(doc.group(1))
    assert download.status_code == 200 and download.content in (PDF, PNG)
    assert download.headers["content-disposition"].startswith("attachment;")

    empty_reason = client.post(
        f"/staff/sellers/applications/{application.id}/reject",
        data={"reason": "", "csrf_token": csrf},
        headers={"accept": "text/html"},
    )
    assert empty_reason.status_code == 422 and "reason" in empty_reason.text

    approved = client.post(
        f"/staff/sellers/applications/{application.id}/approve",
        data={"market_codes": ["US"], "categories": ["electronics"], "csrf_token": csrf},
        follow_redirects=True,
    )
    assert approved.status_code == 200
    assert "Approved" in approved.text and "by Staff Member" in approved.text
    assert "Request information" not in approved.text  # no more decisions to take

    with TestClient(app) as applicant_client:
        page_login(applicant_client, applicant.email)
        status = applicant_client.get("/seller/onboarding")
        assert "Welcome aboard" in status.text and "Staff Member" not in status.text


def test_non_reviewers_are_kept_out(client: TestClient, session: Session) -> None:
    support = make_staff(session, StaffPermission.SUPPORT)
    page_login(client, support.email)
    assert client.get("/staff/sellers/applications").status_code == 403
    assert client.get("/staff/sellers/invitations").status_code == 403


def test_staff_invites_a_business(client: TestClient, session: Session) -> None:
    staff = make_staff(session, StaffPermission.TRUST_SAFETY)
    csrf = page_login(client, staff.email)
    response = client.post(
        "/staff/sellers/invitations",
        data={
            "email": "owner@lumi.example",
            "business_name": "Lumi",
            "market": "US",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 200
    link = re.search(r'value="(http[^"]+/seller/onboarding\?invitation=[^"]+)"', response.text)
    assert link and response.headers["cache-control"] == "no-store"
    again = client.get("/staff/sellers/invitations")
    assert "owner@lumi.example" in again.text and link.group(1) not in again.text
    bad = client.post(
        "/staff/sellers/invitations",
        data={"email": "nope", "business_name": "Lumi", "market": "US", "csrf_token": csrf},
    )
    assert bad.status_code == 422


def test_public_seller_profile(client: TestClient, session: Session) -> None:
    _, seller = make_seller(session, ships_from="CN", display_name="Aurora Home")
    page = client.get(f"/sellers/{seller.id}")
    assert page.status_code == 200
    assert "Aurora Home" in page.text and "China" in page.text and "🇨🇳" in page.text
    assert "No ratings yet" in page.text and "—" in page.text
    seller.rating_average, seller.rating_count, seller.on_time_rate = 4.63, 120, 0.972
    session.commit()
    rated = client.get(f"/sellers/{seller.id}")
    assert "4.6" in rated.text and "97%" in rated.text
    _, pending = make_seller(session, status=SellerStatus.PENDING)
    assert client.get(f"/sellers/{pending.id}", headers={"accept": "text/html"}).status_code == 404
