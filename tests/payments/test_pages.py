"""Payment pages: pay form to challenge to status; seller payouts and CSV; staff finance."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts.models import StaffPermission
from reelshop.checkout import service as checkout
from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.payments.jobs import run_payouts, settle_delivered
from reelshop.payments.models import Payment
from tests.factories import make_staff, page_login
from tests.payments.helpers import (
    APPROVE,
    CHALLENGE,
    DECLINED,
    LineSpec,
    OrderSpec,
    deliver_all,
    make_shop,
    pay_and_confirm,
    place_checkout,
    shopper,
)


def _placed(session: Session) -> tuple[object, object]:
    _, product = make_shop(session, price_cents=1500)
    buyer = shopper(session)
    return buyer, place_checkout(session, shopper=buyer, orders=[OrderSpec([LineSpec(product)])])


def test_pay_with_a_challenge_card_goes_through_the_simulated_challenge(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    buyer, placed = _placed(session)
    csrf = page_login(client, buyer.email)  # type: ignore[attr-defined]
    response = client.post(
        f"/checkout/{placed.checkout_id}/pay",  # type: ignore[attr-defined]
        data={"card_number": CHALLENGE, "csrf_token": csrf, "idempotency_key": "form-1"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    challenge_url = response.headers["location"]
    assert challenge_url.startswith("/simulated-processor/challenge/sim_")
    # Resubmitting the same form pays once and lands on the same challenge.
    again = client.post(
        f"/checkout/{placed.checkout_id}/pay",  # type: ignore[attr-defined]
        data={"card_number": CHALLENGE, "csrf_token": csrf, "idempotency_key": "form-1"},
        follow_redirects=False,
    )
    assert again.headers["location"] == challenge_url
    page = client.get(challenge_url)
    assert page.status_code == 200
    assert "Simulated processor" in page.text and "$15.00" in page.text
    done = client.post(
        challenge_url, data={"decision": "approve", "csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    status_url = done.headers["location"]
    assert status_url == f"/checkout/{placed.checkout_id}/payment?returned=true"  # type: ignore[attr-defined]
    waiting = client.get(status_url)
    # The processor has the answer; we learn it from the next webhook.
    assert 'data-payment-status="requires_action"' in waiting.text
    assert "Confirming your payment" in waiting.text
    assert 'http-equiv="refresh"' in waiting.text
    deliver_all(session_factory, settings, client)
    paid = client.get(status_url, follow_redirects=False)
    # Paid: on to the checkout pages' order confirmation.
    assert paid.status_code == 303
    assert paid.headers["location"] == f"/checkout/{placed.checkout_id}"  # type: ignore[attr-defined]


def test_pay_form_without_csrf_is_refused(session: Session, client: TestClient) -> None:
    buyer, placed = _placed(session)
    page_login(client, buyer.email)  # type: ignore[attr-defined]
    response = client.post(
        f"/checkout/{placed.checkout_id}/pay",  # type: ignore[attr-defined]
        data={"card_number": APPROVE},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_declined_card_shows_why(session: Session, client: TestClient) -> None:
    buyer, placed = _placed(session)
    csrf = page_login(client, buyer.email)  # type: ignore[attr-defined]
    response = client.post(
        f"/checkout/{placed.checkout_id}/pay",  # type: ignore[attr-defined]
        data={"card_number": DECLINED, "csrf_token": csrf},
    )
    assert response.status_code == 200
    assert "did not go through" in response.text and "The card was declined." in response.text


def test_someone_elses_challenge_is_404(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    buyer, placed = _placed(session)
    csrf = page_login(client, buyer.email)  # type: ignore[attr-defined]
    url = client.post(
        f"/checkout/{placed.checkout_id}/pay",  # type: ignore[attr-defined]
        data={"card_number": CHALLENGE, "csrf_token": csrf},
        follow_redirects=False,
    ).headers["location"]
    client.cookies.clear()
    stranger_csrf = page_login(client, shopper(session).email)
    assert client.get(url, headers={"Accept": "text/html"}).status_code == 404
    refused = client.post(url, data={"decision": "approve", "csrf_token": stranger_csrf})
    assert refused.status_code == 404
    session.rollback()
    assert session.query(Payment).one().status == "requires_action"


def test_seller_sees_payouts_and_downloads_the_statement(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    seller, product = make_shop(session, price_cents=5000)
    placed = place_checkout(
        session, shopper=shopper(session), orders=[OrderSpec([LineSpec(product)])]
    )
    pay_and_confirm(session_factory, settings, placed)
    with unit_of_work(session_factory) as s:
        checkout.mark_delivered(
            session=s, order_id=placed.order_ids[0], delivered_at=utcnow() - timedelta(days=8)
        )
    settle_delivered(session_factory)
    run_payouts(session_factory)
    from reelshop.accounts.models import User

    session.rollback()
    email = session.get(User, seller.user_id).email  # type: ignore[union-attr]
    page_login(client, email)
    page = client.get("/seller/payouts")
    assert page.status_code == 200
    assert "$46.00" in page.text
    match = re.search(r'href="(/seller/payouts/po_[^"]+/statement\.csv)"', page.text)
    assert match
    statement = client.get(match.group(1))
    assert statement.status_code == 200
    assert statement.headers["content-type"].startswith("text/csv")
    assert "attachment" in statement.headers["content-disposition"]
    lines = statement.text.strip().splitlines()
    assert lines[0].startswith("date,entry,type,order")
    assert ",settlement," in lines[1] and ",46.00," in lines[1]
    assert ",payout," in lines[2] and lines[2].endswith(",0.00")
    assert "/seller/payouts" in client.get("/seller").text
    # Another seller cannot read it.
    other, _ = make_shop(session)
    client.cookies.clear()
    page_login(client, session.get(User, other.user_id).email)  # type: ignore[union-attr]
    assert client.get(match.group(1)).status_code == 404


def test_finance_view_is_for_finance_staff(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    _, placed = _placed(session)
    pay_and_confirm(session_factory, settings, placed)  # type: ignore[arg-type]
    support = make_staff(session, StaffPermission.SUPPORT)
    finance = make_staff(session, StaffPermission.FINANCE)
    page_login(client, support.email)
    assert client.get("/staff/finance", headers={"Accept": "text/html"}).status_code == 403
    assert "/staff/finance" not in client.get("/staff").text
    client.cookies.clear()
    page_login(client, finance.email)
    assert 'href="/staff/finance"' in client.get("/staff").text
    page = client.get("/staff/finance")
    assert page.status_code == 200
    assert 'data-figure="escrow"' in page.text and "$15.00" in page.text
    assert "platform_escrow" in page.text and "capture" in page.text


def test_the_checkout_pages_pay_form_pays_through_the_processor(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    """The checkout engineer's confirmation page posts its pay form here; end to end."""
    import uuid

    from tests.checkout.helpers import ADDRESS
    from tests.factories import api_login

    _, product = make_shop(session, price_cents=2200)
    buyer = shopper(session)
    headers = api_login(client, buyer.email)
    assert (
        client.post(
            "/api/v1/cart/lines",
            json={"sku_id": product.skus[0].id, "quantity": 1},
            headers=headers,
        ).status_code
        == 201
    )
    placed = client.post(
        "/api/v1/checkouts",
        json={"address": ADDRESS},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert placed.status_code == 201, placed.text
    checkout_id = placed.json()["id"]
    page_login(client, buyer.email)
    confirmation = client.get(f"/checkout/{checkout_id}")
    form = re.search(
        r'<form method="post" action="(/checkout/[^"]+/pay)".*?</form>', confirmation.text, re.S
    )
    assert form, "the confirmation page has no pay form"
    fields = dict(re.findall(r'name="(csrf_token|idempotency_key)" value="([^"]*)"', form.group(0)))
    response = client.post(
        form.group(1), data={**fields, "card_number": APPROVE}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/checkout/{checkout_id}/payment"
    deliver_all(session_factory, settings, client)
    paid = client.get(response.headers["location"])
    assert paid.url.path == f"/checkout/{checkout_id}"
    session.rollback()
    assert session.get(Payment, session.query(Payment.id).scalar()).status == "captured"  # type: ignore[union-attr]
