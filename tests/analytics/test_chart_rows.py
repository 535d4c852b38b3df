"""The chart tables' rows written in Python are the markup the template wrote, character for character."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template

from analytics import figures
from analytics.periods import Period
from analytics.selectors.sales import HourSales

# components/chart.html's rows as the template wrote them before {% chart_rows %}.
TEMPLATE_ROWS = Template(
    "{% load l10n %}{% for row in chart.rows %}\n"
    '        <tr><th scope="row"{% if row.key %} data-key="{{ row.key|unlocalize }}"{% endif %}>'
    '{% if chart.kind == "line" %}<time datetime="{{ row.key|unlocalize }}">{{ row.label }}</time>'
    "{% else %}{{ row.label }}{% endif %}</th>{% for value, text in row.cells %}"
    '<td class="num" data-value="{{ value|default_if_none:\'\'|unlocalize }}">{{ text|default:"–" }}</td>'
    "{% endfor %}</tr>\n"
    "      {% empty %}\n"
    '        <tr><td colspan="{{ chart.columns|length }}" class="empty-state">No figures for this period.</td></tr>\n'
    "      {% endfor %}"
)
TAG_ROWS = Template("{% load charts %}{% chart_rows chart %}")

ZONE = ZoneInfo("Europe/Berlin")
HOURS = [
    HourSales(dt.date(2026, 6, 11), 9, 767, 53, 0, 2, 3),
    HourSales(dt.date(2026, 6, 12), 18, 123456789, 0, 249, 40, 7),
]


class Row:
    """A chart row given as an object rather than a dict, as chart.html allows."""

    def __init__(self, label: str, cells: list[tuple[object, str]]) -> None:
        self.label, self.cells = label, cells


CHARTS = {
    "line, hourly, with a comparison": figures.sales_over_time(
        current=HOURS,
        comparison=HOURS[:1],
        period=Period(dt.date(2026, 6, 11), dt.date(2026, 6, 12)),
        compared=Period(dt.date(2026, 6, 9), dt.date(2026, 6, 10)),
        zone=ZONE,
        currency="EUR",
    ),
    "line, daily, alone": figures.sales_over_time(
        current=HOURS,
        comparison=None,
        period=Period(dt.date(2026, 6, 1), dt.date(2026, 6, 30)),
        compared=None,
        zone=ZONE,
        currency="EUR",
    ),
    "heatmap": figures.sales_heatmap(HOURS, "EUR"),
    "bars with a missing comparison and markup in a name": figures.bars(
        "by-category",
        "Net sales by category",
        "Category",
        [("Drinks & <Snacks>", 767, None), ('Own "bread"', 0, 12), ("Zero", 0, 0)],
        columns=["This period", "Before"],
        currency="JPY",
    ),
    "empty": {"id": "empty", "kind": "bar", "columns": ["Category", "Now", "Before"], "rows": []},
    "objects, numbers and no text": {
        "kind": "bar",
        "columns": ["Thing", "Units"],
        "rows": [Row("Cola", [(Decimal("0E-2"), ""), (12, "12"), (None, None)]), Row("Tea", [(1.5, "1,5")])],
    },
}


@pytest.mark.parametrize("chart", CHARTS.values(), ids=CHARTS.keys())
def test_the_rows_are_the_templates_markup(chart: dict[str, object]) -> None:
    expected = TEMPLATE_ROWS.render(Context({"chart": chart}))
    assert "<tr>" in expected
    assert TAG_ROWS.render(Context({"chart": chart})) == expected
