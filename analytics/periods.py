"""The one date-range logic of the analytics pages: presets, custom ranges and comparison periods.

Days are the store's own: "today" is the store's local date, and a period's bounds are local
midnights, so a day across a daylight-saving change lasts 23 or 25 hours. Everything here is
pure (no database): a view resolves the store's time zone and the current time once and passes
them in; `PeriodForm` reads the picker's query string and gives a `PeriodChoice` or field errors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateformat import format as date_format

from core.forms import Form

# 400 days: a whole year can be compared with the year before, with a month to spare across the
# turn of the year, while a chart of the period's days stays at 400 rows, which a phone-sized
# page lays out and draws in 0.15 s (0.65 s with the CPU throttled 4x; bench/charts.md). Longer
# ranges belong in the CSV export, not on a page.
MAX_DAYS = 400
# No store sold anything through Lingshou before this; it also keeps "last year" within the calendar.
EARLIEST = dt.date(2000, 1, 1)

PRESETS: dict[str, str] = {
    "today": "Today",
    "yesterday": "Yesterday",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "month": "This month",
    "custom": "Custom",
}
COMPARISONS: dict[str, str] = {
    "previous": "Previous period",
    "last_year": "Same period last year",
    "none": "No comparison",
}
DEFAULT_PRESET = "7d"
DEFAULT_COMPARISON = "previous"
_LAST_DAYS = {"7d": 7, "30d": 30, "90d": 90}


@dataclass(frozen=True)
class Period:
    """Whole local days from ``start`` to ``end``, both included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The instants [first local midnight, the midnight after the last day) in ``tz``, in UTC.

        UTC because Python subtracts two datetimes of the same zone by their wall clocks: the
        local bounds of 29 March in Berlin would seem 24 hours apart, not 23.
        """
        return (
            local_midnight(self.start, tz).astimezone(dt.UTC),
            local_midnight(self.end + dt.timedelta(days=1), tz).astimezone(dt.UTC),
        )

    def label(self) -> str:
        if self.start == self.end:
            return date_format(self.start, "j M Y")
        if self.start.year == self.end.year:
            return f"{date_format(self.start, 'j M')} – {date_format(self.end, 'j M Y')}"
        return f"{date_format(self.start, 'j M Y')} – {date_format(self.end, 'j M Y')}"


@dataclass(frozen=True)
class PeriodChoice:
    """What the picker chose: the preset, its period and the period it is compared with."""

    preset: str
    compare: str
    period: Period
    comparison: Period | None

    def day_ranges(self) -> list[tuple[dt.date, dt.date]]:
        """The period's (first, last) local days, then the comparison's when there is one: what a page reads."""
        ranges = [(self.period.start, self.period.end)]
        return ranges + ([(self.comparison.start, self.comparison.end)] if self.comparison else [])

    def bounds_so_far(
        self, tz: ZoneInfo, *, now: dt.datetime
    ) -> tuple[tuple[dt.datetime, dt.datetime], tuple[dt.datetime, dt.datetime] | None]:
        """The period's instants cut at ``now``, and the comparison's cut at the same local time.

        A period that ends today is still running: comparing today's first hours with a whole
        day would make every morning look bad. The comparison then stops at the same wall-clock
        offset from its own first day (today 14:30 against the day a week ago at 14:30).
        """
        start, end = self.period.bounds(tz)
        end = min(end, max(start, now))
        if self.comparison is None:
            return (start, end), None
        comparison_start, comparison_end = self.comparison.bounds(tz)
        elapsed = end.astimezone(tz).replace(tzinfo=None) - dt.datetime.combine(self.period.start, dt.time(0))
        cut = (dt.datetime.combine(self.comparison.start, dt.time(0)) + elapsed).replace(tzinfo=tz).astimezone(dt.UTC)
        return (start, end), (comparison_start, min(comparison_end, cut))

    def query(self) -> dict[str, str]:
        """The query-string parameters that choose this again (links, exports, htmx requests)."""
        params = {"period": self.preset, "compare": self.compare}
        if self.preset == "custom":
            params |= {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()}
        return params


def local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The instant a local day begins in ``tz`` (00:00 exists in every zone Lingshou's stores use)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz)


def store_today(tz: ZoneInfo, *, now: dt.datetime) -> dt.date:
    """The store's local date at the aware instant ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(tz).date()


