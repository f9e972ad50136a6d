"""The SIMULATED payment processor: a stand-in for a real card processor, for
development, the demo and tests. It moves no real money.

It behaves like a real one where it matters to our code:

- test card numbers decide the outcome (see ``TEST_CARDS``): approve, decline with
  ``insufficient_funds`` or ``card_declined``, require a 3-D-Secure-like challenge,
  or authorise and then fail at capture;
- it answers calls at once but confirms captures only through signed webhooks,
  which it queues in its own table (``simulated_webhooks``); the worker job
  ``payments.deliver_simulated_webhooks`` POSTs them to our webhook endpoint over
  HTTP, sometimes twice and in shuffled order (deterministic for a given seed);
- webhooks are signed ``Reelpay-Signature: t=<unix ts>,v1=<hex HMAC-SHA256 of
  "<ts>.<body>">`` and older than five minutes are refused.

Simplification: its state lives in our database and commits with our transaction,
where a real processor's would not (see docs/payments.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelshop.db import unit_of_work, utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.ids import new_id
from reelshop.money import Money
from reelshop.payments.models import (
    SimulatedCharge,
    SimulatedChargeStatus,
    SimulatedWebhook,
)
from reelshop.payments.provider import (
    EventType,
    PaymentMethod,
    ProviderEvent,
    ProviderResult,
    ProviderStatus,
    WebhookMalformed,
    WebhookUnverified,
)

log = logging.getLogger("reelshop.payments.simulator")

NAME = "simulated"
SIGNATURE_HEADER = "Reelpay-Signature"
TOLERANCE = timedelta(minutes=5)
CHALLENGE_PATH = "/simulated-processor/challenge/"


@dataclass(frozen=True)
class TestCard:
    number: str
    behaviour: str
    decline_code: str | None = None


TEST_CARDS = {
    c.number: c
    for c in (
        TestCard("4242424242424242", "approve"),
        TestCard("4000000000003220", "challenge"),
        TestCard("4000000000009995", "decline", "insufficient_funds"),
        TestCard("4000000000000002", "decline", "card_declined"),
        TestCard("4000000000000341", "capture_fails", "capture_failed"),
    )
}


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _parse_signature(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookUnverified(f"{SIGNATURE_HEADER} must look like t=<timestamp>,v1=<hex>")
    return timestamp, signatures


class SimulatedProcessor:
    """A PaymentProvider. Construct with the webhook signing secret."""

    name = NAME

    def __init__(self, *, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret

    # --- calls our service makes ------------------------------------------------------------

    def authorise(
        self,
        *,
        session: Session,
        payment_id: str,
        amount: Money,
        method: PaymentMethod,
        return_url: str,
    ) -> ProviderResult:
        existing = session.scalars(
            select(SimulatedCharge).where(SimulatedCharge.merchant_reference == payment_id)
        ).first()
        if existing is not None:
            return self._result(existing)
        number = "".join(ch for ch in method.card_number if ch.isdigit())
        if len(number) < 12 or len(number) > 19:
            raise InvalidInput("enter a card number of 12 to 19 digits", field="card_number")
        card = TEST_CARDS.get(number, TestCard(number, "approve"))
        charge = SimulatedCharge(
            id=new_id("sim"),
            merchant_reference=payment_id,
            amount=amount.amount,
            currency=amount.currency,
            card_last4=number[-4:],
            status=SimulatedChargeStatus.AUTHORISED,
        )
        if card.behaviour == "decline":
            charge.status = SimulatedChargeStatus.DECLINED
            charge.decline_code = card.decline_code
        elif card.behaviour == "challenge":
            charge.status = SimulatedChargeStatus.REQUIRES_ACTION
        elif card.behaviour == "capture_fails":
            charge.decline_code = card.decline_code  # remembered for capture
        session.add(charge)
        session.flush()
        if charge.status == SimulatedChargeStatus.DECLINED:
            self._queue(session, EventType.FAILED, charge)
        elif charge.status == SimulatedChargeStatus.AUTHORISED:
            self._queue(session, EventType.AUTHORISED, charge)
        return self._result(charge)

    def capture(self, *, session: Session, provider_ref: str, amount: Money) -> ProviderResult:
        charge = self._lock(session, provider_ref)
        if charge.status == SimulatedChargeStatus.CAPTURED:
            return self._result(charge)
        if charge.status != SimulatedChargeStatus.AUTHORISED:
            raise Conflict(f"simulated charge is {charge.status}; only authorised ones capture")
        if amount.currency != charge.currency or amount.amount > charge.amount:
            raise InvalidInput("capture more than was authorised")
        if charge.decline_code == "capture_failed":
            charge.status = SimulatedChargeStatus.DECLINED
            self._queue(session, EventType.FAILED, charge)
        else:
            charge.status = SimulatedChargeStatus.CAPTURED
            charge.captured_amount = amount.amount
            self._queue(session, EventType.CAPTURED, charge)
        session.flush()
        return ProviderResult(charge.id, ProviderStatus.PROCESSING)

    def refund(
        self, *, session: Session, provider_ref: str, amount: Money, refund_id: str
    ) -> ProviderResult:
        charge = self._lock(session, provider_ref)
        if charge.status != SimulatedChargeStatus.CAPTURED:
            raise Conflict(f"simulated charge is {charge.status}; only captured ones refund")
        if amount.amount <= 0 or charge.refunded_amount + amount.amount > charge.captured_amount:
            raise Conflict("refund more than was captured")
        charge.refunded_amount += amount.amount
        self._queue(
            session, EventType.REFUND_SUCCEEDED, charge, extra={"refund": refund_id}, amount=amount
        )
        session.flush()
        return ProviderResult(charge.id, ProviderStatus.REFUNDED)

    def void(self, *, session: Session, provider_ref: str) -> ProviderResult:
        charge = self._lock(session, provider_ref)
        if charge.status in (
            SimulatedChargeStatus.AUTHORISED,
            SimulatedChargeStatus.REQUIRES_ACTION,
        ):
            charge.status = SimulatedChargeStatus.VOIDED
            self._queue(session, EventType.VOIDED, charge)
            session.flush()
        elif charge.status != SimulatedChargeStatus.VOIDED:
            raise Conflict(f"simulated charge is {charge.status}; it cannot be voided")
        return ProviderResult(charge.id, ProviderStatus.VOIDED)

    # --- the shopper's side: the challenge page ---------------------------------------------

    def get_charge(self, *, session: Session, charge_id: str) -> SimulatedCharge:
        charge = session.get(SimulatedCharge, charge_id)
        if charge is None:
            raise NotFound("no such simulated charge")
        return charge

    def complete_challenge(
        self, *, session: Session, charge_id: str, approve: bool
    ) -> SimulatedCharge:
        """The shopper passed (or failed) the challenge. Idempotent."""
        charge = self._lock(session, charge_id)
        if charge.status != SimulatedChargeStatus.REQUIRES_ACTION:
            return charge
        if approve:
            charge.status = SimulatedChargeStatus.AUTHORISED
            self._queue(session, EventType.AUTHORISED, charge)
        else:
            charge.status = SimulatedChargeStatus.DECLINED
            charge.decline_code = "authentication_failed"
            self._queue(session, EventType.FAILED, charge)
        session.flush()
        return charge

    # --- webhooks -----------------------------------------------------------------------------

    def parse_and_verify_webhook(
        self, *, body: bytes, headers: Mapping[str, str], now: datetime | None = None
    ) -> ProviderEvent:
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
        if not header:
            raise WebhookUnverified(f"missing {SIGNATURE_HEADER} header")
        timestamp, signatures = _parse_signature(header)
        expected = sign(self.webhook_secret, body, timestamp).split("v1=", 1)[1]
        if not any(hmac.compare_digest(expected, s) for s in signatures):
            raise WebhookUnverified("the webhook signature does not match its body")
        now = now or utcnow()
        sent_at = datetime.fromtimestamp(timestamp, UTC)
        if abs(now - sent_at) > TOLERANCE:
            raise WebhookUnverified(
                "the webhook timestamp is outside the five-minute tolerance (replayed or late)"
            )
        try:
            doc = json.loads(body)
            data = doc["data"]
            amount = Money(int(data["amount"]), str(data["currency"])) if "amount" in data else None
            return ProviderEvent(
                event_id=str(doc["id"]),
                event_type=str(doc["type"]),
                provider_ref=str(data["charge"]),
                merchant_reference=data.get("merchant_reference"),
                amount=amount,
                decline_code=data.get("decline_code"),
                occurred_at=datetime.fromtimestamp(int(doc["created"]), UTC),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookMalformed(f"unreadable webhook body: {exc}") from exc

    def signed_headers(self, body: bytes, *, at: datetime | None = None) -> dict[str, str]:
        ts = int((at or utcnow()).timestamp())
        return {
            SIGNATURE_HEADER: sign(self.webhook_secret, body, ts),
            "Content-Type": "application/json",
        }

    # --- internals ------------------------------------------------------------------------------

    def _lock(self, session: Session, charge_id: str) -> SimulatedCharge:
        query = select(SimulatedCharge).where(SimulatedCharge.id == charge_id)
        query = query.with_for_update()
        charge = session.scalars(query.execution_options(populate_existing=True)).first()
        if charge is None:
            raise NotFound("no such simulated charge")
        return charge

    def _result(self, charge: SimulatedCharge) -> ProviderResult:
        status = {
            SimulatedChargeStatus.REQUIRES_ACTION: ProviderStatus.REQUIRES_ACTION,
            SimulatedChargeStatus.AUTHORISED: ProviderStatus.AUTHORISED,
            SimulatedChargeStatus.CAPTURED: ProviderStatus.PROCESSING,
            SimulatedChargeStatus.DECLINED: ProviderStatus.DECLINED,
            SimulatedChargeStatus.VOIDED: ProviderStatus.VOIDED,
        }[SimulatedChargeStatus(charge.status)]
        return ProviderResult(
            provider_ref=charge.id,
            status=status,
            action_url=CHALLENGE_PATH + charge.id
            if status == ProviderStatus.REQUIRES_ACTION
            else None,
            decline_code=charge.decline_code if status == ProviderStatus.DECLINED else None,
            message=_DECLINE_MESSAGES.get(charge.decline_code or "")
            if status == ProviderStatus.DECLINED
            else None,
        )

    def _queue(
        self,
        session: Session,
        event_type: EventType,
        charge: SimulatedCharge,
        *,
        extra: dict[str, Any] | None = None,
        amount: Money | None = None,
    ) -> SimulatedWebhook:
        event_id = new_id("evt")
        data: dict[str, Any] = {
            "charge": charge.id,
            "merchant_reference": charge.merchant_reference,
            "amount": amount.amount if amount else charge.amount,
            "currency": charge.currency,
        }
        if event_type == EventType.FAILED:
            data["decline_code"] = charge.decline_code
        data.update(extra or {})
        webhook = SimulatedWebhook(
            event_id=event_id,
            event_type=event_type,
            payload={
                "id": event_id,
                "type": str(event_type),
                "created": int(utcnow().timestamp()),
                "data": data,
            },
        )
        session.add(webhook)
        return webhook


_DECLINE_MESSAGES = {
    "insufficient_funds": "The card has insufficient funds.",
    "card_declined": "The card was declined.",
    "authentication_failed": "The card issuer's verification was not completed.",
    "capture_failed": "The card issuer refused the charge.",
}


def decline_message(code: str | None) -> str:
    return _DECLINE_MESSAGES.get(code or "", "The payment did not go through.")


# --- the delivery job ---------------------------------------------------------------------------

PostWebhook = Callable[[bytes, dict[str, str]], int]


@dataclass(frozen=True)
class DeliveryReport:
    attempted: int
    delivered: int
    duplicates_sent: int
    failed: int


def deliver_due_webhooks(
    factory: sessionmaker[Session],
    processor: SimulatedProcessor,
    post: PostWebhook,
    *,
    rng: random.Random,
    duplicate_rate: float = 0.1,
    limit: int = 100,
    now: datetime | None = None,
) -> DeliveryReport:
    """POST due webhooks to our endpoint, in shuffled order, some of them twice.

    Reading, posting and recording happen in separate short transactions: the
    endpoint needs the database while we wait for its answer.
    """
    now = now or utcnow()
    with unit_of_work(factory) as session:
        due = [
            (w.id, w.payload, w.attempts)
            for w in session.scalars(
                select(SimulatedWebhook)
                .where(
                    SimulatedWebhook.delivered_at.is_(None), SimulatedWebhook.next_attempt_at <= now
                )
                .order_by(SimulatedWebhook.id)
                .limit(limit)
            )
        ]
    rng.shuffle(due)
    outcomes: dict[int, int] = {}
    duplicates = 0
    for webhook_id, payload, _attempts in due:
        body = json.dumps(payload, separators=(",", ":")).encode()
        copies = 2 if rng.random() < duplicate_rate else 1
        duplicates += copies - 1
        status = 0
        for _ in range(copies):
            try:
                status = post(body, processor.signed_headers(body))
            except Exception as exc:  # the endpoint is down: try again later
                log.warning("simulated webhook delivery failed", extra={"error": repr(exc)})
                status = 0
        outcomes[webhook_id] = status
    delivered = failed = 0
    with unit_of_work(factory) as session:
        for webhook_id, _payload, attempts in due:
            status = outcomes[webhook_id]
            values: dict[str, Any] = {"last_status": status, "attempts": attempts + 1}
            if 200 <= status < 300:
                values["delivered_at"] = utcnow()
                delivered += 1
            else:
                backoff = min(60.0, 0.5 * (2**attempts))
                values["next_attempt_at"] = utcnow() + timedelta(seconds=backoff)
                failed += 1
            session.execute(
                update(SimulatedWebhook).where(SimulatedWebhook.id == webhook_id).values(**values)
            )
    return DeliveryReport(len(due), delivered, duplicates, failed)


def http_poster(url: str, *, timeout_s: float = 10.0) -> PostWebhook:
    """POST to our own webhook endpoint over HTTP (the worker's way)."""
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise ValueError("the webhook URL must be http(s)")

    def post(body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked above
        try:
            # bandit B310: the scheme is checked above (http or https only)
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 # nosec B310
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    return post
