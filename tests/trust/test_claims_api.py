"""Claims over HTTP: the shopper's API and pages, foreign ids answer 404, bad uploads
are refused with 4xx, evidence is sealed at rest and shown only to the parties, the
staff decision form refunds."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts.models import User
from reelshop.config import Settings
from reelshop.db import utcnow
from reelshop.sellers.models import SellerProfile
from reelshop.storage import get_storage
from reelshop.trust.claim_models import ClaimEvidence
from tests.factories import api_login, make_staff, make_user, page_login
from tests.trust.protection_helpers import deliver, ledger_ok, paid_order


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), "blue")
    exif = Image.Exif()
    exif[0x010F] = "SpyCam 3000"
    exif[0x8825] = {1: "N", 2: (37.0, 46.0, 29.7)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def _delivered_claimable(
    session: Session, factory: sessionmaker[Session], settings: Settings
) -> tuple[object, str, str]:
    shopper = make_user(session)
    placed, seller_id, _ = paid_order(session, factory, settings, shopper=shopper)
    deliver(factory, placed.order_ids[0], utcnow() - timedelta(days=1))
    return shopper, placed.order_ids[0], seller_id


def test_claim_api_flow_with_evidence_and_foreign_ids(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    shopper, order_id, _ = _delivered_claimable(session, session_factory, settings)
    stranger = make_user(session)
    me = api_login(client, shopper.email)  # type: ignore[attr-defined]
    other = api_login(client, stranger.email)
    body = {"claim_type": "damaged", "description": "The lid is cracked right across."}
    assert (
        client.post(f"/api/v1/orders/{order_id}/claims", json=body, headers=other).status_code
        == 404
    )
    assert client.post("/api/v1/orders/ord_nope/claims", json=body, headers=me).status_code == 404
    bad = {"claim_type": "bored", "description": "x"}
    assert client.post(f"/api/v1/orders/{order_id}/claims", json=bad, headers=me).status_code == 422
    created = client.post(f"/api/v1/orders/{order_id}/claims", json=body, headers=me)
    assert created.status_code == 201, created.text
    claim = created.json()
    assert claim["status"] == "awaiting_seller"
    again = client.post(f"/api/v1/orders/{order_id}/claims", json=body, headers=me)
    assert again.status_code == 409
    url = f"/api/v1/claims/{claim['id']}"
    assert client.get(url, headers=other).status_code == 404
    assert client.get("/api/v1/claims/clm_nope", headers=me).status_code == 404
    # Uploads: not an image, empty, a text file named .jpg, then a real photo with GPS.
    for payload in (b"hello", b"", b"\xff\xd8\xff garbage"):
        r = client.post(f"{url}/evidence", files={"file": ("a.jpg", payload)}, headers=me)
        assert r.status_code in (415, 422), r.text
    assert (
        client.post(
            f"{url}/evidence", files={"file": ("a.jpg", _jpeg_with_gps())}, headers=other
        ).status_code
        == 404
    )
    r = client.post(f"{url}/evidence", files={"file": ("a.jpg", _jpeg_with_gps())}, headers=me)
    assert r.status_code == 201, r.text
    evidence = r.json()
    session.rollback()
    stored = session.get(ClaimEvidence, evidence["id"])
    assert stored is not None
    raw = get_storage().get(stored.storage_key)
    assert b"RIFF" not in raw and b"SpyCam" not in raw  # sealed at rest
    # The image route: the shopper sees a clean WebP; a stranger gets 404.
    image = client.get(evidence["url"], headers=me)
    assert image.status_code == 200 and image.content.startswith(b"RIFF")
    assert b"SpyCam" not in image.content
    assert client.get(evidence["url"], headers=other).status_code == 404


def test_seller_and_staff_api(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    staff = make_staff(session)
    shopper, order_id, seller_id = _delivered_claimable(session, session_factory, settings)
    profile = session.get(SellerProfile, seller_id)
    assert profile is not None
    owner = session.get(User, profile.user_id)
    assert owner is not None
    seller_email = owner.email
    session.rollback()
    me = api_login(client, shopper.email)  # type: ignore[attr-defined]
    claim = client.post(
        f"/api/v1/orders/{order_id}/claims",
        json={"claim_type": "not_as_described", "description": "Blue, not the red I ordered."},
        headers=me,
    ).json()
    seller = api_login(client, seller_email)
    inbox = client.get("/api/v1/seller/claims", headers=seller)
    assert [c["id"] for c in inbox.json()] == [claim["id"]]
    r = client.post(
        f"/api/v1/seller/claims/{claim['id']}/response",
        json={"response": "We shipped red; photo attached."},
        headers=seller,
    )
    assert r.status_code == 200 and r.json()["status"] == "awaiting_staff"
    # Shoppers and sellers cannot decide.
    decision = {"outcome": "uphold_full", "note": "wrong colour shipped"}
    for headers in (me, seller):
        r = client.post(
            f"/api/v1/staff/claims/{claim['id']}/decision", json=decision, headers=headers
        )
        assert r.status_code == 403
    boss = api_login(client, staff.email)
    assert client.get("/api/v1/staff/claims", headers=boss).status_code == 200
    r = client.post("/api/v1/staff/claims/clm_unknown/decision", json=decision, headers=boss)
    assert r.status_code == 404
    r = client.post(f"/api/v1/staff/claims/{claim['id']}/decision", json=decision, headers=boss)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "upheld" and r.json()["refund_amount"] == 4000
    r = client.post(f"/api/v1/staff/claims/{claim['id']}/decision", json=decision, headers=boss)
    assert r.status_code == 409
    mine = client.get(f"/api/v1/claims/{claim['id']}", headers=me).json()
    assert mine["outcome"] == "uphold_full" and mine["seller_response"].startswith("We shipped")
    ledger_ok(session)


def test_claim_pages_shopper_to_staff(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    shopper, order_id, _ = _delivered_claimable(session, session_factory, settings)
    staff = make_staff(session)
    csrf = page_login(client, shopper.email)  # type: ignore[attr-defined]
    order_page = client.get(f"/orders/{order_id}")
    assert f'hx-get="/orders/{order_id}/protection"' in order_page.text
    fragment = client.get(f"/orders/{order_id}/protection", headers={"HX-Request": "true"})
    assert f"/orders/{order_id}/claims/new" in fragment.text
    form = client.get(f"/orders/{order_id}/claims/new")
    assert form.status_code == 200 and 'value="damaged"' in form.text
    short = client.post(
        f"/orders/{order_id}/claims",
        data={"csrf_token": csrf, "claim_type": "damaged", "description": "bad"},
    )
    assert short.status_code == 422 and "at least 10 characters" in short.text
    r = client.post(
        f"/orders/{order_id}/claims",
        data={
            "csrf_token": csrf,
            "claim_type": "damaged",
            "description": "Arrived with the screen smashed.",
        },
        files={"photos": ("box.jpg", _jpeg_with_gps(), "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    claim_url = r.headers["location"]
    page = client.get(claim_url)
    assert "Waiting for the seller" in page.text and "/evidence/cev_" in page.text
    client.post("/logout", data={"csrf_token": csrf})
    client.cookies.clear()
    csrf = page_login(client, staff.email)
    queue = client.get("/staff/claims")
    assert queue.status_code == 200 and claim_url.rsplit("/", 1)[1] in queue.text
    claim_id = claim_url.rsplit("/", 1)[1]
    r = client.post(
        f"/staff/claims/{claim_id}/decision",
        data={"csrf_token": csrf, "outcome": "uphold_partial", "amount": "abc", "note": "ok"},
    )
    assert r.status_code == 422
    r = client.post(
        f"/staff/claims/{claim_id}/decision",
        data={
            "csrf_token": csrf,
            "outcome": "uphold_partial",
            "amount": "12.50",
            "note": "photo shows the damage",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    decided = client.get(f"/staff/claims/{claim_id}")
    assert "Upheld: partial refund" in decided.text and "$12.50" in decided.text
    ledger_ok(session)
    home = client.get("/staff")
    assert 'href="/staff/claims"' in home.text
    assert re.search(r"/staff/reviews", home.text) is None  # support staff only
