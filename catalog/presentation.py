"""How a store product is shown to people: prices, unit prices, age notes."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

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
