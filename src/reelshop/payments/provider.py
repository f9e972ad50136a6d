"""The interface every payment processor adapter implements, and the types it speaks.

Shaped after how real card processors work: authorisation may need the shopper to
complete a challenge (3-D Secure), the final word on a payment arrives later as a
signed webhook, and every call is idempotent on our reference. ``docs/payments.md``
maps a Stripe adapter onto it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy.orm import Session

from reelshop.errors import ProblemError, problem_type
from reelshop.money import Money

WEBHOOK_UNVERIFIED = problem_type(
    "webhook-unverified", 401, "The webhook signature is missing, wrong or too old"
)
WEBHOOK_MALFORMED = problem_type("webhook-malformed", 400, "The webhook body could not be read")
UNKNOWN_PROVIDER = problem_type("unknown-payment-provider", 404, "No such payment provider")


class WebhookUnverified(ProblemError):
    default_type = WEBHOOK_UNVERIFIED


class WebhookMalformed(ProblemError):
    default_type = WEBHOOK_MALFORMED


class ProviderStatus(StrEnum):
    REQUIRES_ACTION = "requires_action"  # send the shopper to ``action_url``
    AUTHORISED = "authorised"
    PROCESSING = "processing"  # accepted; the outcome arrives by webhook
    DECLINED = "declined"
    REFUNDED = "refunded"
    VOIDED = "voided"


class EventType(StrEnum):
    AUTHORISED = "payment.authorised"
    CAPTURED = "payment.captured"
    FAILED = "payment.failed"
    VOIDED = "payment.voided"
    REFUND_SUCCEEDED = "refund.succeeded"


@dataclass(frozen=True)
class PaymentMethod:
    """What the shopper entered. Card numbers never reach our database: only the
    provider sees them (and the simulated one keeps the last four digits)."""

    card_number: str


@dataclass(frozen=True)
class ProviderResult:
    provider_ref: str
    status: ProviderStatus
    action_url: str | None = None
    decline_code: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook, in the provider-neutral shape our service applies."""

    event_id: str
    event_type: str
    provider_ref: str
    merchant_reference: str | None
    amount: Money | None
    decline_code: str | None
    occurred_at: datetime


class PaymentProvider(Protocol):
    name: str

    def authorise(
        self,
        *,
        session: Session,
        payment_id: str,
        amount: Money,
        method: PaymentMethod,
        return_url: str,
    ) -> ProviderResult:
        """Hold ``amount`` on the shopper's card. Idempotent on ``payment_id``."""
        ...

    def capture(self, *, session: Session, provider_ref: str, amount: Money) -> ProviderResult:
        """Take authorised funds; confirmation arrives as a ``payment.captured`` webhook."""
        ...

    def refund(
        self, *, session: Session, provider_ref: str, amount: Money, refund_id: str
    ) -> ProviderResult:
        """Give back part or all of a captured amount. Idempotent on ``refund_id``."""
        ...

    def void(self, *, session: Session, provider_ref: str) -> ProviderResult:
        """Cancel an authorisation that was not captured."""
        ...

    def parse_and_verify_webhook(
        self, *, body: bytes, headers: Mapping[str, str], now: datetime | None = None
    ) -> ProviderEvent:
        """Check the signature and freshness, then parse; raise WebhookUnverified or
        WebhookMalformed (nothing may be written for an unverified webhook)."""
        ...
