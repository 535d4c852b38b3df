"""Forms of the camera pages: register, settings, calibration (slots arrive as JSON from calibrate.js)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.db.models import QuerySet

from merchants.models import Store
from sensing.models import DEFAULT_RETENTION_HOURS, Frame
from sensing.services.cameras import SlotInput


class CameraRegisterForm(forms.Form):
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


class CameraSettingsForm(forms.Form):
    purpose = forms.CharField(max_length=300, help_text="Shown to shoppers at the store's entrance page.")
    retention_hours = forms.IntegerField(min_value=1, max_value=24 * 30, label="Keep pictures for (hours)")
    apply_to_store = forms.BooleanField(required=False, label="Use this retention for every camera of the store")


class CalibrationForm(forms.Form):
    reference = forms.ImageField(required=False, help_text="A sharp picture of the full shelf, as the camera sees it.")
    reference_frame = forms.ModelChoiceField(queryset=Frame.objects.none(), required=False)
    slots = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, frames: list[Frame], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reference_frame"].queryset = Frame.objects.filter(pk__in=[f.pk for f in frames])  # type: ignore[attr-defined]

    def clean_slots(self) -> list[SlotInput]:
        raw = self.cleaned_data.get("slots") or "[]"
        try:
            items = json.loads(raw)
        except json.JSONDecodeError as error:
            raise forms.ValidationError("The slots could not be read; draw them again.") from error
        if not isinstance(items, list):
            raise forms.ValidationError("The slots could not be read; draw them again.")
        slots = []
        for number, item in enumerate(items, start=1):
            try:
                slots.append(
                    SlotInput(
                        key=str(item["key"]).strip() or f"s{number}",
                        store_product_id=int(item["store_product"]),
                        polygon=[[float(x), float(y)] for x, y in item["polygon"]],
                        capacity=int(item["capacity"]),
                        units=int(item["units"]),
                    )
                )
            except (KeyError, TypeError, ValueError) as error:
                raise forms.ValidationError(
                    f"Slot {number}: give a product, a capacity, the units on the shelf and at least three corners."
                ) from error
            if slots[-1].capacity < 1 or slots[-1].units < 0:
                raise forms.ValidationError(f"Slot {number}: capacity is at least 1 and units are not negative.")
        return slots
