"""Carriers: how tracking numbers look, and the ``Carrier`` interface (rates, labels,
tracking, webhooks) with the built-in SIMULATED carrier network.

Real carriers (USPS, UPS, China Post/EMS) are known here only by their tracking number
formats, for sellers who enter a number bought elsewhere; the simulated carrier
is the only one that sells labels and sends tracking webhooks. It stands in for a
carrier plus a tracking aggregator and moves no real parcels.

Simulated webhooks are signed ``Reelship-Signature: t=<unix ts>,v1=<hex HMAC-SHA256 of
"<ts>.<body>">``; older than five minutes is refused. The body follows the usual
aggregator shape: ``{"id", "type": "tracker.updated", "created_at", "data": {"carrier",
"tracking_number", "checkpoint": {"status", "code", "message", "location",
"occurred_at"}}}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from reelshop.errors import InvalidInput, NotFound, ProblemError, problem_type
from reelshop.ids import new_id
from reelshop.logistics.models import Lane, ShipmentStatus
from reelshop.money import Money

SIMULATED = "simulated"
SIGNATURE_HEADER = "Reelship-Signature"
TOLERANCE_S = 300

UNKNOWN_CARRIER = problem_type("unknown-carrier", 404, "No such carrier")
BAD_TRACKING_NUMBER = problem_type(
    "bad-tracking-number", 422, "The tracking number does not match the carrier's format"
)
CARRIER_WEBHOOK_UNVERIFIED = problem_type(
    "carrier-webhook-unverified", 401, "The carrier webhook's signature did not verify"
)
CARRIER_WEBHOOK_MALFORMED = problem_type(
    "carrier-webhook-malformed", 400, "The carrier webhook body could not be read"
)
NO_LABELS = problem_type("carrier-sells-no-labels", 409, "This carrier sells no labels here")


class UnknownCarrier(NotFound):
    default_type = UNKNOWN_CARRIER


class BadTrackingNumber(InvalidInput):
    default_type = BAD_TRACKING_NUMBER


class CarrierWebhookUnverified(ProblemError):
    default_type = CARRIER_WEBHOOK_UNVERIFIED


class CarrierWebhookMalformed(ProblemError):
    default_type = CARRIER_WEBHOOK_MALFORMED


class NoLabels(ProblemError):
    default_type = NO_LABELS


# --- tracking number formats ----------------------------------------------------------------

_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial (international post items)."""
    remainder = 11 - sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(remainder, remainder)


def _s10(number: str, country: str) -> bool:
    match = re.fullmatch(rf"[A-Z]{{2}}(\d{{8}})(\d){country}", number)
    return match is not None and s10_check_digit(match.group(1)) == int(match.group(2))


_FORMATS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "usps": (
        "20 to 22 digits (e.g. 9400 1000 0000 0000 0000 00)",
        lambda n: re.fullmatch(r"\d{20,22}", n) is not None,
    ),
    "ups": (
        "1Z followed by 16 letters or digits",
        lambda n: re.fullmatch(r"1Z[0-9A-Z]{16}", n) is not None,
    ),
    "china_post": (
        "two letters, 8 digits, a check digit and CN (e.g. LX12345678?CN)",
        lambda n: _s10(n, "CN"),
    ),
    SIMULATED: (
        "RSIM followed by 12 letters or digits",
        lambda n: re.fullmatch(r"RSIM[0-9A-Z]{12}", n) is not None,
    ),
}

CARRIER_NAMES = {
    "usps": "USPS",
    "ups": "UPS",
    "china_post": "China Post / EMS",
    SIMULATED: "Reelshop simulated carrier",
}


def normalise_tracking_number(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw).upper()


def validate_tracking_number(carrier: str, raw: str) -> str:
    """The number in canonical form, or a 422 naming the expected format."""
    if carrier not in _FORMATS:
        raise UnknownCarrier(f"no carrier {carrier!r}", carrier=carrier)
    number = normalise_tracking_number(raw)
    description, matches = _FORMATS[carrier]
    if not matches(number):
        raise BadTrackingNumber(
            f"a {CARRIER_NAMES[carrier]} tracking number is {description}",
            field="tracking_number",
            carrier=carrier,
        )
    return number


# --- the interface -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    carrier: str
    service: str
    lane: str
    price: Money
    min_days: int
    max_days: int


@dataclass(frozen=True)
class Label:
    tracking_number: str
    price: Money


@dataclass(frozen=True)
class Checkpoint:
    """One tracking event as our service understands it, whatever the carrier."""

    event_id: str
    tracking_number: str
    status: ShipmentStatus
    code: str
    message: str
    location: str | None
    occurred_at: datetime
    raw: dict[str, Any]


