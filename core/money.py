"""Money as integers in the currency's minor unit (cents), as Stripe counts it.

Babel knows each currency's number of decimals (ISO 4217: EUR 2, JPY 0, KWD 3) and formats
amounts for people.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision


class AmountError(ValueError):
    """An amount a person typed that cannot be a price in this currency; says why."""


def exponent(currency: str) -> int:
    return int(get_currency_precision(currency))


def parse_amount(text: str | Decimal | int, currency: str, *, allow_negative: bool = False) -> int:
    """'2.49' in EUR -> 249. Refuses more decimals than the currency has, and negatives."""
    try:
        value = Decimal(str(text).strip().replace(",", "."))
    except InvalidOperation as error:
        raise AmountError(f"{text!r} is not an amount.") from error
    if not value.is_finite():
        raise AmountError(f"{text!r} is not an amount.")
    if value < 0 and not allow_negative:
        raise AmountError("A price cannot be negative.")
    places = exponent(currency)
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise AmountError(f"{currency} amounts have {places} decimal{'s' if places != 1 else ''} at most.")
    return int(scaled)


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_amount(minor: int, currency: str, locale: str = "de_DE") -> str:
    """249, 'EUR' -> '2,49 €' (German shops by default; the store's locale later)."""
    return str(format_currency(to_decimal(minor, currency), currency, locale=locale))
