"""Trust pages through the HTML forms: the report dialog, the queue and case view with
highlighted evidence, a take-down, the brand portal (another brand is a 404) and the
seller's brands and strikes page."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from reelshop.accounts.models import StaffPermission
from reelshop.trust import brands, screening, service
from tests.factories import make_product, make_seller, make_staff, make_user, page_login
from tests.trust.helpers import register_nike


def test_report_dialog_queue_case_and_take_down(client: TestClient, session: Session) -> None:
    staff = make_staff(session, StaffPermission.TRUST_SAFETY)
    register_nike(session, staff.id)
    _, seller = make_seller(session)
    fake = make_product(session, seller=seller, title="N1ke Air Max 90", price_cents=1500)
    screening.screen_listing(session=session, product_id=fake.id, semantic=False)
    plain = make_product(session, seller=seller, title="Cotton socks")
    session.commit()
    shopper = make_user(session)

    csrf = page_login(client, shopper.email)
    page = client.get(f"/products/{plain.id}")
    assert page.status_code == 200 and "Report this listing" in page.text
    assert client.get(f"/products/{fake.id}").status_code == 404  # held
    bad = client.post(
        f"/products/{plain.id}/report",
        data={"kind": "nonsense", "reason": "bad", "csrf_token": csrf},
    )
    assert bad.status_code == 422
    done = client.post(
        f"/products/{plain.id}/report",
        data={"kind": "misleading", "reason": "wrong colour shown", "csrf_token": csrf},
    )
    assert done.status_code == 200 and "we have your report" in done.text
    assert client.get("/staff/trust/cases").status_code == 403

    client.cookies.clear()
    csrf = page_login(client, staff.email)
    queue = client.get("/staff/trust/cases")
    assert queue.status_code == 200
    assert queue.text.index("N1ke Air Max 90") < queue.text.index("Cotton socks")  # riskier first
    session.expire_all()
    case_id = next(
        r.case.id for r in service.queue(session=session) if r.case.product_id == fake.id
    )
    case = client.get(f"/staff/trust/cases/{case_id}")
    assert "<mark>N1ke</mark>" in case.text
    assert "Price far below reference" in case.text
    assert client.get("/staff/trust/cases/mcs_nope").status_code == 404
    taken = client.post(
        f"/staff/trust/cases/{case_id}/decide",
        data={"action": "take_down", "note": "fake", "strike": "1", "csrf_token": csrf},
    )
    assert taken.status_code == 200 and "trust.seller.strike" in taken.text
    assert client.get("/staff/trust/brands").status_code == 200
    assert client.get("/staff/trust/appeals").status_code == 200


def test_brand_portal_and_seller_brands_page(client: TestClient, session: Session) -> None:
    staff = make_staff(session, StaffPermission.TRUST_SAFETY)
    brand_id = register_nike(session, staff.id)
    other = brands.register_brand(
        session=session,
        staff_id=staff.id,
        name="Acme",
        trademark_number="US 42424",
        trademark_classes=[9],
    )
    owner = make_user(session)
    brands.verify_owner(
        session=session, staff_id=staff.id, brand_id=brand_id, user_id=owner.id, note="ok"
    )
    seller_user, _ = make_seller(session)
    session.commit()

    csrf = page_login(client, owner.email)
    assert client.get("/brand", follow_redirects=False).headers["location"] == f"/brand/{brand_id}"
    page = client.get(f"/brand/{brand_id}")
    assert page.status_code == 200 and "Reference prices" in page.text
    assert client.get(f"/brand/{other.brand_id}").status_code == 404
    saved = client.post(
        f"/brand/{brand_id}/price-ranges",
        data={
            "product_line": "Pegasus",
            "keywords": "Pegasus",
            "min": "100",
            "max": "160",
            "csrf_token": csrf,
        },
    )
    assert saved.status_code == 200 and "Pegasus" in saved.text
    bad = client.post(
        f"/brand/{brand_id}/price-ranges",
        data={"product_line": "X", "min": "ten", "max": "5", "csrf_token": csrf},
    )
    assert bad.status_code == 422

    client.cookies.clear()
    csrf = page_login(client, seller_user.email)
    page = client.get("/seller/brands")
    assert page.status_code == 200 and "Ask for authorisation" in page.text
    sent = client.post(
        "/seller/brands/request",
        data={"brand_id": brand_id, "statement": "We are a distributor", "csrf_token": csrf},
        files={"document": ("letter.pdf", b"%PDF-1.4 letter", "application/pdf")},
    )
    assert sent.status_code == 200 and "Request sent" in sent.text