class Carrier(Protocol):
    code: str

    def rates(self, *, lane: Lane, weight_grams: int) -> list[Rate]: ...

    def buy_label(self, *, lane: Lane, weight_grams: int) -> Label: ...

    def track(self, *, tracking_number: str) -> list[Checkpoint]: ...

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> Checkpoint: ...


class NumberOnlyCarrier:
    """A real carrier we know only by its number format (the seller bought the label)."""

    def __init__(self, code: str) -> None:
        self.code = code

    def rates(self, *, lane: Lane, weight_grams: int) -> list[Rate]:
        return []

    def buy_label(self, *, lane: Lane, weight_grams: int) -> Label:
        raise NoLabels(f"buy {CARRIER_NAMES[self.code]} labels with them and enter the number")

    def track(self, *, tracking_number: str) -> list[Checkpoint]:
        return []

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> Checkpoint:
        raise NoLabels(f"{CARRIER_NAMES[self.code]} sends us no webhooks yet")


# --- the SIMULATED network ------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    """A step of a lane: the scan it ends with, and its duration in hours (lognormal)."""

    status: ShipmentStatus
    code: str
    message: str
    location: str
    median_h: float
    sigma: float = 0.4


LANES: dict[Lane, tuple[Leg, ...]] = {
    Lane.DOMESTIC_US: (
        Leg(ShipmentStatus.IN_TRANSIT, "picked_up", "Picked up", "Edison, NJ", 18),
        Leg(
            ShipmentStatus.IN_TRANSIT, "arrived_hub", "Arrived at regional hub", "Columbus, OH", 20
        ),
        Leg(ShipmentStatus.IN_TRANSIT, "departed_hub", "Departed regional hub", "Columbus, OH", 6),
        Leg(
            ShipmentStatus.OUT_FOR_DELIVERY,
            "out_for_delivery",
            "Out for delivery",
            "Chicago, IL",
            30,
        ),
        Leg(ShipmentStatus.DELIVERED, "delivered", "Delivered", "Chicago, IL", 6, 0.3),
    ),
    Lane.CN_US: (
        Leg(ShipmentStatus.IN_TRANSIT, "picked_up", "Picked up by carrier", "Shenzhen, CN", 20),
        Leg(
            ShipmentStatus.IN_TRANSIT,
            "export_customs",
            "Export customs cleared",
            "Shenzhen, CN",
            30,
        ),
        Leg(
            ShipmentStatus.IN_TRANSIT,
            "linehaul_departed",
            "Line-haul flight departed",
            "Hong Kong, HK",
            24,
        ),
        Leg(
            ShipmentStatus.IN_TRANSIT,
            "linehaul_arrived",
            "Line-haul flight arrived",
            "Los Angeles, US",
            16,
        ),
        Leg(
            ShipmentStatus.IN_TRANSIT,
            "import_customs",
            "Import customs cleared",
            "Los Angeles, US",
            30,
            0.6,
        ),
        Leg(
            ShipmentStatus.IN_TRANSIT,
            "last_mile_handover",
            "Handed over to last-mile carrier",
            "Los Angeles, US",
            12,
        ),
        Leg(
            ShipmentStatus.OUT_FOR_DELIVERY,
            "out_for_delivery",
            "Out for delivery",
            "Chicago, IL",
            60,
        ),
        Leg(ShipmentStatus.DELIVERED, "delivered", "Delivered", "Chicago, IL", 6, 0.3),
    ),
}

# Base price (cents) and per-500 g step, per lane.
_PRICES = {Lane.DOMESTIC_US: (450, 120), Lane.CN_US: (890, 310)}
_DAYS = {Lane.DOMESTIC_US: (2, 5), Lane.CN_US: (7, 15)}


