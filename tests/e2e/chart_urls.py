"""A test-only URLconf: one page with a chart of each kind and the period picker, built from
fixed figures, plus a partial that htmx swaps in (``@pytest.mark.urls("tests.e2e.chart_urls")``).

The analytics pages are built elsewhere; this serves the components exactly as a page would,
through base.html and the project's middleware (so the real Content-Security-Policy applies).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from analytics.periods import PeriodForm, period_picker
from core.money import format_amount

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = dt.date(2026, 4, 1)
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
# Two weeks of hours across Berlin's spring change (29 March 2026), a comparison beside each.
LINE_START = dt.datetime(2026, 3, 19, 0, 0, tzinfo=BERLIN)
LINE_HOURS = 14 * 24 - 1
CATEGORIES = [("Drinks", 184_250, 171_020), ("Snacks and sweets", 96_480, 99_310), ("Tobacco", 61_200, 58_900)]

PAGE = """{% extends "base.html" %}
{% block content %}
{% include "components/chart_assets.html" %}
<h1>Charts</h1>
{% include "components/period_picker.html" with picker=picker %}
{% include "components/chart.html" with chart=line %}
{% include "components/chart.html" with chart=bar %}
{% include "components/chart.html" with chart=heatmap %}
{% include "components/chart.html" with chart=empty %}
<button type="button" class="btn" hx-get="{{ swap_url }}" hx-target="#swapped" hx-swap="innerHTML">Load more</button>
<div id="swapped"></div>
{% endblock %}"""
PARTIAL = """{% include "components/chart.html" with chart=bar %}"""


def money(minor: int | None) -> tuple[float | None, str]:
    """The (value, text) pair of a cell: euros for the picture, the store's formatting for people."""
    if minor is None:
        return None, ""
    return minor / 100, format_amount(minor, "EUR", "de_DE")


def line_chart() -> dict[str, Any]:
    rows = []
    for hour in range(LINE_HOURS):
        at = (LINE_START.astimezone(dt.UTC) + dt.timedelta(hours=hour)).astimezone(BERLIN)
        shape = 0 if at.hour < 7 or at.hour > 21 else 100 + 10 * (at.hour % 5)
        rows.append(
            {
                "label": at.strftime("%a %d %b, %H:%M"),
                "key": at.isoformat(),
                "cells": [money(shape * 100), money(shape * 90 if hour % 24 != 12 else None)],
            }
        )
    return {
        "id": "sales-by-hour",
        "kind": "line",
        "title": "Net sales by hour",
        "summary": "This fortnight against the one before.",
        "columns": ["Hour", "This period", "Previous period"],
        "rows": rows,
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
    }


def bar_chart(chart_id: str = "sales-by-category") -> dict[str, Any]:
    return {
        "id": chart_id,
        "kind": "bar",
        "title": "Net sales by category",
        "columns": ["Category", "This period", "Previous period"],
        "rows": [{"label": name, "cells": [money(now), money(before)]} for name, now, before in CATEGORIES],
        "currency": "EUR",
    }


def heat_value(day: int, hour: int) -> int | None:
    """Cents sold; none before 7 or after 21, the most on Saturday at 18:00, the least Monday at 7."""
    if hour < 7 or hour > 21:
        return None
    return 1_000 + day * 500 + (hour - 7) * 100 if (day, hour) != (5, 18) else 9_000


def heatmap_chart() -> dict[str, Any]:
    return {
        "id": "sales-heatmap",
        "kind": "heatmap",
        "title": "Net sales by weekday and hour",
        "columns": ["Weekday", *[f"{hour:02d}" for hour in range(24)]],
        "rows": [
            {"label": name, "cells": [money(heat_value(day, hour)) for hour in range(24)]}
            for day, name in enumerate(WEEKDAYS)
        ],
        "currency": "EUR",
    }


def charts_page(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET, today=TODAY)
    form.is_valid()
    context = {
        "picker": period_picker(form, keep=[("store", "7")]),
        "line": line_chart(),
        "bar": bar_chart(),
        "heatmap": heatmap_chart(),
        "empty": {"id": "empty", "kind": "line", "title": "Refunds", "columns": ["Hour", "Refunds"], "rows": []},
        "swap_url": "/charts/more/",
    }
    status = 400 if form.errors else 200
    return HttpResponse(engines["django"].from_string(PAGE).render(context, request), status=status)


def charts_partial(request: HttpRequest) -> HttpResponse:
    return HttpResponse(engines["django"].from_string(PARTIAL).render({"bar": bar_chart("swapped-bar")}, request))


urlpatterns = [
    path("charts/", charts_page),
    path("charts/more/", charts_partial),
]
