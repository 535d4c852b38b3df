"""Figures as people read them: the headline tiles with their change, and the charts' tables.

Everything here turns selector results (minor units, counts) into what the templates show: money
in the store's locale (core.money), changes in percent, and the dicts that
templates/components/chart.html draws (values in display units, each with its formatted text).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal, format_percent

from analytics.periods import Period
from analytics.selectors.sales import HourSales, SalesSummary
from core.money import format_amount, to_decimal

LOCALE = "de_DE"
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass(frozen=True)
class Tile:
    """One headline figure: its value, the comparison's, and the change between them."""

    key: str
    label: str
    value: str
    previous: str = ""
    change: str = ""
    direction: str = ""  # "up", "down" or "" (no change, or nothing to compare)
    note: str = ""
    more_is_better: bool = True  # refunds: fewer is better

    @property
    def tone(self) -> str:
        """ "good", "bad" or "" for the change's colour (its sign and words say it too)."""
        if not self.direction:
            return ""
        return "good" if (self.direction == "up") == self.more_is_better else "bad"


def _change(current: int | Decimal | None, previous: int | Decimal | None) -> tuple[str, str]:
    """'+12 %' / '−3 %' and its direction; nothing when either side is missing or the earlier one is zero."""
    if current is None or previous is None or previous == 0:
        return "", ""
    ratio = (Decimal(current) - Decimal(previous)) / abs(Decimal(previous))
    text = format_percent(ratio, locale=LOCALE)
    if ratio > 0:
        return f"+{text}", "up"
    return (text, "down") if ratio < 0 else (text, "")


def _tile(
    key: str,
    label: str,
    current: int | None,
    previous: int | None,
    show: Callable[[int], str],
    note: str = "",
    *,
    more_is_better: bool = True,
) -> Tile:
    change, direction = _change(current, previous)
    return Tile(
        key=key,
        label=label,
        value="–" if current is None else show(current),
        previous="" if previous is None else show(previous),
        change=change,
        direction=direction,
        note=note,
        more_is_better=more_is_better,
    )


def percent(ratio: Decimal | None, *, signed: bool = False) -> str:
    """0.625 -> '62,5 %' in the store's locale ('+12,5 %' when ``signed``); '–' for no figure."""
    if ratio is None:
        return "–"
    text = format_percent(ratio, format="#,##0.0\xa0%", locale=LOCALE)
    return f"+{text}" if signed and ratio > 0 else text


def _count(value: int) -> str:
    return format_decimal(value, locale=LOCALE)


def tiles(current: SalesSummary, previous: SalesSummary | None, currency: str) -> list[Tile]:
    """Net sales, gross margin, transactions, average basket, units and refunds, each against the comparison."""

    def money(minor: int) -> str:
        return format_amount(minor, currency)

    was = previous
    if current.margin_rate is None:
        margin_note = "no sale with a known cost" if current.net_sales else ""
    else:
        rate = format_percent(current.margin_rate, format="#,##0.0\xa0%", locale=LOCALE)
        share = current.known_cost_share or Decimal(0)
        margin_note = f"{rate} of net sales" + (
            f" with a known cost ({format_percent(share, locale=LOCALE)} of them)" if share < 1 else ""
        )
    return [
        _tile("net_sales", "Net sales", current.net_sales, was.net_sales if was else None, money, "without tax"),
        _tile(
            "gross_margin",
            "Gross margin",
            current.gross_margin if current.net_sales_known_cost else None,
            was.gross_margin if was and was.net_sales_known_cost else None,
            money,
            margin_note,
        ),
        _tile("transactions", "Transactions", current.transactions, was.transactions if was else None, _count),
        _tile(
            "average_basket",
            "Average basket",
            current.average_basket,
            was.average_basket if was else None,
            money,
            "net",
        ),
        _tile("units", "Units sold", current.units, was.units if was else None, _count),
        _tile(
            "refunds",
            "Refunds",
            current.refunds,
            was.refunds if was else None,
            money,
            "given back, tax included",
            more_is_better=False,
        ),
    ]


def _euros(minor: int, currency: str) -> Decimal:
    """Minor units in display units, exactly ("7.67", never 7.669999): the table's data-value and the CSV's."""
    return to_decimal(minor, currency)


