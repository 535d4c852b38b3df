"""Forms of the wholesaler's admin: an order line's allocation and substitute, a store's supply terms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from catalog.models import Product
from core.money import AmountError, parse_amount, to_decimal
from ordering.models import DepotStock, PurchaseOrderLine, StoreSupply


class LineForm(forms.ModelForm):
    class Meta:
        model = PurchaseOrderLine
        fields = ["allocated_quantity", "substitute"]

    def clean_allocated_quantity(self) -> int | None:
        value = self.cleaned_data.get("allocated_quantity")
        if value is not None and value > self.instance.quantity:
            raise ValidationError(f"At most the {self.instance.quantity} ordered.")
        return value

    def clean_substitute(self) -> Product | None:
        product = self.cleaned_data.get("substitute")
        order = self.instance.order
        if product is not None:
            if product.pk == self.instance.product_id:
                raise ValidationError("Choose another product than the one ordered.")
            if not DepotStock.objects.filter(depot_id=order.depot_id, product=product).exists():
                raise ValidationError(f"{order.depot.name} does not carry {product.name}.")
        return product


SUPPLY_AMOUNTS = ("minimum_order_value", "free_delivery_threshold", "delivery_fee")


class StoreSupplyForm(forms.ModelForm):
    """The supply's amounts typed as people write money ("250,00"), in the depot's wholesaler's currency."""

    minimum_order_value = forms.CharField(required=False, help_text="0 or empty: no minimum.")
    free_delivery_threshold = forms.CharField(required=False, help_text="0 or empty: no free delivery.")
    delivery_fee = forms.CharField(required=False, help_text="Charged on an order below free delivery.")

    class Meta:
        model = StoreSupply
        fields = [
            "store", "depot", "delivery_weekdays", "cutoff_time", "lead_time_days", "minimum_order_value",
            "free_delivery_threshold", "delivery_fee", "route", "is_auto_submit", "default_service_level",
            "service_levels",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            currency = self.instance.depot.wholesaler.currency
            for name in SUPPLY_AMOUNTS:
                self.initial[name] = f"{to_decimal(getattr(self.instance, name), currency):f}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        depot = cleaned.get("depot")
        currency = depot.wholesaler.currency if depot is not None else "EUR"
        for name in SUPPLY_AMOUNTS:
            try:
                cleaned[name] = parse_amount(cleaned.get(name) or "0", currency)
            except AmountError as error:
                self.add_error(name, str(error))
        return cleaned
