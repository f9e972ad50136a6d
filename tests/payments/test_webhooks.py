"""The pay step and the processor's webhooks, end to end through the HTTP endpoint:
approve, decline, 3-D Secure, duplicates, reordering, replays and forgeries."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout.models import Checkout, Order
from reelshop.config import Settings
from reelshop.db import unit_of_work, utcnow
from reelshop.inventory import service as inventory
from reelshop.payments import ledger
from reelshop.payments.jobs import deliver_simulated_webhooks
from reelshop.payments.models import Payment, ReceivedWebhook, SimulatedWebhook
from reelshop.payments.verify import verify
from tests.factories import api_login
from tests.payments.helpers import (
    APPROVE,
    CAPTURE_FAILS,
    CHALLENGE,
    DECLINED,
    INSUFFICIENT_FUNDS,
    LineSpec,
    OrderSpec,
    account,
    captures_for,
    client_poster,
    deliver_all,
    make_shop,
    new_key,
    pay,
    place_checkout,
    processor,
    shopper,
    undelivered,
)

WEBHOOK = "/api/v1/payments/webhooks/simulated"


def _two_seller_checkout(session: Session) -> tuple[object, object, object]:
    _, earbuds = make_shop(session, price_cents=2500, stock=10)
    _, lamp = make_shop(session, price_cents=4000, stock=10)
    buyer = shopper(session)
    placed = place_checkout(
        session,
        shopper=buyer,
        orders=[
            OrderSpec([LineSpec(earbuds, 2)], shipping=500, platform_discount=300),
            OrderSpec([LineSpec(lamp, 1)], seller_discount=400),
        ],
    )
    return buyer, placed, (earbuds, lamp)


def test_approved_card_is_captured_by_webhook_and_paid_once(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    buyer, placed, (earbuds, lamp) = _two_seller_checkout(session)
    headers = api_login(client, buyer.email)  # type: ignore[attr-defined]
    response = client.post(
        f"/api/v1/checkouts/{placed.checkout_id}/payments",  # type: ignore[attr-defined]
        json={"card_number": APPROVE, "currency": "USD"},
        headers={**headers, **new_key()},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "capture_requested"
    assert body["amount"] == placed.total  # type: ignore[attr-defined]
    # Nothing is paid until the processor confirms.
    session.rollback()
    assert session.get(Checkout, placed.checkout_id).status == "awaiting_payment"  # type: ignore[union-attr,attr-defined]

    settings.simulated_webhook_duplicate_rate = 1.0  # every webhook arrives twice
    deliver_all(session_factory, settings, client)

    session.rollback()
    payment = session.get(Payment, body["id"])
    assert payment is not None and payment.status == "captured"
    assert session.get(Checkout, placed.checkout_id).status == "paid"  # type: ignore[union-attr,attr-defined]
    for order_id in placed.order_ids:  # type: ignore[attr-defined]
        assert captures_for(session, order_id) == 1
        assert session.get(Order, order_id).status == "paid"  # type: ignore[union-attr]
    # 2 x 25.00 + 5.00 shipping - 3.00 platform voucher = 52.00 paid; escrow also holds
    # the 3.00 subsidy. 40.00 - 4.00 seller voucher = 36.00.
    assert placed.total == 5200 + 3600  # type: ignore[attr-defined]
    assert account(session, ledger.PROCESSOR_CLEARING) == 8800
    assert account(session, ledger.PLATFORM_VOUCHER_SUBSIDY) == 300
    assert account(session, ledger.PLATFORM_ESCROW) == 8800 + 300
    assert inventory.summary(session=session, sku_id=earbuds.skus[0].id).on_hand == 8  # type: ignore[attr-defined]
    assert inventory.summary(session=session, sku_id=lamp.skus[0].id).on_hand == 9  # type: ignore[attr-defined]
    assert undelivered(session) == 0
    assert verify(session=session).ok, verify(session=session).violations


def test_duplicate_webhooks_are_recorded_once(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    _, placed, _ = _two_seller_checkout(session)
    pay(session_factory, settings, placed)  # type: ignore[arg-type]
    settings.simulated_webhook_duplicate_rate = 1.0
    reports = deliver_all(session_factory, settings, client)
    assert sum(r.duplicates_sent for r in reports) == 2  # authorised and captured, each twice
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ReceivedWebhook)) == 2
    outcomes = sorted(session.scalars(select(ReceivedWebhook.outcome)))
    # The pay step already asked for capture, so the authorised event moves nothing.
    assert outcomes == ["captured; 2 order(s) paid", "ignored: payment already capture_requested"]


def test_out_of_order_late_authorised_after_captured_changes_nothing(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    _, placed, _ = _two_seller_checkout(session)
    payment_id = pay(session_factory, settings, placed)  # type: ignore[arg-type]
    # The simulator authorised and captured at once (the pay step asks for capture);
    # deliver the captured webhook first, then the authorised one.
    session.rollback()
    queued = list(session.scalars(select(SimulatedWebhook).order_by(SimulatedWebhook.id)))
    assert [w.event_type for w in queued] == ["payment.authorised", "payment.captured"]
    proc = processor(settings)
    for webhook in reversed(queued):
        raw = json.dumps(webhook.payload).encode()
        response = client.post(WEBHOOK, content=raw, headers=proc.signed_headers(raw))
        assert response.status_code == 200, response.text
    session.rollback()
    outcomes = {r.event_type: r.outcome for r in session.scalars(select(ReceivedWebhook))}
    assert outcomes["payment.captured"].startswith("captured")
    assert outcomes["payment.authorised"] == "ignored: payment already captured"
    assert session.get(Payment, payment_id).status == "captured"  # type: ignore[union-attr]
    assert verify(session=session).ok


def test_failed_after_captured_is_ignored(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    _, placed, _ = _two_seller_checkout(session)
    payment_id = pay(session_factory, settings, placed)  # type: ignore[arg-type]
    deliver_all(session_factory, settings, client)
    session.rollback()
    charge_ref = session.get(Payment, payment_id).provider_ref  # type: ignore[union-attr]
    late = {
        "id": "evt_late_failure",
        "type": "payment.failed",
        "created": int(utcnow().timestamp()),
        "data": {
            "charge": charge_ref,
            "decline_code": "card_declined",
            "amount": 1,
            "currency": "USD",
        },
    }
    raw = json.dumps(late).encode()
    response = client.post(WEBHOOK, content=raw, headers=processor(settings).signed_headers(raw))
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored: payment.failed after captured"
    session.rollback()
    assert session.get(Payment, payment_id).status == "captured"  # type: ignore[union-attr]
    assert session.get(Checkout, placed.checkout_id).status == "paid"  # type: ignore[union-attr,attr-defined]


def test_replayed_event_with_a_fresh_signature_is_a_duplicate(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    _, placed, _ = _two_seller_checkout(session)
    pay(session_factory, settings, placed)  # type: ignore[arg-type]
    deliver_all(session_factory, settings, client)
    session.rollback()
    captured = session.scalars(
        select(SimulatedWebhook).where(SimulatedWebhook.event_type == "payment.captured")
    ).one()
    raw = json.dumps(captured.payload).encode()
    response = client.post(WEBHOOK, content=raw, headers=processor(settings).signed_headers(raw))
    assert response.status_code == 200
    assert response.json()["outcome"] == "duplicate"
    for order_id in placed.order_ids:  # type: ignore[attr-defined]
        assert captures_for(session, order_id) == 1


@pytest.mark.parametrize(
    ("mangle", "detail"),
    [
        ("tamper_body", "does not match"),
        ("wrong_secret", "does not match"),
        ("no_header", "missing"),
        ("garbled_header", "must look like"),
        ("stale", "tolerance"),
        ("future", "tolerance"),
    ],
)
def test_unverifiable_webhooks_are_refused_and_write_nothing(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
    mangle: str,
    detail: str,
) -> None:
    _, placed, _ = _two_seller_checkout(session)
    payment_id = pay(session_factory, settings, placed)  # type: ignore[arg-type]
    session.rollback()
    captured = session.scalars(
        select(SimulatedWebhook).where(SimulatedWebhook.event_type == "payment.captured")
    ).one()
    raw = json.dumps(captured.payload).encode()
    proc = processor(settings)
    headers = proc.signed_headers(raw)
    if mangle == "tamper_body":
        raw = raw.replace(b'"amount":', b'"amount":1')
    elif mangle == "wrong_secret":
        headers = type(proc)(webhook_secret="not-the-secret").signed_headers(raw)
    elif mangle == "no_header":
        headers = {"Content-Type": "application/json"}
    elif mangle == "garbled_header":
        headers = {"Reelpay-Signature": "sha256=abc"}
    elif mangle == "stale":
        headers = proc.signed_headers(raw, at=utcnow() - timedelta(minutes=6))
    elif mangle == "future":
        headers = proc.signed_headers(raw, at=utcnow() + timedelta(minutes=6))
    response = client.post(WEBHOOK, content=raw, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert detail in response.json()["detail"]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ReceivedWebhook)) == 0
    assert session.get(Payment, payment_id).status == "capture_requested"  # type: ignore[union-attr]


def test_unknown_provider_is_404(client: TestClient) -> None:
    response = client.post("/api/v1/payments/webhooks/paypal", content=b"{}")
    assert response.status_code == 404


def test_malformed_but_signed_body_is_400(
    settings: Settings, client: TestClient, session: Session
) -> None:
    raw = b'{"id": "evt_x", "type": "payment.captured"}'
    response = client.post(WEBHOOK, content=raw, headers=processor(settings).signed_headers(raw))
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(ReceivedWebhook)) == 0


@pytest.mark.parametrize(
    ("card", "code"),
    [(INSUFFICIENT_FUNDS, "insufficient_funds"), (DECLINED, "card_declined")],
)
def test_declined_card_fails_the_checkout_and_releases_stock(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
    card: str,
    code: str,
) -> None:
    buyer, placed, (earbuds, _) = _two_seller_checkout(session)
    headers = api_login(client, buyer.email)  # type: ignore[attr-defined]
    response = client.post(
        f"/api/v1/checkouts/{placed.checkout_id}/payments",  # type: ignore[attr-defined]
        json={"card_number": card},
        headers={**headers, **new_key()},
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "failed"
    assert response.json()["failure_code"] == code
    session.rollback()
    assert session.get(Checkout, placed.checkout_id).status == "cancelled"  # type: ignore[union-attr,attr-defined]
    assert (
        inventory.available(session=session, sku_ids=[earbuds.skus[0].id])[earbuds.skus[0].id] == 10
    )  # type: ignore[attr-defined]
    # The processor's own failure webhook arrives later and changes nothing.
    deliver_all(session_factory, settings, client)
    session.rollback()
    outcomes = list(session.scalars(select(ReceivedWebhook.outcome)))
    assert outcomes == ["ignored: payment already failed"]
    assert verify(session=session).ok


def test_capture_failure_fails_the_checkout(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    _, placed, _ = _two_seller_checkout(session)
    payment_id = pay(session_factory, settings, placed, card=CAPTURE_FAILS)  # type: ignore[arg-type]
    deliver_all(session_factory, settings, client)
    session.rollback()
    payment = session.get(Payment, payment_id)
    assert payment is not None and payment.status == "failed"
    assert payment.failure_code == "capture_failed"
    assert session.get(Checkout, placed.checkout_id).status == "cancelled"  # type: ignore[union-attr,attr-defined]
    assert session.scalar(select(func.count()).select_from(ReceivedWebhook)) == 2


def test_three_d_secure_challenge_then_capture(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    _, placed, _ = _two_seller_checkout(session)
    payment_id = pay(session_factory, settings, placed, card=CHALLENGE)  # type: ignore[arg-type]
    session.rollback()
    payment = session.get(Payment, payment_id)
    assert payment is not None and payment.status == "requires_action"
    assert payment.action_url and payment.action_url.startswith("/simulated-processor/challenge/")
    assert undelivered(session) == 0  # nothing happens until the shopper acts
    with unit_of_work(session_factory) as s:
        processor(settings).complete_challenge(
            session=s, charge_id=payment.provider_ref or "", approve=True
        )
    deliver_all(session_factory, settings, client)
    session.rollback()
    assert session.get(Payment, payment_id).status == "captured"  # type: ignore[union-attr]


def test_failed_challenge_fails_the_payment(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    _, placed, _ = _two_seller_checkout(session)
    payment_id = pay(session_factory, settings, placed, card=CHALLENGE)  # type: ignore[arg-type]
    session.rollback()
    ref = session.get(Payment, payment_id).provider_ref  # type: ignore[union-attr]
    with unit_of_work(session_factory) as s:
        processor(settings).complete_challenge(session=s, charge_id=ref or "", approve=False)
    deliver_all(session_factory, settings, client)
    session.rollback()
    payment = session.get(Payment, payment_id)
    assert payment is not None and payment.status == "failed"
    assert payment.failure_code == "authentication_failed"


def test_delivery_order_is_shuffled_but_deterministic_for_a_seed(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    _, product = make_shop(session, stock=100)
    seen: list[str] = []

    def recording(body: bytes, headers: dict[str, str]) -> int:
        seen.append(json.loads(body)["id"])
        return client_poster(client)(body, headers)

    for _ in range(6):
        placed = place_checkout(
            session, shopper=shopper(session), orders=[OrderSpec([LineSpec(product)])]
        )
        pay(session_factory, settings, placed)
    session.rollback()
    in_queue = list(
        session.scalars(select(SimulatedWebhook.event_id).order_by(SimulatedWebhook.id))
    )
    deliver_simulated_webhooks(session_factory, settings, post=recording, rng=random.Random(3))
    assert sorted(seen) == sorted(in_queue)
    assert seen != in_queue  # reordered
    expected = list(in_queue)
    random.Random(3).shuffle(expected)
    assert seen == expected


def test_an_abandoned_challenge_is_voided_when_the_checkout_expires(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    from reelshop.checkout import service as checkout
    from reelshop.outbox.models import OutboxEvent
    from reelshop.outbox.relay import deliver
    from reelshop.payments.models import SimulatedCharge

    _, placed, _ = _two_seller_checkout(session)
    payment_id = pay(session_factory, settings, placed, card=CHALLENGE)  # type: ignore[arg-type]
    with unit_of_work(session_factory) as s:
        assert checkout.expire_unpaid(session=s, now=utcnow() + timedelta(hours=1)) == 1
    session.rollback()
    event_id = session.scalars(
        select(OutboxEvent.id).where(OutboxEvent.topic == "checkout.expired")
    ).one()
    assert deliver(session_factory, settings, event_id) == "delivered"
    session.rollback()
    payment = session.get(Payment, payment_id)
    assert payment is not None and payment.status == "voided"
    charge = session.get(SimulatedCharge, payment.provider_ref)
    assert charge is not None and charge.status == "voided"
    # The shopper comes back and completes the challenge anyway: nothing is taken.
    with unit_of_work(session_factory) as s:
        processor(settings).complete_challenge(session=s, charge_id=charge.id, approve=True)
    deliver_all(session_factory, settings, client)
    session.rollback()
    assert session.get(Payment, payment_id).status == "voided"  # type: ignore[union-attr]
    assert verify(session=session).ok


def test_the_same_capture_delivered_by_many_threads_at_once_pays_once(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
) -> None:
    import threading

    buyer, placed, _ = _two_seller_checkout(session)
    payment_id = pay(session_factory, settings, placed)  # type: ignore[arg-type]
    session.rollback()
    captured = session.scalars(
        select(SimulatedWebhook).where(SimulatedWebhook.event_type == "payment.captured")
    ).one()
    raw = json.dumps(captured.payload).encode()
    proc = processor(settings)
    barrier = threading.Barrier(6)
    answers: list[tuple[int, str]] = []

    def post() -> None:
        barrier.wait()
        response = client.post(WEBHOOK, content=raw, headers=proc.signed_headers(raw))
        answers.append((response.status_code, response.json()["outcome"]))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == sorted(
        [(200, "captured; 2 order(s) paid")] + [(200, "duplicate")] * 5
    )
    session.rollback()
    for order_id in placed.order_ids:  # type: ignore[attr-defined]
        assert captures_for(session, order_id) == 1
    mine = client.get(
        f"/api/v1/payments/{payment_id}",
        headers=api_login(client, buyer.email),  # type: ignore[attr-defined]
    )
    assert mine.status_code == 200 and mine.json()["status"] == "captured"
    assert verify(session=session).ok
