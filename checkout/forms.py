"""Forms of checkout's pages: the shopper's checkout, the owner's order filters."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import Http404, QueryDict
from django.utils.dateparse import parse_date

from checkout.choices import Channel, OrderStatus
from checkout.selectors.orders import OrderFilters
from core.forms import Form
from merchants.models import Store


class CheckoutForm(Form):
    """The shopper's checkout: an e-mail address for the receipt is optional, and when given it is one."""

    email = forms.EmailField(
        required=False,
        max_length=254,
        error_messages={"invalid": "Enter an e-mail address like name@example.com, or leave it empty."},
    )


class _TextField(forms.CharField):
    """Text taken as typed: a character the other checks refuse is named by them, not by a validator of its own."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)
        self.validators = []


class OrderFilterForm(Form):
    """The order list's query string. What cannot be understood is named in an error and ignored.

    Another merchant's store id is 404, as everywhere.
    """

    store = _TextField(strip=False)
    status = _TextField(strip=False)
    channel = _TextField(strip=False)
    q = _TextField()

    def __init__(self, data: QueryDict, *, stores: list[Store]) -> None:
        super().__init__(data)
        self.stores = stores
        # "from" is a Python keyword: the two date fields are added by name.
        self.fields["from"] = _TextField()
        self.fields["to"] = _TextField()
        self.order_fields(["store", "status", "channel", "from", "to", "q"])

    def clean_store(self) -> Store | None:
        wanted = self.cleaned_data["store"]
        if not wanted:
            return None
        store = next((s for s in self.stores if str(s.pk) == wanted), None)
        if store is None:
            raise Http404("No such store.")
        return store

    def clean_status(self) -> str:
        status: str = self.cleaned_data["status"]
        if status and status not in OrderStatus.values:
            raise forms.ValidationError(f"{status!r} is not an order status.")
        return status

    def clean_channel(self) -> str:
        channel: str = self.cleaned_data["channel"]
        if channel and channel not in Channel.values:
            raise forms.ValidationError(f"{channel!r} is not a channel.")
        return channel

    def _date(self, key: str, label: str) -> date | None:
        text: str = self.cleaned_data[key]
        if not text:
            return None
        try:
            value = parse_date(text)
        except ValueError:
            value = None
        if value is None:
            raise forms.ValidationError(f"{label} {text!r} is not a date like 2025-03-01.")
        return value

    def clean_from(self) -> date | None:
        return self._date("from", "From")

    def clean_to(self) -> date | None:
        return self._date("to", "To")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("from"), cleaned.get("to")
        if date_from and date_to and date_from > date_to:
            self.add_error(None, "The start date is after the end date.")
            cleaned["from"] = cleaned["to"] = None
        # Checked after the dates so that the errors read in the order of the form.
        query = cleaned.get("q", "")
        number = query.lstrip("#")
        if query and not (number.isascii() and number.isdigit()) and not query.startswith("pi_"):
            self.add_error(None, "Search by order number, such as 000123.")
            cleaned["q"] = ""
        return cleaned

    def filters(self) -> OrderFilters:
        """The filters that were understood, and the errors about the rest."""
        self.is_valid()
        cleaned = self.cleaned_data
        errors = [str(message) for messages in self.errors.values() for message in messages]
        return OrderFilters(
            store=cleaned.get("store"),
            status=cleaned.get("status") or "",
            channel=cleaned.get("channel") or "",
            date_from=cleaned.get("from"),
            date_to=cleaned.get("to"),
            query=cleaned.get("q") or "",
            errors=errors,
        )
