from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from reelshop.logistics.carriers import (
    BadTrackingNumber,
    Mishaps,
    NoLabels,
    SimulatedCarrier,
    UnknownCarrier,
    get_carrier,
    s10_check_digit,
    validate_tracking_number,
)
from reelshop.logistics.models import Lane, ShipmentStatus


def _china_post(serial: str = "12345678", prefix: str = "LX") -> str:
    return f"{prefix}{serial}{s10_check_digit(serial)}CN"


def test_s10_check_digit_follows_the_upu_weights() -> None:
    # 4*8+7*6+3*4+6*2+5*3+8*5+5*9+1*7 = 205; 205 % 11 = 7; 11 - 7 = 4
    assert s10_check_digit("47365851") == 4
    assert s10_check_digit("12345678") == 5


@pytest.mark.parametrize(
    ("carrier", "raw", "canonical"),
    [
        ("usps", "9400 1000 0000 0000 0000 00", "9400100000000000000000"),
        ("usps", "92055901755477000000000", None),
        ("usps", "94001000000000000000", "94001000000000000000"),
        ("ups", "1z999aa10123456784", "1Z999AA10123456784"),
        ("ups", "1Z999AA1012345678", None),
        ("ups", "2Z999AA10123456784", None),
        ("china_post", "LX123456785CN", "LX123456785CN"),
        ("china_post", "LX123456789CN", None),  # wrong check digit
        ("china_post", "LX123456785US", None),
        ("simulated", "RSIM0123456789AB", "RSIM0123456789AB"),
        ("simulated", "RSIM0123", None),
        ("usps", "", None),
    ],
)
def test_tracking_numbers_are_checked_per_carrier(
    carrier: str, raw: str, canonical: str | None
) -> None:
    if canonical is None:
        with pytest.raises(BadTrackingNumber):
            validate_tracking_number(carrier, raw)
    else:
        assert validate_tracking_number(carrier, raw) == canonical


def test_china_post_numbers_with_any_valid_serial_pass() -> None:
    rng = random.Random(3)
    for _ in range(50):
        serial = "".join(rng.choice("0123456789") for _ in range(8))
        assert validate_tracking_number("china_post", _china_post(serial, "EA")).endswith("CN")


def test_unknown_carrier_is_a_404_problem() -> None:
    with pytest.raises(UnknownCarrier):
        validate_tracking_number("fedex-ish", "123")
    with pytest.raises(UnknownCarrier):
        get_carrier("nope", secret_key="k")


def test_only_the_simulated_carrier_sells_labels() -> None:
    with pytest.raises(NoLabels):
        get_carrier("ups", secret_key="k").buy_label(lane=Lane.DOMESTIC_US, weight_grams=500)
    label = get_carrier("simulated", secret_key="k").buy_label(lane=Lane.CN_US, weight_grams=500)
    assert validate_tracking_number("simulated", label.tracking_number)


def test_simulated_rates_grow_with_weight_and_distance() -> None:
    sim = SimulatedCarrier(webhook_secret="s")
    light = sim.rates(lane=Lane.DOMESTIC_US, weight_grams=400)[0]
    heavy = sim.rates(lane=Lane.DOMESTIC_US, weight_grams=2400)[0]
    cross = sim.rates(lane=Lane.CN_US, weight_grams=400)[0]
    assert light.price.amount < heavy.price.amount
    assert cross.price.amount > light.price.amount
    assert cross.min_days >= light.max_days


def test_cross_border_journey_goes_through_customs_and_the_flight_in_time_order() -> None:
    sim = SimulatedCarrier(webhook_secret="s", rng=random.Random(5), mishaps=Mishaps(0, 0, 0))
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    bodies = sim.journey(tracking_number="RSIM0123456789AB", lane=Lane.CN_US, start=start)
    codes = [b["data"]["checkpoint"]["code"] for b in bodies]
    assert codes == [
        "picked_up",
        "export_customs",
        "linehaul_departed",
        "linehaul_arrived",
        "import_customs",
        "last_mile_handover",
        "out_for_delivery",
        "delivered",
    ]
    times = [datetime.fromisoformat(b["data"]["checkpoint"]["occurred_at"]) for b in bodies]
    assert times == sorted(times) and times[0] > start
    assert 3 < (times[-1] - start).days < 30


def test_mishaps_happen_at_their_rates() -> None:
    sim = SimulatedCarrier(webhook_secret="s", rng=random.Random(9), mishaps=Mishaps(0.5, 0.2, 0.1))
    start = datetime(2026, 3, 2, tzinfo=UTC)
    holds = lost = delivered = 0
    for _ in range(400):
        bodies = sim.journey(tracking_number="RSIM0123456789AB", lane=Lane.CN_US, start=start)
        codes = [b["data"]["checkpoint"]["code"] for b in bodies]
        holds += "customs_hold" in codes
        lost += codes[-1] == "lost"
        delivered += codes[-1] == ShipmentStatus.DELIVERED
    assert 20 <= lost <= 70
    assert delivered == 400 - lost
    assert 120 <= holds <= 220
