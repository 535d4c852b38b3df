"""How a store product is shown to people: prices, unit prices, costs and margins, age notes."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from babel.numbers import format_decimal

from catalog import taxes
from catalog.models import ContentUnit, StoreProduct
from core.money import format_amount


def price_text(item: StoreProduct) -> str:
    return format_amount(item.price, item.store.currency)


def unit_price_text(item: StoreProduct) -> str:
    """'4,98 €/l' from a 0.5 l bottle at 2,49 €; '' where the product has no content to quote per."""
    product = item.product
    if product is None or not product.content_amount or product.content_unit == ContentUnit.PIECE:
        return ""
    per_unit = (Decimal(item.price) / Decimal(product.content_amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{format_amount(int(per_unit), item.store.currency)}/{product.content_unit}"


def age_note(item: StoreProduct) -> str:
    if not item.is_age_restricted:
        return ""
    age = item.product.minimum_age if item.product and item.product.minimum_age else 18
    return f"Only sold to people aged {age} or over. A clerk checks your ID."


def cost_text(item: StoreProduct) -> str:
    """'0,56 €', or '' while the cost is unknown."""
    return "" if item.average_cost is None else format_amount(item.average_cost, item.store.currency)


def net_price(item: StoreProduct) -> int:
    """The price without its sales tax, as a sale line of one unit would split it (catalog.taxes)."""
    store = item.store
    rate = taxes.rate(country=store.country, tax_class=item.tax_class)
    tax = taxes.line_tax(line_total=item.price, rate_bp=rate, prices_include_tax=store.prices_include_tax)
    return item.price - tax if store.prices_include_tax else item.price


class Margin(NamedTuple):
    """What one unit leaves the shop at today's price and cost, for people."""

    amount: str  # '0,52 €' ('-0,10 €' when sold below cost)
    percent: str  # '37,4 %' of the price without tax; '' when that price is 0
    is_negative: bool


def margin(item: StoreProduct) -> Margin | None:
    """The margin on one unit: the price without tax less the cost; None while the cost is unknown
    (never shown as a 100 % margin)."""
    if item.average_cost is None:
        return None
    net = net_price(item)
    amount = net - item.average_cost
    percent = ""
    if net:
        share = (Decimal(amount) * 100 / Decimal(net)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        percent = f"{format_decimal(share, format='0.0', locale='de_DE')} %"
    return Margin(format_amount(amount, item.store.currency), percent, amount < 0)
