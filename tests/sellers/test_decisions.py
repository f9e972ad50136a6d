"""Staff decisions: who and when, audit, outbox, authorisation, eligibility, races."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts.models import StaffPermission
from reelshop.db import make_session_factory, unit_of_work
from reelshop.errors import ProblemError
from reelshop.outbox.models import OutboxEvent
from reelshop.security import audit
from reelshop.security.models import AuditEntry
from reelshop.sellers import service as sellers
from reelshop.sellers.models import ApplicationDecision, SellerApplication, SellerStatus
from tests.factories import api_login, make_staff, make_user
from tests.sellers.helpers import (
    PDF,
    apply,
    details,
    seller_with_token,
    set_onboarding_mode,
    trust_staff,
)


def submitted(client: TestClient, session: Session, **overrides: Any) -> tuple[dict, dict]:
    _, headers = seller_with_token(client, session)
    response = apply(client, headers, data=details(**overrides))
    assert response.status_code == 201, response.text
    return response.json(), headers


def staff_post(client: TestClient, headers: dict, app_id: str, action: str, body: dict) -> Any:
    return client.post(
        f"/api/v1/staff/seller-applications/{app_id}/{action}", json=body, headers=headers
    )


def test_approval_is_recorded_with_who_and_when_and_opens_selling(
    client: TestClient, session: Session
) -> None:
    set_onboarding_mode(session, "open")
    application, _ = submitted(client, session)
    staff, headers = trust_staff(client, session)

    response = staff_post(
        client,
        headers,
        application["id"],
        "approve",
        {"market_codes": ["US"], "categories": ["electronics"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "approved" and body["seller_id"].startswith("sel_")
    decision = body["decisions"][-1]
    assert decision["outcome"] == "approved" and decision["actor_id"] == staff.id
    assert decision["categories"] == ["electronics"] and decision["created_at"]

    session.rollback()
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "seller_application.approved")
    ).one()
    assert entry.actor_id == staff.id and entry.target_id == application["id"]
    assert audit.verify(session=session).ok
    event = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "seller.approved")).one()
    assert event.payload["categories"] == ["electronics"]

    seller = sellers.get_seller(session=session, seller_id=body["seller_id"])
    assert seller.status == SellerStatus.APPROVED and seller.approved_at is not None
    assert seller.legal_name == "Shenzhen Lumi Electronics Co., Ltd."
    assert sellers.can_sell(seller, market_code="US", category_slug="electronics/earbuds")
    # Asked for phone accessories too, but was approved for electronics only.
    assert not sellers.can_sell(seller, market_code="US", category_slug="phone-accessories")
    assert not sellers.can_sell(seller, market_code="GB", category_slug="electronics")

    public = client.get(f"/api/v1/sellers/{seller.id}")
    assert public.status_code == 200
    assert public.json()["display_name"] == "Lumi Electronics"
    assert public.json()["rating_average"] is None

    # A decided application cannot be decided again.
    again = staff_post(client, headers, application["id"], "reject", {"reason": "changed my mind"})
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/seller-application-not-reviewable"


def test_approval_must_stay_within_what_was_asked(client: TestClient, session: Session) -> None:
    set_onboarding_mode(session, "open")
    application, _ = submitted(client, session)
    _, headers = trust_staff(client, session)
    for body in (
        {"market_codes": ["GB"], "categories": ["electronics"]},
        {"market_codes": ["US"], "categories": ["beauty"]},
        {"market_codes": [], "categories": ["electronics"]},
    ):
        response = staff_post(client, headers, application["id"], "approve", body)
        assert response.status_code == 422, body
    session.rollback()
    assert session.get(SellerApplication, application["id"]).status == "submitted"


def test_cannot_sell_before_approval_nor_after_rejection(
    client: TestClient, session: Session
) -> None:
    set_onboarding_mode(session, "open")
    application, _ = submitted(client, session)
    session.rollback()
    user_id = session.get(SellerApplication, application["id"]).user_id
    assert sellers.seller_for_user(session=session, user_id=user_id) is None
    _, headers = trust_staff(client, session)
    response = staff_post(
        client, headers, application["id"], "reject", {"reason": "Licence is not legible"}
    )
    assert response.status_code == 200
    assert response.json()["decisions"][-1]["note"] == "Licence is not legible"
    session.rollback()
    assert sellers.seller_for_user(session=session, user_id=user_id) is None
    topics = session.scalars(select(OutboxEvent.topic)).all()
    assert "seller.rejected" in topics


def test_information_request_and_resubmission(client: TestClient, session: Session) -> None:
    set_onboarding_mode(session, "open")
    application, applicant = submitted(client, session)
    staff, headers = trust_staff(client, session)
    asked = staff_post(
        client,
        headers,
        application["id"],
        "request-information",
        {"message": "Please upload your brand authorisation letter"},
    )
    assert asked.status_code == 200 and asked.json()["status"] == "info_requested"
    queue = client.get("/api/v1/staff/seller-applications", headers=headers).json()
    assert queue["total"] == 0  # waiting for the applicant, not for staff

    # Approving now is refused: the application is waiting for the applicant.
    early = staff_post(
        client,
        headers,
        application["id"],
        "approve",
        {"market_codes": ["US"], "categories": ["electronics"]},
    )
    assert early.status_code == 409

    empty = client.post(
        f"/api/v1/seller-applications/{application['id']}/resubmit", headers=applicant
    )
    assert empty.status_code == 422
    resubmitted = client.post(
        f"/api/v1/seller-applications/{application['id']}/resubmit",
        data={"note": "Letter attached"},
        files={"brand_authorisation": ("letter.pdf", PDF, "application/pdf")},
        headers=applicant,
    )
    assert resubmitted.status_code == 200, resubmitted.text
    body = resubmitted.json()
    assert body["status"] == "resubmitted" and len(body["documents"]) == 3
    assert [d["outcome"] for d in body["decisions"]] == [
        "submitted",
        "info_requested",
        "resubmitted",
    ]
    assert body["decisions"][1]["actor_id"] == staff.id
    queue = client.get("/api/v1/staff/seller-applications", headers=headers).json()
    assert [a["id"] for a in queue["applications"]] == [application["id"]]
    session.rollback()
    topics = session.scalars(select(OutboxEvent.topic)).all()
    assert "seller.info_requested" in topics


def test_non_staff_cannot_decide(client: TestClient, session: Session) -> None:
    set_onboarding_mode(session, "open")
    application, applicant = submitted(client, session)
    support = make_staff(session, StaffPermission.SUPPORT)
    shopper = make_user(session)
    for headers in (applicant, api_login(client, support.email), api_login(client, shopper.email)):
        for action, body in (
            ("approve", {"market_codes": ["US"], "categories": ["electronics"]}),
            ("reject", {"reason": "no reason at all"}),
            ("request-information", {"message": "send more"}),
        ):
            response = staff_post(client, headers, application["id"], action, body)
            assert response.status_code == 403, (action, response.text)
        assert client.get("/api/v1/staff/seller-applications", headers=headers).status_code == 403
        invite = client.post(
            "/api/v1/staff/seller-invitations",
            json={"email": "x@example.com", "business_name": "X Co"},
            headers=headers,
        )
        assert invite.status_code == 403
    assert client.get("/api/v1/staff/seller-applications").status_code == 401
    session.rollback()
    assert session.get(SellerApplication, application["id"]).status == "submitted"
    assert session.scalars(select(ApplicationDecision)).all()[0].outcome == "submitted"


def test_queue_is_oldest_first_and_filters(client: TestClient, session: Session) -> None:
    set_onboarding_mode(session, "open")
    first, _ = submitted(client, session, country="CN")
    second, _ = submitted(client, session, country="US", ships_from_country="US")
    third, _ = submitted(client, session, country="CN")
    _, headers = trust_staff(client, session)
    queue = client.get("/api/v1/staff/seller-applications", headers=headers).json()
    assert [a["id"] for a in queue["applications"]] == [first["id"], second["id"], third["id"]]
    cn = client.get("/api/v1/staff/seller-applications?country=CN", headers=headers).json()
    assert [a["id"] for a in cn["applications"]] == [first["id"], third["id"]]
    staff_post(client, headers, second["id"], "reject", {"reason": "Duplicate business"})
    rejected = client.get("/api/v1/staff/seller-applications?status=rejected", headers=headers)
    assert [a["id"] for a in rejected.json()["applications"]] == [second["id"]]
    bad = client.get("/api/v1/staff/seller-applications?status=nonsense", headers=headers)
    assert bad.status_code == 422
    page = client.get("/api/v1/staff/seller-applications?limit=1&offset=1", headers=headers).json()
    assert page["total"] == 2 and [a["id"] for a in page["applications"]] == [third["id"]]


def test_unknown_ids_are_404(client: TestClient, session: Session) -> None:
    _, headers = trust_staff(client, session)
    for path in (
        "/api/v1/staff/seller-applications/apl_nope?reason=kyc_review",
        "/api/v1/sellers/sel_nope",
    ):
        assert client.get(path, headers=headers).status_code == 404
    response = staff_post(client, headers, "apl_nope", "reject", {"reason": "whatever"})
    assert response.status_code == 404


def test_pending_seller_profile_is_not_public(client: TestClient, session: Session) -> None:
    from tests.factories import make_seller

    _, seller = make_seller(session, status=SellerStatus.PENDING)
    assert client.get(f"/api/v1/sellers/{seller.id}").status_code == 404


def test_two_staff_approving_at_once_make_one_decision(
    client: TestClient, session: Session, engine: Any
) -> None:
    """Real threads, real transactions: exactly one approval wins, the other gets 409."""
    set_onboarding_mode(session, "open")
    application, _ = submitted(client, session)
    staff_a = make_staff(session, StaffPermission.TRUST_SAFETY)
    staff_b = make_staff(session, StaffPermission.TRUST_SAFETY)
    session.rollback()
    factory: sessionmaker[Session] = make_session_factory(engine)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def approve(staff_id: str, categories: list[str]) -> None:
        barrier.wait()
        try:
            with unit_of_work(factory) as s:
                staff = s.get(type(staff_a), staff_id)
                assert staff is not None
                sellers.approve_application(
                    session=s,
                    staff=staff,
                    application_id=application["id"],
                    market_codes=["US"],
                    categories=categories,
                )
            result = "approved"
        except ProblemError as exc:
            result = f"{exc.status}"
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=approve, args=(staff_a.id, ["electronics"])),
        threading.Thread(target=approve, args=(staff_b.id, ["phone-accessories"])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["409", "approved"]
    session.rollback()
    approvals = session.scalars(
        select(ApplicationDecision).where(ApplicationDecision.outcome == "approved")
    ).all()
    assert len(approvals) == 1
    seller = sellers.seller_for_user(
        session=session, user_id=session.get(SellerApplication, application["id"]).user_id
    )
    assert seller is not None and seller.categories == approvals[0].categories
    events = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "seller.approved"))
    assert len(events.all()) == 1
