"""The analytics forms that are not the period picker's (analytics.periods.PeriodForm)."""

from __future__ import annotations

import datetime as dt

from django import forms

from analytics.periods import EARLIEST, Period, custom_period, iso_date_field
from core.forms import Form

# As templates/components/daily_figures.html offers them.
DAILY_ROWS = {
    "products": "A product a day in each store",
    "hours": "An hour, channel and payment method in each store",
}


class DailyFiguresForm(Form):
    """The daily figures download: ``?rows=products&start=2024-01-01&end=2026-06-30``, any number of days.

    An empty start is all history (from analytics.periods.EARLIEST), an empty end today; valid, ``period`` holds
    the local days, refused as the period picker refuses a range (reversed, in the future, before 2000) but never
    for its length.
    """

    rows = forms.ChoiceField(
        choices=list(DAILY_ROWS.items()),
        required=False,
        error_messages={"invalid_choice": "Unknown rows %(value)s; choose one of: " + ", ".join(DAILY_ROWS) + "."},
    )
    start = iso_date_field(example="2025-01-01")
    end = iso_date_field(example="2025-12-31")

    def __init__(self, *args: object, today: dt.date, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.today = today
        self.period: Period | None = None

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        start, end = cleaned.get("start") or EARLIEST, cleaned.get("end") or self.today
        self.period = custom_period(start, end, today=self.today, max_days=None)
        cleaned["rows"] = cleaned.get("rows") or "products"
        return cleaned

    def message(self) -> str:
        """Every error as one line for a plain-text answer."""
        return " ".join(str(message) for messages in self.errors.values() for message in messages)
