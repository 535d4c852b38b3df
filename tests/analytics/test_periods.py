"""The date-range picker's logic: presets, comparisons, the store's own days, and refusals."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from analytics.periods import (
    MAX_DAYS,
    Period,
    PeriodForm,
    comparison_period,
    default_choice,
    period_choose,
    period_picker,
    preset_period,
    store_today,
)

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
D = dt.date
TODAY = D(2026, 3, 18)  # a Wednesday


def test_today_is_the_store_s_local_date_not_the_server_s() -> None:
    # 17:30 UTC on 4 Dec is already 5 Dec in Shanghai, and still 4 Dec in Berlin.
    now = dt.datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
    assert store_today(SHANGHAI, now=now) == D(2026, 12, 5)
    assert store_today(BERLIN, now=now) == D(2026, 12, 4)
    with pytest.raises(ValueError, match="aware"):
        store_today(BERLIN, now=dt.datetime(2026, 12, 4, 17, 30))  # noqa: DTZ001 - the refusal under test


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("today", D(2026, 3, 18), D(2026, 3, 18)),
        ("yesterday", D(2026, 3, 17), D(2026, 3, 17)),
        ("7d", D(2026, 3, 12), D(2026, 3, 18)),
        ("30d", D(2026, 2, 17), D(2026, 3, 18)),
        ("90d", D(2025, 12, 19), D(2026, 3, 18)),
        ("month", D(2026, 3, 1), D(2026, 3, 18)),
    ],
)
def test_presets_end_with_today_and_have_their_length(preset: str, start: dt.date, end: dt.date) -> None:
    assert preset_period(preset, today=TODAY) == Period(start, end)


def test_yesterday_across_new_year_and_this_month_on_its_first_day() -> None:
    assert preset_period("yesterday", today=D(2026, 1, 1)) == Period(D(2025, 12, 31), D(2025, 12, 31))
    assert preset_period("month", today=D(2026, 4, 1)) == Period(D(2026, 4, 1), D(2026, 4, 1))


def test_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    assert comparison_period(Period(D(2026, 3, 12), D(2026, 3, 18)), "previous") == Period(
        D(2026, 3, 5), D(2026, 3, 11)
    )
    # "This month" on 18 March (18 days) is compared with the 18 days before, not with February.
    assert comparison_period(Period(D(2026, 3, 1), D(2026, 3, 18)), "previous") == Period(
        D(2026, 2, 11), D(2026, 2, 28)
    )
    assert comparison_period(Period(D(2026, 3, 18), D(2026, 3, 18)), "previous") == Period(
        D(2026, 3, 17), D(2026, 3, 17)
    )


def test_same_period_last_year_and_29_february() -> None:
    assert comparison_period(Period(D(2026, 3, 1), D(2026, 3, 18)), "last_year") == Period(
        D(2025, 3, 1), D(2025, 3, 18)
    )
    assert comparison_period(Period(D(2024, 2, 20), D(2024, 2, 29)), "last_year") == Period(
        D(2023, 2, 20), D(2023, 2, 28)
    )
    assert comparison_period(Period(D(2026, 3, 1), D(2026, 3, 18)), "none") is None


def test_bounds_are_local_midnights_and_a_dst_day_lasts_23_or_25_hours() -> None:
    # Berlin springs forward on 29 March 2026 (02:00 -> 03:00) and falls back on 25 October.
    spring_start, spring_end = Period(D(2026, 3, 29), D(2026, 3, 29)).bounds(BERLIN)
    assert spring_start == dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert spring_end == dt.datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert spring_end - spring_start == dt.timedelta(hours=23)
    autumn_start, autumn_end = Period(D(2026, 10, 25), D(2026, 10, 25)).bounds(BERLIN)
    assert autumn_start == dt.datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert autumn_end - autumn_start == dt.timedelta(hours=25)
    # A week across the change: 7 x 24 - 1 hours.
    week_start, week_end = Period(D(2026, 3, 26), D(2026, 4, 1)).bounds(BERLIN)
    assert week_end - week_start == dt.timedelta(hours=167)


def test_today_so_far_is_compared_with_the_same_local_time_a_week_before_across_dst() -> None:
    # Wednesday 1 April 2026, 14:30 in Berlin (summer time) against Wednesday 25 March, 14:30
    # (winter time): the same wall-clock hour, so the UTC offsets differ by an hour.
    choice = period_choose(
        preset="custom", compare="previous", today=D(2026, 4, 1), start=D(2026, 4, 1), end=D(2026, 4, 1)
    )
    assert choice.comparison == Period(D(2026, 3, 31), D(2026, 3, 31))
    week = period_choose(preset="7d", compare="previous", today=D(2026, 4, 1))
    now = dt.datetime(2026, 4, 1, 12, 30, tzinfo=UTC)  # 14:30 CEST
    (start, end), comparison = week.bounds_so_far(BERLIN, now=now)
    assert (start, end) == (dt.datetime(2026, 3, 25, 23, 0, tzinfo=UTC), now)
    # The 7 days before: 19-25 March, cut on the 25th at 14:30 CET = 13:30 UTC.
    assert comparison == (dt.datetime(2026, 3, 18, 23, 0, tzinfo=UTC), dt.datetime(2026, 3, 25, 13, 30, tzinfo=UTC))


def test_a_finished_period_is_not_cut() -> None:
    choice = period_choose(preset="yesterday", compare="last_year", today=TODAY)
    now = dt.datetime(2026, 3, 18, 9, 0, tzinfo=UTC)
    assert choice.bounds_so_far(BERLIN, now=now) == (
        (dt.datetime(2026, 3, 16, 23, 0, tzinfo=UTC), dt.datetime(2026, 3, 17, 23, 0, tzinfo=UTC)),
        (dt.datetime(2025, 3, 16, 23, 0, tzinfo=UTC), dt.datetime(2025, 3, 17, 23, 0, tzinfo=UTC)),
    )
    assert period_choose(preset="today", compare="none", today=TODAY).bounds_so_far(BERLIN, now=now) == (
        (dt.datetime(2026, 3, 17, 23, 0, tzinfo=UTC), now),
        None,
    )


def _form(**data: str) -> PeriodForm:
    form = PeriodForm(data, today=TODAY)
    form.is_valid()
    return form


def test_form_defaults_to_the_last_7_days_against_the_7_before() -> None:
    form = _form()
    assert form.is_valid()
    assert form.choice == default_choice(today=TODAY)
    assert form.choice is not None
    assert form.choice.period == Period(D(2026, 3, 12), D(2026, 3, 18))
    assert form.choice.comparison == Period(D(2026, 3, 5), D(2026, 3, 11))
    assert form.choice.query() == {"period": "7d", "compare": "previous"}


def test_form_reads_a_custom_range_and_gives_it_back_as_a_query() -> None:
    form = _form(period="custom", start="2026-01-01", end="2026-01-31", compare="last_year")
    assert form.is_valid(), form.errors
    assert form.choice is not None
    assert form.choice.period == Period(D(2026, 1, 1), D(2026, 1, 31))
    assert form.choice.comparison == Period(D(2025, 1, 1), D(2025, 1, 31))
    assert form.choice.period.label() == "1 Jan – 31 Jan 2026"
    assert form.choice.query() == {
        "period": "custom",
        "compare": "last_year",
        "start": "2026-01-01",
        "end": "2026-01-31",
    }


def test_a_range_of_exactly_the_maximum_is_accepted() -> None:
    start = TODAY - dt.timedelta(days=MAX_DAYS - 1)
    form = _form(period="custom", start=start.isoformat(), end=TODAY.isoformat())
    assert form.is_valid(), form.errors
    assert form.choice is not None
    assert form.choice.period.days == 400


@pytest.mark.parametrize(
    ("data", "field", "code", "message"),
    [
        (
            {"period": "custom", "start": "2026-03-10", "end": "2026-03-01"},
            "end",
            "reversed_range",
            "The period ends on 1 Mar 2026, before it starts on 10 Mar 2026: swap the two dates.",
        ),
        (
            {"period": "custom", "start": "2025-02-10", "end": "2026-03-18"},
            "start",
            "range_too_long",
            "The period has 402 days; it can have at most 400 (a year and its turn, compared with the year "
            "before; a page drawing more would be slow on a phone). Choose a shorter range; for a longer stretch, "
            "download the daily figures as CSV (under the period on the Sales and Products pages).",
        ),
        (
            {"period": "custom", "start": "2026-03-10", "end": "2026-03-19"},
            "end",
            "future_range",
            "The period ends on 19 Mar 2026, after today (18 Mar 2026 in the store's time zone): analytics show "
            "only what has already happened.",
        ),
        (
            {"period": "custom", "start": "1999-12-31", "end": "2000-01-02"},
            "start",
            "too_early",
            "The period starts on 31 Dec 1999; Lingshou has no figures before 1 Jan 2000.",
        ),
        (
            {"period": "custom", "start": "2026-02-30", "end": "2026-03-01"},
            "start",
            "invalid",
            "Not a date: write it as YYYY-MM-DD, for example 2026-03-01.",
        ),
        (
            {"period": "custom", "start": "01/03/2026", "end": "2026-03-01"},
            "start",
            "invalid",
            "Not a date: write it as YYYY-MM-DD, for example 2026-03-01.",
        ),
        (
            {"period": "custom", "start": "2026-03-01", "end": "2026-3-1\x00"},
            "end",
            "invalid",
            "Not a date: write it as YYYY-MM-DD, for example 2026-03-31.",
        ),
        (
            {"period": "custom", "start": "2026-03-01"},
            "end",
            "missing_date",
            "A custom period needs a start and an end date.",
        ),
        (
            {"period": "fortnight"},
            "period",
            "invalid_choice",
            "Unknown period fortnight; choose one of: today, yesterday, 7d, 30d, 90d, month, custom.",
        ),
        (
            {"compare": "tomorrow"},
            "compare",
            "invalid_choice",
            "Unknown comparison tomorrow; choose one of: previous, last_year, none.",
        ),
    ],
)
def test_bad_ranges_are_refused_with_a_message_naming_the_field(
    data: dict[str, str], field: str, code: str, message: str
) -> None:
    form = _form(**data)
    assert not form.is_valid()
    assert form.choice is None
    assert form.errors == {field: [message]}
    assert form.error_code() == code


def test_period_choose_refuses_what_the_form_cannot_send() -> None:
    with pytest.raises(ValidationError) as unknown:
        period_choose(preset="week", compare="previous", today=TODAY)
    assert unknown.value.message_dict == {"period": ["Unknown period 'week'."]}
    with pytest.raises(ValidationError) as compare:
        period_choose(preset="7d", compare="decade", today=TODAY)
    assert compare.value.message_dict == {"compare": ["Unknown comparison 'decade'."]}


def test_picker_links_keep_the_page_s_parameters_and_mark_the_current_choice() -> None:
    form = _form(period="30d", compare="last_year")
    picker = period_picker(form, keep=[("store", "7"), ("store", "12")])

    assert [(link["label"], link["query"], link["is_current"]) for link in picker["presets"]] == [
        ("Today", "store=7&store=12&period=today&compare=last_year", False),
        ("Yesterday", "store=7&store=12&period=yesterday&compare=last_year", False),
        ("Last 7 days", "store=7&store=12&period=7d&compare=last_year", False),
        ("Last 30 days", "store=7&store=12&period=30d&compare=last_year", True),
        ("Last 90 days", "store=7&store=12&period=90d&compare=last_year", False),
        ("This month", "store=7&store=12&period=month&compare=last_year", False),
    ]
    assert [(link["query"], link["is_current"]) for link in picker["comparisons"]] == [
        ("store=7&store=12&period=30d&compare=previous", False),
        ("store=7&store=12&period=30d&compare=last_year", True),
        ("store=7&store=12&period=30d&compare=none", False),
    ]
    assert (picker["start"], picker["end"], picker["today"]) == ("2026-02-17", "2026-03-18", "2026-03-18")
    assert picker["keep"] == [("store", "7"), ("store", "12")]
    # The custom range form carries both stores too.
    html = render_to_string("components/period_picker.html", {"picker": picker})
    assert html.count('<input type="hidden" name="store"') == 2
    assert '<input type="hidden" name="store" value="12">' in html


def test_a_refused_range_keeps_what_was_typed_and_renders_its_error() -> None:
    form = _form(period="custom", start="2026-03-10", end="2026-03-01", store="7")
    picker = period_picker(form, keep=[("store", "7")])

    assert picker["choice"] is None
    assert (picker["start"], picker["end"]) == ("2026-03-10", "2026-03-01")
    assert not any(link["is_current"] for link in picker["presets"])
    html = render_to_string("components/period_picker.html", {"picker": picker})
    assert "<li>The period ends on 1 Mar 2026, before it starts on 10 Mar 2026: swap the two dates.</li>" in html
    assert '<input type="hidden" name="store" value="7">' in html
    assert 'value="2026-03-10" max="2026-03-18"' in html
    assert '<div class="field field-error"><label for="period-end">To</label>' in html


def test_picker_renders_the_chosen_period_and_its_comparison() -> None:
    html = render_to_string("components/period_picker.html", {"picker": period_picker(_form(period="month"))})
    assert "<strong>1 Mar – 18 Mar 2026</strong>, compared with 11 Feb – 28 Feb 2026" in html
    assert 'href="?period=month&amp;compare=previous" aria-current="true">This month</a>' in html


def test_chart_component_renders_its_table_with_plain_numbers_for_the_picture() -> None:
    # Lives here until the analytics pages have their own tests: the component's contract.
    chart = {
        "id": "sales",
        "kind": "line",
        "title": "Net sales <by hour>",
        "columns": ["Hour", "This period", "Previous period"],
        "rows": [
            {
                "label": "Sun 29 Mar, 03:00",
                "key": "2026-03-29T03:00:00+02:00",
                "cells": [(1234.5, "1.234,50 €"), (None, "")],
            }
        ],
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
    }
    html = render_to_string("components/chart.html", {"chart": chart})
    assert (
        '<figure class="chart" id="sales" data-chart="line" data-locale="de_DE" data-currency="EUR" '
        'data-time-zone="Europe/Berlin" aria-labelledby="sales-title">'
    ) in html
    assert '<figcaption id="sales-title" class="chart-title">Net sales &lt;by hour&gt;</figcaption>' in html
    assert (
        '<th scope="row" data-key="2026-03-29T03:00:00+02:00"><time datetime="2026-03-29T03:00:00+02:00">'
        'Sun 29 Mar, 03:00</time></th><td class="num" data-value="1234.5">1.234,50 €</td>'
        '<td class="num" data-value="">–</td>'
    ) in html
    empty = render_to_string("components/chart.html", {"chart": chart | {"rows": []}})
    assert '<td colspan="3" class="empty-state">No figures for this period.</td>' in empty
