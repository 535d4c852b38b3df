"""VAT identification numbers and German tax numbers, as a shop and its wholesaler print them.

Receipts and invoices carry them (§ 14 UStG asks an invoice for the seller's tax number or VAT
id), so a typo is caught when it is typed, not by the tax office: the VAT id's shape per country
(the European Commission's VIES formats) and, for German ones, the check digit.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# The part after the two-letter prefix, per prefix (Greece is EL, Northern Ireland XI).
VAT_FORMATS: dict[str, str] = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"[1-9]\d{8}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{10}01",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}

_EXAMPLES = {"DE": "DE123456788", "AT": "ATU12345678", "NL": "NL123456789B01", "FR": "FRXX123456789"}


def vat_id_normalize(value: str) -> str:
    """'de 123 456 788' -> 'DE123456788': people copy VAT ids with spaces, dots and hyphens."""
    return re.sub(r"[\s.\-]", "", value or "").upper()


def _german_check_digit(digits: str) -> int:
    """ISO 7064 MOD 11,10 over the first eight digits, as the Bundeszentralamt für Steuern computes it."""
    product = 10
    for digit in digits[:8]:
        total = (int(digit) + product) % 10 or 10
        product = (2 * total) % 11
    check = 11 - product
    return 0 if check == 10 else check


def vat_id_validator(value: str) -> None:
    """A VAT id of an EU country (e.g. DE + 9 digits), normalised; German ones with a correct check digit."""
    if not value:
        return
    if value != vat_id_normalize(value):
        raise ValidationError("Write the VAT id without spaces, like DE123456788.", code="invalid_vat_id")
    prefix, number = value[:2], value[2:]
    pattern = VAT_FORMATS.get(prefix)
    if pattern is None:
        raise ValidationError(f"{value} does not start with an EU country code (DE, AT, NL, …).", code="invalid_vat_id")
    if not re.fullmatch(pattern, number):
        example = _EXAMPLES.get(prefix)
        hint = f" (for example {example})" if example else ""
        raise ValidationError(
            f"{value} is not a {prefix} VAT id{hint}.",
            code="invalid_vat_id",
        )
    if prefix == "DE" and _german_check_digit(number) != int(number[8]):
        raise ValidationError(f"{value} is not a valid German VAT id: its check digit is wrong.", code="invalid_vat_id")


def tax_number_normalize(value: str) -> str:
    """Spaces around a tax number dropped; its slashes kept, as the tax office writes it (21/815/08150)."""
    return re.sub(r"\s+", "", value or "")


def tax_number_validator(value: str) -> None:
    """A German tax number (Steuernummer): 10 or 11 digits as the state writes it, or the 13-digit federal form."""
    if not value:
        return
    if not re.fullmatch(r"\d+(?:/\d+)*", value) or len(re.sub(r"\D", "", value)) not in (10, 11, 13):
        raise ValidationError(
            f"{value} is not a tax number: 10, 11 or 13 digits, like 21/815/08150.", code="invalid_tax_number"
        )