@dataclass(frozen=True)
class Mishaps:
    customs_hold: float = 0.08
    exception: float = 0.04
    lost: float = 0.01


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class SimulatedCarrier:
    """The SIMULATED carrier: sells labels, plans each parcel's journey at purchase, and
    reports it through signed webhooks (queued by the caller, posted by a worker job)."""

    code = SIMULATED

    def __init__(
        self,
        *,
        webhook_secret: str,
        rng: random.Random | None = None,
        mishaps: Mishaps | None = None,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.rng = rng or random.Random()
        self.mishaps = mishaps or Mishaps()

    def rates(self, *, lane: Lane, weight_grams: int) -> list[Rate]:
        base, step = _PRICES[lane]
        steps = max(0, (weight_grams - 1) // 500)
        low, high = _DAYS[lane]
        return [Rate(SIMULATED, "standard", lane, Money(base + step * steps, "USD"), low, high)]

    def buy_label(self, *, lane: Lane, weight_grams: int) -> Label:
        alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
        number = "RSIM" + "".join(self.rng.choice(alphabet) for _ in range(12))
        return Label(number, self.rates(lane=lane, weight_grams=weight_grams)[0].price)

    def track(self, *, tracking_number: str) -> list[Checkpoint]:
        return []  # the simulated carrier pushes; it keeps no history to pull

    def journey(self, *, tracking_number: str, lane: Lane, start: datetime) -> list[dict[str, Any]]:
        """The webhook bodies of one parcel's whole trip, in the order things happen."""
        at = start
        bodies: list[dict[str, Any]] = []

        def scan(status: ShipmentStatus, code: str, message: str, location: str | None) -> None:
            event_id = new_id("cev")
            bodies.append(
                {
                    "id": event_id,
                    "type": "tracker.updated",
                    "data": {
                        "carrier": SIMULATED,
                        "tracking_number": tracking_number,
                        "checkpoint": {
                            "status": str(status),
                            "code": code,
                            "message": message,
                            "location": location,
                            "occurred_at": at.isoformat(),
                        },
                    },
                }
            )

        lost_after = (
            self.rng.randrange(1, len(LANES[lane]) - 1)
            if self.rng.random() < self.mishaps.lost
            else None
        )
        for index, leg in enumerate(LANES[lane]):
            at += timedelta(hours=self.rng.lognormvariate(0, leg.sigma) * leg.median_h)
            if leg.code == "import_customs" and self.rng.random() < self.mishaps.customs_hold:
                scan(
                    ShipmentStatus.EXCEPTION,
                    "customs_hold",
                    "Held by customs for inspection",
                    leg.location,
                )
                at += timedelta(hours=self.rng.uniform(24, 96))
            if (
                leg.status == ShipmentStatus.OUT_FOR_DELIVERY
                and self.rng.random() < self.mishaps.exception
            ):
                scan(
                    ShipmentStatus.EXCEPTION,
                    "delivery_attempted",
                    "Delivery attempted; nobody home",
                    leg.location,
                )
                at += timedelta(hours=self.rng.uniform(20, 30))
            scan(leg.status, leg.code, leg.message, leg.location)
            if lost_after is not None and index == lost_after:
                at += timedelta(days=self.rng.uniform(10, 20))
                scan(ShipmentStatus.LOST, "lost", "Parcel declared lost", None)
                break
        return bodies

    def signed_headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(self.webhook_secret, body, ts),
        }

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> Checkpoint:
        header = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower()) or ""
        timestamp: int | None = None
        candidates: list[str] = []
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key == "t" and value.isdigit():
                timestamp = int(value)
            elif key == "v1" and value:
                candidates.append(value)
        if timestamp is None or not candidates:
            raise CarrierWebhookUnverified(f"{SIGNATURE_HEADER} must be t=<timestamp>,v1=<hex>")
        if abs(time.time() - timestamp) > TOLERANCE_S:
            raise CarrierWebhookUnverified("the webhook is too old (or from the future)")
        expected = signature(self.webhook_secret, body, timestamp).split("v1=")[1]
        if not any(hmac.compare_digest(expected, c) for c in candidates):
            raise CarrierWebhookUnverified("the webhook signature does not match")
        return checkpoint_of(body)


def checkpoint_of(body: bytes) -> Checkpoint:
    try:
        raw = json.loads(body)
        data = raw["data"]
        point = data["checkpoint"]
        occurred = datetime.fromisoformat(point["occurred_at"])
        if occurred.tzinfo is None:
            raise ValueError("naive timestamp")
        return Checkpoint(
            event_id=str(raw["id"])[:80],
            tracking_number=normalise_tracking_number(str(data["tracking_number"]))[:40],
            status=ShipmentStatus(point["status"]),
            code=str(point.get("code") or point["status"])[:40],
            message=str(point.get("message") or "")[:200],
            location=(str(point["location"])[:120] if point.get("location") else None),
            occurred_at=occurred,
            raw=raw,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise CarrierWebhookMalformed(f"unreadable tracking event: {exc}") from None


def webhook_secret(secret_key: str) -> str:
    """The simulated carrier's signing key, derived from the app's secret key."""
    return hmac.new(secret_key.encode(), b"logistics.simulated-carrier", hashlib.sha256).hexdigest()


def get_carrier(code: str, *, secret_key: str, rng: random.Random | None = None) -> Carrier:
    if code == SIMULATED:
        return SimulatedCarrier(webhook_secret=webhook_secret(secret_key), rng=rng)
    if code in _FORMATS:
        return NumberOnlyCarrier(code)
    raise UnknownCarrier(f"no carrier {code!r}", carrier=code)
