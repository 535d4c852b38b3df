"""{{ ratio|percent }}: 0.625 -> '62,5 %' in the store's locale ('–' for no figure)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from analytics import figures

register = template.Library()


@register.filter
def percent(ratio: Decimal | float | None) -> str:
    return figures.percent(None if ratio is None else Decimal(str(ratio)))
