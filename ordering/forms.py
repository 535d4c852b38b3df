"""Forms of the restock pages: numbers people type, checked before any service runs."""

from __future__ import annotations

from django import forms

from ordering.services import MAX_CASE_STEP


class QuantityForm(forms.Form):
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


class StepForm(forms.Form):
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


class ScanForm(forms.Form):
    code = forms.CharField(max_length=32, error_messages={"required": "Scan or type a barcode."})
