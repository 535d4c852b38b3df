"""Forms of the catalog pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from catalog.models import AdjustmentReason, Category, TaxClass
from core.forms import Form
from core.money import AmountError, parse_amount
from merchants.models import Merchant

# Longer than any amount a shop types (and than Python turns into a number without complaint).
AMOUNT_MAX_LENGTH = 20


def cost_parse(text: str, currency: str) -> int | None:
    """A cost typed like a price ('0.56' or '0,56') in minor units; empty means unknown (None).

    Raises AmountError saying what is wrong (not an amount, negative, too many decimals); the
    column's range is the service's to check (catalog.services.costs.cost_validate).
    """
    text = text.strip()
    if not text:
        return None
    if len(text) > AMOUNT_MAX_LENGTH:
        raise AmountError("That is too long to be a cost.")
    cost = parse_amount(text, currency, allow_negative=True)
    if cost < 0:
        raise AmountError("A cost cannot be negative.")
    return cost


class LocalProductForm(Form):
    name = forms.CharField(max_length=200)
    brand = forms.CharField(max_length=100, required=False)
    price = forms.CharField(max_length=AMOUNT_MAX_LENGTH, help_text="e.g. 2.49")
    cost = forms.CharField(
        max_length=AMOUNT_MAX_LENGTH,
        required=False,
        label="Cost",
        help_text="What one unit costs you, e.g. 1.20; leave empty if you do not know.",
    )
    tax_class = forms.ChoiceField(choices=TaxClass.choices, initial=TaxClass.REDUCED)
    is_age_restricted = forms.BooleanField(required=False, label="Age restricted")
    barcode = forms.CharField(max_length=200, required=False, help_text="Optional; several separated by spaces.")


class BulkPriceForm(Form):
    percent = forms.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal("-90"), max_value=Decimal("500"))
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False, empty_label="All products")

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(wholesaler_id=merchant.wholesaler_id)  # type: ignore[attr-defined]


class AdjustmentForm(Form):
    quantity = forms.IntegerField(help_text="Negative removes stock, e.g. -2.")
    reason = forms.ChoiceField(choices=[("", "Choose a reason"), *AdjustmentReason.choices])
    note = forms.CharField(max_length=200, required=False)

    def clean_quantity(self) -> int:
        quantity: int = self.cleaned_data["quantity"]
        if quantity == 0:
            raise forms.ValidationError("Give a quantity other than zero.")
        return quantity


class CountLineForm(Form):
    code = forms.CharField(
        max_length=64, label="Barcode", widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"})
    )
    counted = forms.IntegerField(min_value=0, label="On the shelf")
