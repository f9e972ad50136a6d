"""Money: integer minor units, exact arithmetic, fair allocation, strict parsing."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelshop.money import CurrencyMismatchError, Money, MoneyError, minor_digits

CURRENCIES = ["USD", "JPY", "KWD", "EUR", "CNY"]
amounts = st.integers(min_value=-(10**15), max_value=10**15)
currencies = st.sampled_from(CURRENCIES)


@given(amounts, amounts, currencies)
def test_add_and_sub_are_exact_inverses(a: int, b: int, currency: str) -> None:
    x, y = Money(a, currency), Money(b, currency)
    assert (x + y).amount == a + b
    assert (x + y) - y == x
    assert x - x == Money.zero(currency)
    assert -x + x == Money.zero(currency)


@given(
    amounts,
    st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(
        lambda r: sum(r) > 0
    ),
)
def test_allocate_sums_exactly_and_is_fair(amount: int, ratios: list[int]) -> None:
    parts = Money(amount, "USD").allocate(ratios)
    assert len(parts) == len(ratios)
    assert sum(p.amount for p in parts) == amount
    total = sum(ratios)
    for part, ratio in zip(parts, ratios, strict=True):
        exact = Decimal(amount) * ratio / total
        assert abs(Decimal(part.amount) - exact) < 1, (part, exact)
        if ratio == 0:
            assert part.amount == 0


def test_allocate_examples() -> None:
    assert [p.amount for p in Money(100, "USD").allocate([1, 1, 1])] == [34, 33, 33]
    assert [p.amount for p in Money(10, "USD").allocate([1, 2])] == [3, 7]
    assert [p.amount for p in Money(1, "USD").allocate([0, 1])] == [0, 1]
    assert [p.amount for p in Money(-100, "USD").allocate([1, 1, 1])] == [-33, -33, -34]


@pytest.mark.parametrize("ratios", [[], [0, 0], [1, -1]])
def test_allocate_refuses_bad_ratios(ratios: list[int]) -> None:
    with pytest.raises(MoneyError):
        Money(100, "USD").allocate(ratios)


@pytest.mark.parametrize(
    ("currency", "digits", "ok", "too_precise"),
    [
        ("USD", 2, "12.99", "12.999"),
        ("JPY", 0, "1500", "1500.5"),
        ("KWD", 3, "1.125", "1.1255"),
    ],
)
def test_from_decimal_respects_minor_digits(
    currency: str, digits: int, ok: str, too_precise: str
) -> None:
    assert minor_digits(currency) == digits
    parsed = Money.from_decimal(ok, currency)
    assert parsed.amount == int(Decimal(ok).scaleb(digits))
    assert parsed.to_decimal() == Decimal(ok)
    with pytest.raises(MoneyError):
        Money.from_decimal(too_precise, currency)


def test_trailing_zeros_are_not_extra_precision() -> None:
    assert Money.from_decimal("12.9900", "USD") == Money(1299, "USD")
    assert Money.from_decimal("100.00", "JPY") == Money(100, "JPY")


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", "", "1e"])
def test_from_decimal_refuses_non_amounts(value: str) -> None:
    with pytest.raises(MoneyError):
        Money.from_decimal(value, "USD")


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_from_decimal_round_trips(value: Decimal) -> None:
    assert Money.from_decimal(value, "USD").to_decimal() == value


@pytest.mark.parametrize("bad", [1.5, "100", True, None])
def test_amount_must_be_an_integer(bad: object) -> None:
    with pytest.raises(MoneyError):
        Money(bad, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["usd", "XXXX", "", "ABC"])
def test_unknown_currency_is_refused(code: str) -> None:
    with pytest.raises(MoneyError):
        Money(1, code)


def test_currency_mismatch_raises() -> None:
    usd, eur = Money(100, "USD"), Money(100, "EUR")
    for combine in (
        lambda: usd + eur,
        lambda: usd - eur,
        lambda: usd < eur,
        lambda: usd >= eur,
    ):
        with pytest.raises(CurrencyMismatchError):
            combine()
    with pytest.raises(TypeError):
        usd + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        usd * 1.5  # type: ignore[operator]


@given(amounts, st.integers(min_value=-20_000, max_value=20_000))
def test_percent_rounds_half_away_from_zero(amount: int, basis_points: int) -> None:
    exact = Decimal(amount) * basis_points / Decimal(10_000)
    expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert Money(amount, "USD").percent(basis_points).amount == expected


def test_percent_examples() -> None:
    assert Money(1999, "USD").percent(1000).amount == 200  # 199.9 -> 200
    assert Money(5, "USD").percent(5000).amount == 3  # 2.5 -> 3
    assert Money(-5, "USD").percent(5000).amount == -3
    assert Money(1, "USD").percent(4999).amount == 0


def test_multiply_by_quantity_and_format() -> None:
    assert Money(1299, "USD") * 3 == Money(3897, "USD")
    assert 2 * Money(5, "JPY") == Money(10, "JPY")
    assert Money(1299, "USD").format("en_US") == "$12.99"
    assert str(Money(1500, "JPY")) == "1500 JPY"
