"""Reviews over HTTP: eligibility answers 4xx, one per line, photos re-encoded without
metadata, the seller's single answer, staff release of held reviews, and the pages
(product page fragment, review form, seller answers, held queue)."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session

from reelshop.accounts.models import StaffPermission, User
from reelshop.catalog.models import Product
from tests.factories import api_login, make_product, make_seller, make_staff, make_user, page_login
from tests.trust.protection_helpers import delivered_line


def _photo() -> bytes:
    image = Image.new("RGB", (80, 60), "green")
    exif = Image.Exif()
    exif[0x010F] = "SpyCam 3000"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _shop(session: Session) -> tuple[User, Product]:
    seller_user, seller = make_seller(session)
    return seller_user, make_product(session, seller=seller, price_cents=2000)


def test_review_api(client: TestClient, session: Session) -> None:
    seller_user, product = _shop(session)
    staff = make_staff(session, StaffPermission.TRUST_SAFETY)
    shopper = make_user(session, name="Lin Wei")
    undelivered = delivered_line(session, product=product, shopper=shopper, status="shipped")
    done = delivered_line(session, product=product, shopper=shopper)
    me = api_login(client, shopper.email)
    stranger = api_login(client, make_user(session).email)
    seller = api_login(client, seller_user.email)
    boss = api_login(client, staff.email)
    body = {"order_line_id": undelivered.line_id, "rating": 5, "body": "Great"}
    assert client.post("/api/v1/reviews", json=body, headers=me).status_code == 409
    body["order_line_id"] = done.line_id
    assert client.post("/api/v1/reviews", json=body, headers=stranger).status_code == 404
    assert client.post("/api/v1/reviews", json={**body, "rating": 9}, headers=me).status_code == 422
    assert client.post("/api/v1/reviews", json=body).status_code == 401
    r = client.post("/api/v1/reviews", json=body, headers=me)
    assert r.status_code == 201, r.text
    review = r.json()
    assert review["status"] == "published" and review["reviewer_name"] == "Lin"
    assert client.post("/api/v1/reviews", json=body, headers=me).status_code == 409
    # Photos: junk refused, a JPEG with EXIF comes back as a clean WebP.
    url = f"/api/v1/reviews/{review['id']}/photos"
    assert client.post(url, files={"file": ("x.jpg", b"nope")}, headers=me).status_code == 415
    assert (
        client.post(url, files={"file": ("x.jpg", _photo())}, headers=stranger).status_code == 404
    )
    r = client.post(url, files={"file": ("x.jpg", _photo())}, headers=me)
    assert r.status_code == 201, r.text
    image = client.get(r.json()["url"])
    assert image.status_code == 200 and image.content.startswith(b"RIFF")
    assert b"SpyCam" not in image.content and b"Exif" not in image.content
    assert client.get("/reviews/photos/rph_missing").status_code == 404
    # Edit, answer once, list with aggregates.
    r = client.patch(f"/api/v1/reviews/{review['id']}", json={"rating": 4}, headers=me)
    assert r.status_code == 200 and r.json()["rating"] == 4
    assert (
        client.patch(
            f"/api/v1/reviews/{review['id']}", json={"rating": 1}, headers=stranger
        ).status_code
        == 404
    )
    answer = {"answer": "Thank you!"}
    assert (
        client.post(
            f"/api/v1/seller/reviews/{review['id']}/answer", json=answer, headers=me
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/seller/reviews/{review['id']}/answer", json=answer, headers=seller
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/seller/reviews/{review['id']}/answer", json=answer, headers=seller
        ).status_code
        == 409
    )
    listing = client.get(f"/api/v1/products/{product.id}/reviews").json()
    assert listing["rating"] == {
        "count": 1,
        "average": 4.0,
        "stars": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0},
    }
    assert listing["reviews"][0]["seller_answer"] == "Thank you!"
    assert client.get("/api/v1/products/prd_missing/reviews").status_code == 404
    # The seller's own account reviewing is held; staff release it.
    own = delivered_line(session, product=product, shopper=seller_user, line1="99 Own St")
    r = client.post(
        "/api/v1/reviews",
        json={"order_line_id": own.line_id, "rating": 5, "body": "Superb"},
        headers=seller,
    )
    assert r.status_code == 201 and r.json()["status"] == "held"
    assert client.get("/api/v1/staff/reviews/held", headers=me).status_code == 403
    held = client.get("/api/v1/staff/reviews/held", headers=boss).json()
    assert [h["hold_reasons"][0]["signal"] for h in held] == ["seller_own_account"]
    moderation = f"/api/v1/staff/reviews/{held[0]['id']}/moderation"
    assert client.post(moderation, json={"action": "eat"}, headers=boss).status_code == 422
    assert client.post(moderation, json={"action": "release"}, headers=boss).status_code == 200
    assert client.get(f"/api/v1/products/{product.id}/reviews").json()["rating"]["count"] == 2


def test_review_pages(client: TestClient, session: Session) -> None:
    seller_user, product = _shop(session)
    staff = make_staff(session, StaffPermission.TRUST_SAFETY)
    shopper = make_user(session, name="Ada Lovelace")
    done = delivered_line(session, product=product, shopper=shopper)
    page = client.get(f"/products/{product.id}")
    assert f'hx-get="/products/{product.id}/reviews"' in page.text
    csrf = page_login(client, shopper.email)
    fragment = client.get(f"/orders/{done.order_id}/protection", headers={"HX-Request": "true"})
    assert f"/orders/{done.order_id}/lines/{done.line_id}/review" in fragment.text
    form_url = f"/orders/{done.order_id}/lines/{done.line_id}/review"
    form = client.get(form_url)
    assert form.status_code == 200 and "reelshop_rdev" in form.headers.get("set-cookie", "")
    r = client.post(form_url, data={"csrf_token": csrf, "body": "no stars"})
    assert r.status_code == 422 and "choose a rating" in r.text
    r = client.post(
        form_url,
        data={"csrf_token": csrf, "rating": "5", "body": "Crisp sound, long battery."},
        files={"photos": ("p.jpg", _photo(), "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    listing = client.get(f"/products/{product.id}/reviews", headers={"HX-Request": "true"})
    assert (
        "Crisp sound" in listing.text and "Ada" in listing.text and "Lovelace" not in listing.text
    )
    assert "/reviews/photos/rph_" in listing.text
    client.post("/logout", data={"csrf_token": csrf})
    client.cookies.clear()
    csrf = page_login(client, seller_user.email)
    inbox = client.get("/seller/reviews")
    assert "Crisp sound" in inbox.text and "Post answer" in inbox.text
    review_id = inbox.text.split('id="review-', 1)[1].split('"', 1)[0]
    r = client.post(
        f"/seller/reviews/{review_id}/answer",
        data={"csrf_token": csrf, "answer": "Thanks, Ada!"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Post answer" not in client.get("/seller/reviews").text
    client.post("/logout", data={"csrf_token": csrf})
    client.cookies.clear()
    csrf = page_login(client, staff.email)
    held = client.get("/staff/reviews")
    assert held.status_code == 200 and "queue is clear" in held.text
    assert "/staff/reviews" in client.get("/staff").text
