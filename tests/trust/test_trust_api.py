"""The trust JSON API: reports, the queue, decisions (and two moderators racing for
one case), strikes and appeals, the brand registry; bad input and other people's ids."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role, StaffPermission
from reelshop.catalog.models import Product
from reelshop.trust import service
from tests.factories import api_login, make_product, make_seller, make_staff, make_user
from tests.trust.helpers import photo_bytes, register_nike, run_threads


@pytest.fixture
def staff(session: Session, client: TestClient) -> dict[str, Any]:
    user = make_staff(session, StaffPermission.TRUST_SAFETY)
    return {"id": user.id, "headers": api_login(client, user.email)}


def _report(client: TestClient, headers: dict[str, str], product_id: str, **body: Any) -> Any:
    payload = {"kind": "counterfeit", "reason": "logo is wrong", **body}
    return client.post(f"/api/v1/products/{product_id}/reports", json=payload, headers=headers)


def test_report_then_queue_then_take_down_with_strike(
    client: TestClient, session: Session, staff: dict[str, Any]
) -> None:
    product = make_product(session, title="Silk scarf")
    shopper = make_user(session)
    headers = api_login(client, shopper.email)
    r = _report(client, headers, product.id)
    assert r.status_code == 201, r.text
    assert _report(client, headers, product.id).status_code == 409
    assert _report(client, headers, "prd_nope").status_code == 404
    assert _report(client, headers, product.id, kind="ugly").status_code == 422
    assert _report(client, headers, product.id, reason="").status_code == 422
    assert client.post(f"/api/v1/products/{product.id}/reports", json={}).status_code == 401

    assert client.get("/api/v1/trust/cases", headers=headers).status_code == 403
    queue = client.get("/api/v1/trust/cases", headers=staff["headers"]).json()
    assert [c["product_id"] for c in queue] == [product.id]
    case_id = queue[0]["id"]
    case = client.get(f"/api/v1/trust/cases/{case_id}", headers=staff["headers"]).json()
    assert case["reports"][0]["reason"] == "logo is wrong"
    assert {s["kind"] for s in case["assessment"]["signals"]} >= {"shopper_reports"}
    assert client.get("/api/v1/trust/cases/mcs_nope", headers=staff["headers"]).status_code == 404
    bad = client.post(
        f"/api/v1/trust/cases/{case_id}/decision",
        json={"action": "take_down", "note": ""},
        headers=staff["headers"],
    )
    assert bad.status_code == 422
    r = client.post(
        f"/api/v1/trust/cases/{case_id}/decision",
        json={"action": "take_down", "note": "counterfeit label", "strike": True},
        headers=staff["headers"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "taken_down" and r.json()["moderation_status"] == "taken_down"
    again = client.post(
        f"/api/v1/trust/cases/{case_id}/decision",
        json={"action": "approve", "note": ""},
        headers=staff["headers"],
    )
    assert again.status_code == 409
    assert client.get(f"/products/{product.id}").status_code == 404
    session.expire_all()
    assert service.active_strikes(session=session, seller_id=product.seller_id) == 1


def test_two_moderators_deciding_one_case(
    client: TestClient, session: Session, engine: Engine, staff: dict[str, Any]
) -> None:
    product = make_product(session)
    shopper = make_user(session)
    assert _report(client, api_login(client, shopper.email), product.id).status_code == 201
    case_id = service.queue(session=session)[0].case.id
    session.commit()
    staff_id = staff["id"]
    actions = ["approve", "take_down", "approve", "take_down"]

    def decide(s: Session, index: int) -> None:
        service.decide_case(
            session=s, case_id=case_id, action=actions[index], actor_id=staff_id, note="decided"
        )

    outcomes = run_threads(4, decide, engine)
    assert sorted(outcomes) == ["conflict"] * 3 + ["ok"], outcomes
    session.expire_all()
    case = service.get_case(session=session, case_id=case_id)
    status = session.get(Product, product.id).moderation_status  # type: ignore[union-attr]
    assert (case.status, status) in (("approved", "published"), ("taken_down", "taken_down"))


def test_strikes_and_appeals_api(
    client: TestClient, session: Session, staff: dict[str, Any]
) -> None:
    user, seller = make_seller(session)
    other_user, _ = make_seller(session)
    strike = service.add_strike(
        session=session, seller_id=seller.id, reason="r", ref="x1", actor_id=None
    )
    session.commit()
    headers = api_login(client, user.email)
    mine = client.get("/api/v1/seller/strikes", headers=headers).json()
    assert [s["id"] for s in mine] == [strike.id]
    other = api_login(client, other_user.email)
    assert client.get("/api/v1/seller/strikes", headers=other).json() == []
    url = f"/api/v1/seller/strikes/{strike.id}/appeal"
    assert client.post(url, json={"statement": "mine?"}, headers=other).status_code == 404
    assert client.post(url, json={"statement": ""}, headers=headers).status_code == 422
    r = client.post(url, json={"statement": "it was genuine"}, headers=headers)
    assert r.status_code == 201, r.text
    appeal_id = r.json()["id"]
    decision = f"/api/v1/trust/appeals/{appeal_id}/decision"
    assert (
        client.post(decision, json={"grant": True, "note": "ok"}, headers=headers).status_code
        == 403
    )
    r = client.post(
        decision, json={"grant": True, "note": "invoice checked"}, headers=staff["headers"]
    )
    assert r.status_code == 200 and r.json()["status"] == "granted"
    assert (
        client.post(
            "/api/v1/trust/appeals/apl_nope/decision",
            json={"grant": True, "note": "x"},
            headers=staff["headers"],
        ).status_code
        == 404
    )


def test_brand_registry_api_and_foreign_brand_is_404(
    client: TestClient, session: Session, staff: dict[str, Any]
) -> None:
    brand_id = register_nike(session, staff["id"])
    owner = make_user(session)
    stranger = make_user(session)
    r = client.post(
        f"/api/v1/trust/brands/{brand_id}/owners",
        json={"user_id": owner.id, "note": "trademark certificate checked"},
        headers=staff["headers"],
    )
    assert r.status_code == 201, r.text
    assert (
        client.post(
            "/api/v1/trust/brands/brd_nope/owners",
            json={"user_id": owner.id, "note": "x"},
            headers=staff["headers"],
        ).status_code
        == 404
    )
    dup = client.post(
        "/api/v1/trust/brands",
        json={"name": "nike", "trademark_number": "US 99", "trademark_classes": [25]},
        headers=staff["headers"],
    )
    assert dup.status_code == 409
    assert (
        client.post(
            "/api/v1/trust/brands",
            json={"name": "Acme", "trademark_number": "US 5", "trademark_classes": [99]},
            headers=staff["headers"],
        ).status_code
        == 422
    )
    oh = api_login(client, owner.email)
    sh = api_login(client, stranger.email)
    assert [b["name"] for b in client.get("/api/v1/brand-owner/brands", headers=oh).json()] == [
        "Nike"
    ]
    assert client.get(f"/api/v1/brand-owner/brands/{brand_id}", headers=sh).status_code == 404
    r = client.put(
        f"/api/v1/brand-owner/brands/{brand_id}/marks",
        json={"aliases": ["Nikey", "Nkie"]},
        headers=oh,
    )
    assert r.status_code == 200 and r.json()["aliases"] == ["Nikey", "Nkie"]
    bad_range = {"product_line": "Pegasus", "min_amount": 200, "max_amount": 100}
    assert (
        client.post(
            f"/api/v1/brand-owner/brands/{brand_id}/price-ranges", json=bad_range, headers=oh
        ).status_code
        == 422
    )
    r = client.post(
        f"/api/v1/brand-owner/brands/{brand_id}/images",
        files={"file": ("x.png", photo_bytes("official-2"), "image/png")},
        data={"label": "Pegasus"},
        headers=oh,
    )
    assert r.status_code == 201, r.text
    not_image = client.post(
        f"/api/v1/brand-owner/brands/{brand_id}/images",
        files={"file": ("x.png", b"GIF89a nope", "image/png")},
        headers=oh,
    )
    assert not_image.status_code == 415

    seller_user, seller = make_seller(session)
    fake = make_product(session, seller=seller, title="Nike Air Max 90 copy")
    hits = client.get(f"/api/v1/brand-owner/brands/{brand_id}/mentions", headers=oh).json()
    assert fake.id in [h["id"] for h in hits]
    r = client.post(
        f"/api/v1/brand-owner/brands/{brand_id}/complaints",
        json={"product_id": fake.id, "description": "Not our product, uses our mark"},
        headers=oh,
    )
    assert r.status_code == 201, r.text
    complaint_id = r.json()["id"]
    assert (
        client.post(
            f"/api/v1/brand-owner/brands/{brand_id}/complaints",
            json={"product_id": "prd_nope", "description": "Not our product"},
            headers=oh,
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/brand-owner/brands/{brand_id}/complaints",
            json={"product_id": fake.id, "description": "x"},
            headers=sh,
        ).status_code
        == 404
    )
    r = client.post(
        f"/api/v1/trust/complaints/{complaint_id}/decision",
        json={"uphold": True, "note": "mark misused"},
        headers=staff["headers"],
    )
    assert r.status_code == 200 and r.json()["status"] == "upheld"
    session.expire_all()
    assert session.get(Product, fake.id).moderation_status == "taken_down"  # type: ignore[union-attr]

    # a seller asks for authorisation; the owner decides; a stranger cannot
    sh_seller = api_login(client, seller_user.email)
    bad_doc = client.post(
        "/api/v1/seller/brand-authorisations",
        data={"brand_id": brand_id, "statement": "we resell"},
        files={"document": ("a.pdf", b"not a pdf", "application/pdf")},
        headers=sh_seller,
    )
    assert bad_doc.status_code == 415
    r = client.post(
        "/api/v1/seller/brand-authorisations",
        data={"brand_id": brand_id, "statement": "we resell"},
        files={"document": ("a.pdf", b"%PDF-1.4 contract", "application/pdf")},
        headers=sh_seller,
    )
    assert r.status_code == 201, r.text
    auth_id = r.json()["id"]
    url = f"/api/v1/brand-owner/authorisations/{auth_id}/decision"
    assert client.post(url, json={"approve": True}, headers=sh).status_code == 404
    r = client.post(url, json={"approve": True, "note": "contract seen"}, headers=oh)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert client.post(url, json={"approve": True}, headers=oh).status_code == 409
    assert (
        client.get("/api/v1/seller/brand-authorisations", headers=sh_seller).json()[0]["status"]
        == "approved"
    )
    session.rollback()  # end the read snapshot before writing through this session
    shopper_only = make_user(session, role=Role.SHOPPER)
    assert (
        client.get(
            "/api/v1/seller/brand-authorisations", headers=api_login(client, shopper_only.email)
        ).status_code
        == 403
    )
