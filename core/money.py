"""Money as integers in the currency's minor unit (cents), as Stripe counts it.

Babel knows each currency's number of decimals (ISO 4217: EUR 2, JPY 0, KWD 3) and formats
amounts for people.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision

from core.inputs import INTEGER

# Every amount column is an integer column of minor units: no amount a person types may exceed it.
AMOUNT_MAX_MINOR = INTEGER[1]


class AmountError(ValueError):
    """An amount a person typed that cannot be a price in this currency; says why."""


def exponent(currency: str) -> int:
    return int(get_currency_precision(currency))


def parse_amount(text: str | Decimal | int, currency: str, *, allow_negative: bool = False) -> int:
    """'2.49' in EUR -> 249. Refuses more decimals than the currency has, negatives, and more than a column holds."""
    try:
        value = Decimal(str(text).strip().replace(",", "."))
    except InvalidOperation as error:
        raise AmountError(f"{text!r} is not an amount.") from error
    if not value.is_finite():
        raise AmountError(f"{text!r} is not an amount.")
    if value < 0 and not allow_negative:
        raise AmountError("A price cannot be negative.")
    places = exponent(currency)
    largest = to_decimal(AMOUNT_MAX_MINOR, currency)
    # Compared before scaling: "1e999999999" would overflow the decimal context, and int() of it would build
    # a number of a billion digits.
    if value.copy_abs() > largest:
        raise AmountError(f"{str(text).strip()[:24]!r} is more than the largest amount Lingshou keeps ({largest}).")
    # "1e-999999999" would underflow to 0 when scaled: a value below the smallest unit is too many decimals.
    tiny = value and value.adjusted() < -places
    scaled = value.scaleb(places)
    if tiny or scaled != scaled.to_integral_value():
        raise AmountError(f"{currency} amounts have {places} decimal{'s' if places != 1 else ''} at most.")
    return int(scaled)


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_amount(minor: int, currency: str, locale: str = "de_DE") -> str:
    """249, 'EUR' -> '2,49 €' (German shops by default; the store's locale later), exactly as Babel formats it."""
    fast = _layout(currency, locale)
    return fast(minor) if fast is not None else _babel(minor, currency, locale)


def _babel(minor: int, currency: str, locale: str) -> str:
    return str(format_currency(to_decimal(minor, currency), currency, locale=locale))


# Amounts a layout must format exactly as Babel does before it is trusted.
_PROOF = (0, 1, 7, 99, 100, 101, 999, 1000, 1234, 99999, 100000, 123456789, 10**12 + 7, -1, -249, -123456789)


@lru_cache(maxsize=256)
def _layout(currency: str, locale: str) -> Callable[[int], str] | None:
    """Babel's format of a currency in a locale, learnt once from a sample and proved on ``_PROOF``: a report
    shows hundreds of amounts, and Babel takes a fifth of a millisecond for each. None (use Babel) when the
    locale's format is not the common one (digits grouped by three, one sign before or after)."""
    places = exponent(currency)
    scale = 10**places

    def parts(sample: str) -> tuple[str, str, str] | None:
        digits = [i for i, ch in enumerate(sample) if ch.isdigit()]
        return (sample[: digits[0]], sample[digits[0] : digits[-1] + 1], sample[digits[-1] + 1 :]) if digits else None

    positive, negative = parts(_babel(123456789, currency, locale)), parts(_babel(-123456789, currency, locale))
    if positive is None or negative is None:
        return None
    prefix, number, suffix = positive
    negative_prefix, _number, negative_suffix = negative
    whole_digits = 9 - places
    separators = [ch for ch in number if not ch.isdigit()]
    decimal = separators.pop() if places else ""
    group = separators[0] if separators and whole_digits > 3 else ""

    def fast(minor: int) -> str:
        whole, fraction = divmod(abs(minor), scale)
        text = f"{whole:,}".replace(",", group) if group else str(whole)
        if places:
            text = f"{text}{decimal}{fraction:0{places}d}"
        return f"{negative_prefix}{text}{negative_suffix}" if minor < 0 else f"{prefix}{text}{suffix}"

    return fast if all(fast(minor) == _babel(minor, currency, locale) for minor in _PROOF) else None
