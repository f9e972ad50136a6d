"""Money: an integer amount of minor units and an ISO 4217 currency code. Never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Self

from babel.core import Locale
from babel.numbers import format_currency, get_currency_precision, list_currencies


class MoneyError(ValueError):
    """An amount or currency that cannot be money: unknown code, too many decimals."""


class CurrencyMismatchError(MoneyError):
    """Two amounts in different currencies were combined."""


@lru_cache(maxsize=512)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@lru_cache(maxsize=512)
def minor_digits(currency: str) -> int:
    """Decimal places of the currency's minor unit (USD 2, JPY 0, KWD 3)."""
    check_currency(currency)
    return int(get_currency_precision(currency))


def check_currency(currency: str) -> str:
    if currency not in _known_currencies():
        raise MoneyError(f"unknown currency code {currency!r} (ISO 4217, upper case)")
    return currency


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: int  # minor units: cents for USD
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise MoneyError("money amounts are integers of minor units")
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal | str | int, currency: str) -> Self:
        """Parse a major-unit amount ("12.99"); more decimals than the currency has is an error."""
        try:
            dec = Decimal(str(value))
        except InvalidOperation as exc:
            raise MoneyError(f"not an amount: {value!r}") from exc
        if not dec.is_finite():
            raise MoneyError(f"not an amount: {value!r}")
        digits = minor_digits(currency)
        scaled = dec.scaleb(digits)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{currency} amounts have at most {digits} decimal places: {value}")
        return cls(int(scaled), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-minor_digits(self.currency))

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"{self.currency} and {other.currency} do not mix")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, quantity: int) -> Money:
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise TypeError("multiply money by whole quantities; use allocate() for shares")
        return Money(self.amount * quantity, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def percent(self, basis_points: int) -> Money:
        """``basis_points``/10,000 of this amount, rounded half away from zero."""
        numerator = self.amount * basis_points
        sign = -1 if numerator < 0 else 1
        return Money(sign * ((abs(numerator) + 5_000) // 10_000), self.currency)

    def allocate(self, ratios: list[int]) -> list[Money]:
        """Split into parts proportional to ``ratios`` that add up exactly to this amount."""
        if not ratios or any(r < 0 for r in ratios) or sum(ratios) == 0:
            raise MoneyError("allocation needs non-negative ratios with a positive sum")
        total = sum(ratios)
        parts = [self.amount * r // total for r in ratios]
        # Largest remainder: the units lost to flooring go to the parts that lost the most,
        # so no part is more than one minor unit from its exact share and a zero ratio
        # gets nothing.
        lost = [self.amount * r - part * total for r, part in zip(ratios, parts, strict=True)]
        by_loss = sorted(range(len(parts)), key=lambda i: (-lost[i], i))
        for i in by_loss[: self.amount - sum(parts)]:
            parts[i] += 1
        return [Money(p, self.currency) for p in parts]

    def format(self, locale: str = "en_US") -> str:
        return str(format_currency(self.to_decimal(), self.currency, locale=Locale.parse(locale)))

    def __str__(self) -> str:
        return f"{self.to_decimal()} {self.currency}"