def sales_over_time(
    *,
    current: Sequence[HourSales],
    comparison: Sequence[HourSales] | None,
    period: Period,
    compared: Period | None,
    zone: ZoneInfo,
    currency: str,
) -> dict[str, object]:
    """Net sales per hour (a period of up to two days) or per day, the comparison laid over it at the same offset."""
    hourly = period.days <= 2

    def totals(rows: Sequence[HourSales], start: dt.date) -> dict[int, int]:
        sums: dict[int, int] = defaultdict(int)
        for row in rows:
            offset = (row.local_date - start).days
            sums[offset * 24 + row.hour if hourly else offset] += row.net_sales
        return sums

    now = totals(current, period.start)
    before = totals(comparison, compared.start) if comparison is not None and compared is not None else None
    steps = period.days * 24 if hourly else period.days
    rows = []
    for step in range(steps):
        day = period.start + dt.timedelta(days=step // 24 if hourly else step)
        hour = step % 24 if hourly else 0
        at = dt.datetime.combine(day, dt.time(hour), tzinfo=zone)
        label = f"{WEEKDAYS[day.weekday()]} {day.day}.{day.month}." + (f" {hour:02d}:00" if hourly else "")
        cells = [(_euros(now.get(step, 0), currency), format_amount(now.get(step, 0), currency))]
        if before is not None:
            cells.append((_euros(before.get(step, 0), currency), format_amount(before.get(step, 0), currency)))
        rows.append({"label": label, "key": at.isoformat(), "cells": cells})
    columns = ["Hour" if hourly else "Day", period.label()] + (
        [compared.label()] if before is not None and compared else []
    )
    return {
        "id": "sales-over-time",
        "kind": "line",
        "title": "Net sales by hour" if hourly else "Net sales by day",
        "columns": columns,
        "rows": rows,
        "currency": currency,
        "locale": LOCALE,
        "time_zone": str(zone),
    }


def sales_heatmap(rows: Sequence[HourSales], currency: str) -> dict[str, object]:
    """Net sales by weekday and hour of the day over the period: when the shop is busy."""
    cells: dict[tuple[int, int], int] = defaultdict(int)
    for row in rows:
        cells[row.local_date.weekday(), row.hour] += row.net_sales
    hours = sorted({hour for _weekday, hour in cells}) or list(range(8, 21))
    hours = list(range(min(hours), max(hours) + 1))
    return {
        "id": "sales-heatmap",
        "kind": "heatmap",
        "title": "Net sales by weekday and hour",
        "columns": ["Weekday", *[f"{hour:02d}" for hour in hours]],
        "rows": [
            {
                "label": WEEKDAYS[weekday],
                "cells": [
                    (
                        _euros(cells.get((weekday, hour), 0), currency),
                        format_amount(cells.get((weekday, hour), 0), currency),
                    )
                    for hour in hours
                ],
            }
            for weekday in range(7)
        ],
        "currency": currency,
        "locale": LOCALE,
    }


def bar_rows(
    current: dict[str, int], before: dict[str, int] | None, names: dict[str, str] | None = None
) -> list[tuple[str, int, int | None]]:
    """(label, this period, the comparison) for every key either period has, biggest now first."""
    keys = sorted(
        set(current) | set(before or {}), key=lambda key: (-current.get(key, 0), -(before or {}).get(key, 0), key)
    )
    return [
        ((names or {}).get(key, key), current.get(key, 0), None if before is None else before.get(key, 0))
        for key in keys
    ]


def bars(
    chart_id: str,
    title: str,
    heading: str,
    rows: Sequence[tuple[str, int, int | None]],
    *,
    columns: Sequence[str],
    currency: str,
) -> dict[str, object]:
    """A bar per category: (label, this period, the comparison or None) in minor units."""
    return {
        "id": chart_id,
        "kind": "bar",
        "title": title,
        "columns": [heading, *columns],
        "rows": [
            {
                "label": label,
                "cells": [(_euros(now, currency), format_amount(now, currency))]
                + (
                    []
                    if len(columns) < 2
                    else [(None, "–") if was is None else (_euros(was, currency), format_amount(was, currency))]
                ),
            }
            for label, now, was in rows
        ],
        "currency": currency,
        "locale": LOCALE,
    }
