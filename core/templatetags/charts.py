"""The rows of a chart's table (templates/components/chart.html), written in Python.

A report's tables hold hundreds of cells, and each cell in template language (a loop, two filters, escaping)
cost more than the rest of the page; the markup is the same, character for character.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.templatetags.l10n import unlocalize
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _get(thing: Any, name: str) -> Any:
    """``thing.name`` as a template reads it: a dict's key or an attribute; "" when there is neither."""
    if isinstance(thing, dict):
        return thing.get(name, "")
    return getattr(thing, name, "")


def _shown(value: Any) -> str:
    """``{{ value }}``: localized, as text, escaped."""
    return conditional_escape(value if isinstance(value, str) else str(localize(value)))


@register.simple_tag
def chart_rows(chart: Any) -> SafeString:
    """The <tr> of each row of ``chart``, or the one that says there is none."""
    rows = _get(chart, "rows") or []
    if not rows:
        columns = len(_get(chart, "columns") or [])
        return mark_safe(  # noqa: S308 - a number only  # nosec B308, B703
            f'\n        <tr><td colspan="{columns}" class="empty-state">No figures for this period.</td></tr>\n      '
        )
    is_line = _get(chart, "kind") == "line"
    parts = []
    for row in rows:
        key, label = _get(row, "key"), _shown(_get(row, "label"))
        head = f' data-key="{conditional_escape(unlocalize(key))}"' if key else ""
        shown = f'<time datetime="{conditional_escape(unlocalize(key))}">{label}</time>' if is_line else label
        cells = "".join(
            f'<td class="num" data-value="{conditional_escape(unlocalize("" if value is None else value))}">'
            f"{_shown(text or '–')}</td>"
            for value, text in _get(row, "cells")
        )
        parts.append(f'\n        <tr><th scope="row"{head}>{shown}</th>{cells}</tr>\n      ')
    return mark_safe("".join(parts))  # noqa: S308 - every value in it is escaped above  # nosec B308, B703
