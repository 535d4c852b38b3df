"""Sales tax per country and tax class, in basis points (1900 = 19 %), and how a line's tax is computed.

Next to the tax classes (catalog.models.TaxClass) so that the catalog can show a margin on the price
without its tax, and checkout prices its lines with the same arithmetic.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# VAT rates by store country. A country missing here charges no tax until it is added.
RATES: dict[str, dict[str, int]] = {
    "DE": {"standard": 1900, "reduced": 700, "zero": 0},
    "AT": {"standard": 2000, "reduced": 1000, "zero": 0},
    "FR": {"standard": 2000, "reduced": 550, "zero": 0},
    "NL": {"standard": 2100, "reduced": 900, "zero": 0},
}


def rate(*, country: str, tax_class: str) -> int:
    return RATES.get(country, {}).get(tax_class, 0)


def line_tax(*, line_total: int, rate_bp: int, prices_include_tax: bool) -> int:
    """Tax in a line total (prices with tax) or on top of it (prices without), rounded half up."""
    if not rate_bp:
        return 0
    total = Decimal(line_total)
    tax = total * rate_bp / (10000 + rate_bp) if prices_include_tax else total * rate_bp / 10000
    return int(tax.quantize(Decimal(1), rounding=ROUND_HALF_UP))
