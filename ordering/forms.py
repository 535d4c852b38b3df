"""Forms of the restock pages: numbers people type, checked before any service runs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from core.forms import Form
from ordering.services.editing import MAX_CASE_STEP


class QuantityForm(Form):
    quantity = forms.IntegerField(
        min_value=0,
        max_value=100_000,
        error_messages={
            "required": "Give a quantity in units (whole cases).",
            "invalid": "Give the quantity as a whole number of units.",
            "min_value": "A quantity cannot be negative.",
            "max_value": "That is more than a depot ships in one order.",
        },
    )


class StepForm(Form):
    step = forms.IntegerField(
        min_value=-MAX_CASE_STEP,
        max_value=MAX_CASE_STEP,
        error_messages={
            "required": "Say how many cases to add or take off.",
            "invalid": "Give the change as a whole number of cases.",
            "min_value": f"Take off at most {MAX_CASE_STEP} cases at a time.",
            "max_value": f"Add at most {MAX_CASE_STEP} cases at a time.",
        },
    )


class LineAddForm(QuantityForm):
    code = forms.CharField(max_length=32, error_messages={"required": "Scan or type the product's barcode."})


class ScanForm(Form):
    code = forms.CharField(max_length=32, error_messages={"required": "Scan or type a barcode."})


def _level_field(*, required: bool, label: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        required=required,
        label=label,
        min_value=50,
        max_value=Decimal("99.9"),
        decimal_places=1,
        error_messages={
            "required": "Give the usual service level in percent, for example 95.",
            "invalid": "Give the service level as a percentage, for example 95 or 98.5.",
            "min_value": "A service level below 50 %% would run out more often than not.",
            "max_value": "99.9 %% is the most: above it, stock grows without end.",
            "max_decimal_places": "Give the service level with at most one decimal, for example 98.5.",
        },
    )


class SupplyPreferencesForm(Form):
    """A store's restock choices, levels in percent; ``rows`` are the categories shown (path, label)."""

    auto_submit = forms.BooleanField(required=False)
    default_level = _level_field(required=True, label="Usual service level")

    def __init__(self, *args: Any, rows: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for path, label in rows:
            self.fields[self.level_name(path)] = _level_field(required=False, label=label)

    @staticmethod
    def level_name(path: str) -> str:
        return f"level-{path}"

    @staticmethod
    def _share(percent: Decimal) -> float:
        return float(percent / 100)  # 99.9 → 0.999 exactly, not 0.9990000000000001

    def default_service_level(self) -> float:
        """The usual level as a share."""
        return self._share(self.cleaned_data["default_level"])

    def service_levels(self) -> dict[str, float]:
        """{category path: level as a share} for the categories given a level of their own."""
        levels = {}
        for path, _ in self.rows:
            value = self.cleaned_data.get(self.level_name(path))
            if value is not None:
                levels[path] = self._share(value)
        return levels
