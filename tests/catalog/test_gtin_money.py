"""GTIN arithmetic and money parsing: the two places a typo becomes a wrong price or product."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog import gtin
from core.money import AmountError, format_amount, parse_amount


@pytest.mark.parametrize(
    ("code", "normalized"),
    [
        ("4006381333931", "04006381333931"),  # EAN-13
        ("96385074", "00000096385074"),  # EAN-8
        ("036000291452", "00036000291452"),  # UPC-A
        ("10036000291459", "10036000291459"),  # GTIN-14 (case)
        (" 4006381-333931 ", "04006381333931"),
    ],
)
def test_every_gtin_form_normalises_to_fourteen_digits(code: str, normalized: str) -> None:
    assert gtin.normalize(code) == normalized


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("4006381333932", "Wrong check digit: a GTIN starting 400638133393 ends in 1"),
        ("40063813339", "not 11"),
        ("40063813339a", "digits only"),
    ],
)
def test_bad_gtins_are_refused_with_the_reason(code: str, message: str) -> None:
    with pytest.raises(gtin.GtinError, match=message):
        gtin.normalize(code)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_make_always_produces_a_valid_gtin13_and_any_single_digit_error_is_caught(body: str) -> None:
    code = gtin.make(body)
    assert gtin.is_valid(code)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert not gtin.is_valid(wrong)


def test_a_scale_label_carries_its_item_and_price() -> None:
    code = gtin.variable_code("2112345", 349)
    assert gtin.parse_variable(code) == gtin.VariableMeasure(key="2112345", kind="price", value=349)
    weighed = gtin.variable_code("2398765", 1250)
    assert gtin.parse_variable(weighed) == gtin.VariableMeasure(key="2398765", kind="weight", value=1250)
    assert gtin.parse_variable("4006381333931") is None  # an ordinary product


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("2.49", "EUR", 249), ("2,49", "EUR", 249), ("3", "EUR", 300), ("150", "JPY", 150), ("1.250", "KWD", 1250)],
)
def test_amounts_parse_to_minor_units(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("2.499", "EUR", "EUR amounts have 2 decimals at most"),
        ("1.5", "JPY", "JPY amounts have 0 decimals at most"),
        ("-1", "EUR", "cannot be negative"),
        ("two", "EUR", "is not an amount"),
        ("NaN", "EUR", "is not an amount"),
    ],
)
def test_bad_amounts_are_refused_with_the_reason(text: str, currency: str, message: str) -> None:
    with pytest.raises(AmountError, match=message):
        parse_amount(text, currency)


def test_amounts_are_formatted_for_people() -> None:
    assert format_amount(249, "EUR") == "2,49\xa0€"


LOCALES = ["de_DE", "de_AT", "de_CH", "en_GB", "en_US", "en_IN", "fr_FR", "it_IT", "nl_NL", "pl_PL", "sv_SE", "ja_JP"]
CURRENCIES = ["EUR", "GBP", "USD", "CHF", "JPY", "KWD", "PLN", "SEK", "INR"]


@given(
    minor=st.integers(min_value=-(10**13), max_value=10**13),
    currency=st.sampled_from(CURRENCIES),
    locale=st.sampled_from(LOCALES),
)
def test_amounts_are_formatted_exactly_as_babel_formats_them(minor: int, currency: str, locale: str) -> None:
    """The learnt layout of a currency in a locale (a report formats hundreds of amounts) is Babel's, to the byte;
    where it is not the common layout (grouping in lakhs, a sign inside the symbol) Babel formats it itself."""
    from decimal import Decimal

    from babel.numbers import format_currency, get_currency_precision

    expected = format_currency(Decimal(minor).scaleb(-get_currency_precision(currency)), currency, locale=locale)
    assert format_amount(minor, currency, locale) == expected
