"""{{ amount|money:currency }}: minor units to '2,49 €'; {{ rate|basis_points }}: 1250 to '12,5 %'."""

from __future__ import annotations

from decimal import Decimal

from django import template

from core.money import format_amount

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    return "" if amount is None else format_amount(int(amount), currency)


@register.filter
def basis_points(value: int | None) -> str:
    """A rate in basis points as German shops write a percentage: 1900 -> '19 %', 1250 -> '12,5 %'."""
    if value is None:
        return ""
    percent = (Decimal(int(value)) / 100).normalize()
    return f"{percent:f}".replace(".", ",") + " %"


@register.filter
def money_signed(amount: int | None, currency: str) -> str:
    """Like money, with a typographic minus for an amount below zero ('−0,50 €'), as receipts print it."""
    if amount is None:
        return ""
    amount = int(amount)
    return f"−{format_amount(-amount, currency)}" if amount < 0 else format_amount(amount, currency)
