"""Forms of the camera pages: register, settings, calibration (slots arrive as JSON from calibrate.js)."""

from __future__ import annotations

import json
import math
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from core import inputs
from core.forms import Form
from merchants.models import Store
from sensing.models import DEFAULT_RETENTION_HOURS, Frame, Slot
from sensing.services.cameras import SlotInput


class CameraRegisterForm(Form):
    store = forms.ModelChoiceField(queryset=Store.objects.none(), empty_label=None)
    name = forms.CharField(max_length=100, help_text="For example: Drinks fridge, left.")
    purpose = forms.CharField(
        max_length=300,
        required=False,
        help_text="Shown to shoppers at the store's entrance page. Leave empty for the standard text.",
    )
    retention_hours = forms.IntegerField(
        min_value=1,
        max_value=24 * 30,
        initial=DEFAULT_RETENTION_HOURS,
        label="Keep pictures for (hours)",
    )

    def __init__(self, *args: Any, stores: QuerySet[Store], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores  # type: ignore[attr-defined]


class CameraSettingsForm(Form):
    purpose = forms.CharField(max_length=300, help_text="Shown to shoppers at the store's entrance page.")
    retention_hours = forms.IntegerField(min_value=1, max_value=24 * 30, label="Keep pictures for (hours)")
    apply_to_store = forms.BooleanField(required=False, label="Use this retention for every camera of the store")


class CalibrationForm(Form):
    reference = forms.ImageField(required=False, help_text="A sharp picture of the full shelf, as the camera sees it.")
    reference_frame = forms.ModelChoiceField(queryset=Frame.objects.none(), required=False)
    # A hundred slots drawn by calibrate.js take about 20,000 characters.
    slots = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200_000)

    def __init__(self, *args: Any, frames: list[Frame], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reference_frame"].queryset = Frame.objects.filter(pk__in=[f.pk for f in frames])  # type: ignore[attr-defined]

    def clean_slots(self) -> list[SlotInput]:
        items = slots_read(self.cleaned_data.get("slots") or "[]")
        if items is None:
            raise forms.ValidationError("The slots could not be read; draw them again.")
        slots = []
        for number, item in enumerate(items, start=1):
            try:
                slots.append(
                    SlotInput(
                        key=str(item["key"]).strip() or f"s{number}",
                        store_product_id=_whole(item["store_product"], *inputs.BIGINT),
                        polygon=[[_coordinate(x), _coordinate(y)] for x, y in item["polygon"]],
                        capacity=_whole(item["capacity"], *inputs.column_range(Slot, "capacity")),
                        units=_whole(item["units"], *inputs.column_range(Slot, "units")),
                    )
                )
            except (KeyError, TypeError, ValueError) as error:
                raise forms.ValidationError(
                    f"Slot {number}: give a product, a capacity, the units on the shelf and at least three corners."
                ) from error
            if slots[-1].capacity < 1 or slots[-1].units < 0:
                raise forms.ValidationError(f"Slot {number}: capacity is at least 1 and units are not negative.")
        return slots


SLOTS_MAX = 200
# Far beyond any camera's picture, in pixels; a coordinate outside is a drawing gone wrong.
COORDINATE_MAX = 100_000.0


def slots_read(raw: str) -> list[Any] | None:
    """The slots as calibrate.js posts them (a JSON list of at most SLOTS_MAX), or None when they are not that."""
    try:
        items = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        # ValueError: not JSON, or NaN/Infinity (no coordinate); RecursionError: nested past Python's stack.
        return None
    return items if isinstance(items, list) and len(items) <= SLOTS_MAX else None


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def _whole(value: object, low: int, high: int) -> int:
    """A whole number of the JSON (an int, or a string of digits) that its column holds; ValueError else."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{value!r} is not a whole number")
    try:
        return inputs.whole_number(str(value), label="value", low=low, high=high)
    except ValidationError as error:
        raise ValueError(error.messages[0]) from error


def _coordinate(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a coordinate")
    number = float(value)
    if not math.isfinite(number) or abs(number) > COORDINATE_MAX:
        raise ValueError(f"{value!r} is not a coordinate")
    return number