def preset_period(preset: str, *, today: dt.date) -> Period:
    """The period a preset names; the last N days end with today (the figures are live)."""
    if preset == "today":
        return Period(today, today)
    if preset == "yesterday":
        yesterday = today - dt.timedelta(days=1)
        return Period(yesterday, yesterday)
    if preset in _LAST_DAYS:
        return Period(today - dt.timedelta(days=_LAST_DAYS[preset] - 1), today)
    if preset == "month":
        return Period(today.replace(day=1), today)
    raise ValueError(f"{preset!r} is not a preset with a fixed period")


def _year_before(day: dt.date) -> dt.date:
    # 29 February has no twin in the year before; the 28th stands in for it.
    return day.replace(year=day.year - 1, day=28) if (day.month, day.day) == (2, 29) else day.replace(year=day.year - 1)


def comparison_period(period: Period, compare: str) -> Period | None:
    """The previous period of equal length, the same dates a year earlier, or None."""
    if compare == "previous":
        end = period.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=period.days - 1), end)
    if compare == "last_year":
        return Period(_year_before(period.start), _year_before(period.end))
    if compare == "none":
        return None
    raise ValueError(f"{compare!r} is not a comparison")


def _day(day: dt.date) -> str:
    return date_format(day, "j M Y")


def custom_period(start: dt.date, end: dt.date, *, today: dt.date, max_days: int | None = MAX_DAYS) -> Period:
    """A custom range, validated: not reversed, not in the future, not before 2000, at most ``max_days``
    (None: any length, for downloads that stream their rows instead of drawing them)."""
    if start > end:
        raise ValidationError(
            {
                "end": ValidationError(
                    f"The period ends on {_day(end)}, before it starts on {_day(start)}: swap the two dates.",
                    code="reversed_range",
                )
            }
        )
    if end > today:
        raise ValidationError(
            {
                "end": ValidationError(
                    f"The period ends on {_day(end)}, after today ({_day(today)} in the store's time zone): "
                    "analytics show only what has already happened.",
                    code="future_range",
                )
            }
        )
    if start < EARLIEST:
        raise ValidationError(
            {
                "start": ValidationError(
                    f"The period starts on {_day(start)}; Lingshou has no figures before {_day(EARLIEST)}.",
                    code="too_early",
                )
            }
        )
    period = Period(start, end)
    if max_days is not None and period.days > max_days:
        raise ValidationError(
            {
                "start": ValidationError(
                    f"The period has {period.days} days; it can have at most {max_days} "
                    "(a year and its turn, compared with the year before; a page drawing more would be slow "
                    "on a phone). Choose a shorter range; for a longer stretch, download the daily figures as CSV "
                    "(under the period on the Sales and Products pages).",
                    code="range_too_long",
                )
            }
        )
    return period


def period_choose(
    *, preset: str, compare: str, today: dt.date, start: dt.date | None = None, end: dt.date | None = None
) -> PeriodChoice:
    """A validated PeriodChoice; ValidationError names the field and says what to do instead."""
    if compare not in COMPARISONS:
        raise ValidationError(
            {"compare": ValidationError(f"Unknown comparison {compare!r}.", code="unknown_comparison")}
        )
    if preset == "custom":
        if start is None or end is None:
            missing = "start" if start is None else "end"
            raise ValidationError(
                {missing: ValidationError("A custom period needs a start and an end date.", code="missing_date")}
            )
        period = custom_period(start, end, today=today)
    elif preset in PRESETS:
        period = preset_period(preset, today=today)
    else:
        raise ValidationError({"period": ValidationError(f"Unknown period {preset!r}.", code="unknown_period")})
    return PeriodChoice(preset=preset, compare=compare, period=period, comparison=comparison_period(period, compare))


