"""{{ amount|money:currency }}: minor units to '2,49 €'."""

from __future__ import annotations

from django import template

from core.money import format_amount

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    return "" if amount is None else format_amount(int(amount), currency)
