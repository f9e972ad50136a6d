"""The pay step: idempotent, one live payment per checkout, the checkout's currency only."""

from __future__ import annotations

import threading
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.checkout.models import Checkout
from reelshop.payments.models import Payment, SimulatedCharge
from tests.factories import api_login
from tests.payments.helpers import (
    APPROVE,
    DECLINED,
    LineSpec,
    OrderSpec,
    make_shop,
    new_key,
    place_checkout,
    shopper,
)


def _checkout(session: Session, client: TestClient) -> tuple[str, dict[str, str], int]:
    _, product = make_shop(session, price_cents=1999)
    buyer = shopper(session)
    placed = place_checkout(session, shopper=buyer, orders=[OrderSpec([LineSpec(product, 2)])])
    return placed.checkout_id, api_login(client, buyer.email), placed.total


def _payments(session: Session) -> int:
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(Payment)) or 0)


def test_a_retried_pay_request_returns_the_first_answer(
    session: Session, client: TestClient
) -> None:
    checkout_id, headers, total = _checkout(session, client)
    key = new_key()
    url = f"/api/v1/checkouts/{checkout_id}/payments"
    first = client.post(url, json={"card_number": APPROVE}, headers={**headers, **key})
    again = client.post(url, json={"card_number": APPROVE}, headers={**headers, **key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["amount"] == total
    assert _payments(session) == 1
    assert session.scalar(select(func.count()).select_from(SimulatedCharge)) == 1


def test_the_same_key_with_another_body_is_422(session: Session, client: TestClient) -> None:
    checkout_id, headers, _ = _checkout(session, client)
    key = new_key()
    url = f"/api/v1/checkouts/{checkout_id}/payments"
    assert (
        client.post(url, json={"card_number": APPROVE}, headers={**headers, **key}).status_code
        == 201
    )
    other = client.post(url, json={"card_number": DECLINED}, headers={**headers, **key})
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    assert _payments(session) == 1


def test_pay_needs_an_idempotency_key(session: Session, client: TestClient) -> None:
    checkout_id, headers, _ = _checkout(session, client)
    response = client.post(
        f"/api/v1/checkouts/{checkout_id}/payments", json={"card_number": APPROVE}, headers=headers
    )
    assert response.status_code == 400
    assert _payments(session) == 0


def test_a_payment_in_another_currency_is_422_and_writes_nothing(
    session: Session, client: TestClient
) -> None:
    checkout_id, headers, _ = _checkout(session, client)
    response = client.post(
        f"/api/v1/checkouts/{checkout_id}/payments",
        json={"card_number": APPROVE, "currency": "EUR"},
        headers={**headers, **new_key()},
    )
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/payment-currency-mismatch"
    assert response.json()["checkout_currency"] == "USD"
    assert _payments(session) == 0
    assert session.scalar(select(func.count()).select_from(SimulatedCharge)) == 0


def test_bad_card_numbers_are_422(session: Session, client: TestClient) -> None:
    checkout_id, headers, _ = _checkout(session, client)
    url = f"/api/v1/checkouts/{checkout_id}/payments"
    for number in ("abc", "4242-4242", "1" * 30):
        response = client.post(url, json={"card_number": number}, headers={**headers, **new_key()})
        assert response.status_code == 422, (number, response.text)
    assert _payments(session) == 0


def test_someone_elses_checkout_is_404(session: Session, client: TestClient) -> None:
    checkout_id, _, _ = _checkout(session, client)
    stranger = api_login(client, shopper(session).email)
    response = client.post(
        f"/api/v1/checkouts/{checkout_id}/payments",
        json={"card_number": APPROVE},
        headers={**stranger, **new_key()},
    )
    assert response.status_code == 404
    assert _payments(session) == 0


def test_a_second_payment_while_one_is_live_is_409(session: Session, client: TestClient) -> None:
    checkout_id, headers, _ = _checkout(session, client)
    url = f"/api/v1/checkouts/{checkout_id}/payments"
    assert (
        client.post(
            url, json={"card_number": APPROVE}, headers={**headers, **new_key()}
        ).status_code
        == 201
    )
    second = client.post(url, json={"card_number": APPROVE}, headers={**headers, **new_key()})
    assert second.status_code == 409
    assert _payments(session) == 1


def test_a_failed_payment_closes_the_checkout(session: Session, client: TestClient) -> None:
    checkout_id, headers, _ = _checkout(session, client)
    url = f"/api/v1/checkouts/{checkout_id}/payments"
    declined = client.post(url, json={"card_number": DECLINED}, headers={**headers, **new_key()})
    assert declined.json()["status"] == "failed"
    retry = client.post(url, json={"card_number": APPROVE}, headers={**headers, **new_key()})
    assert retry.status_code == 409
    assert retry.json()["checkout_status"] == "cancelled"
    session.rollback()
    assert session.get(Checkout, checkout_id).status == "cancelled"  # type: ignore[union-attr]


def test_concurrent_pay_requests_with_different_keys_make_one_payment(
    session: Session, client: TestClient
) -> None:
    checkout_id, headers, _ = _checkout(session, client)
    url = f"/api/v1/checkouts/{checkout_id}/payments"
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        response = client.post(
            url,
            json={"card_number": APPROVE},
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 7
    assert _payments(session) == 1
    assert session.scalar(select(func.count()).select_from(SimulatedCharge)) == 1