def iso_date_field(*, example: str) -> forms.DateField:
    """An optional date typed as YYYY-MM-DD, refused with an example otherwise."""
    # ISO dates only (what <input type="date"> sends): "03/04/2026" means different days to different people.
    return forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": f"Not a date: write it as YYYY-MM-DD, for example {example}."},
    )


class PeriodForm(Form):
    """The picker's query string: ``?period=7d&compare=previous`` or ``?period=custom&start=…&end=…``.

    Unbound or empty, it chooses the default (the last 7 days against the 7 before). Bound, it is
    valid only if `period_choose` accepts it; `choice` is then the PeriodChoice.
    """

    period = forms.ChoiceField(
        choices=list(PRESETS.items()),
        required=False,
        error_messages={"invalid_choice": "Unknown period %(value)s; choose one of: " + ", ".join(PRESETS) + "."},
    )
    compare = forms.ChoiceField(
        choices=list(COMPARISONS.items()),
        required=False,
        error_messages={
            "invalid_choice": "Unknown comparison %(value)s; choose one of: " + ", ".join(COMPARISONS) + "."
        },
    )
    start = iso_date_field(example="2026-03-01")
    end = iso_date_field(example="2026-03-31")

    def __init__(self, *args: object, today: dt.date, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.today = today
        self.choice: PeriodChoice | None = None

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        self.choice = period_choose(
            preset=cleaned.get("period") or DEFAULT_PRESET,
            compare=cleaned.get("compare") or DEFAULT_COMPARISON,
            today=self.today,
            start=cleaned.get("start"),
            end=cleaned.get("end"),
        )
        return cleaned

    def error_code(self) -> str:
        """The code of the first error, for the API's ``{"error": {"code", "message"}}``."""
        for errors in self.errors.as_data().values():
            for error in errors:
                return error.code or "invalid"
        return ""


def default_choice(*, today: dt.date) -> PeriodChoice:
    """The picker's choice when the query string says nothing (or a page is first opened)."""
    return period_choose(preset=DEFAULT_PRESET, compare=DEFAULT_COMPARISON, today=today)


def period_picker(form: PeriodForm, *, keep: Sequence[tuple[str, str]] = ()) -> dict[str, object]:
    """What templates/components/period_picker.html shows for a bound, validated PeriodForm.

    ``keep`` holds the page's other query parameters as (name, value) pairs, a name repeated for
    several values (``[("store", "3"), ("store", "7")]``), carried by every preset and comparison
    link and by the custom range form. An invalid form keeps what was typed and shows its errors;
    its links start from the default period.
    """
    keep = list(keep)
    choice = form.choice or default_choice(today=form.today)

    def link(params: dict[str, str]) -> str:
        return urlencode([*keep, *params.items()])

    presets = [
        {
            "label": label,
            "query": link({"period": key, "compare": choice.compare}),
            "is_current": form.choice is not None and key == choice.preset,
        }
        for key, label in PRESETS.items()
        if key != "custom"
    ]
    comparisons = [
        {
            "label": label,
            "query": link(choice.query() | {"compare": key}),
            "is_current": form.choice is not None and key == choice.compare,
        }
        for key, label in COMPARISONS.items()
    ]
    typed = form.data if form.is_bound and form.errors else {}
    return {
        "choice": choice if form.choice is not None else None,
        "presets": presets,
        "comparisons": comparisons,
        "keep": keep,
        "keep_query": urlencode(keep),
        "start": typed.get("start", choice.period.start.isoformat()),
        "end": typed.get("end", choice.period.end.isoformat()),
        "compare": choice.compare,
        "compare_options": list(COMPARISONS.items()),
        "today": form.today.isoformat(),
        "errors": form.errors,
        "max_days": MAX_DAYS,
    }
