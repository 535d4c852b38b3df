"""Forms of the dashboard and the account pages."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation

from core.forms import Form
from merchants.models import WEEKDAYS, DeviceKind, Role, Store
from merchants.services import StoreSettings
from merchants.tax_ids import tax_number_normalize, tax_number_validator, vat_id_normalize, vat_id_validator
from merchants.two_step import code_normalize


class InvitationForm(Form):
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.CLERK)


class RoleForm(Form):
    role = forms.ChoiceField(choices=Role.choices)


class ApiTokenForm(Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. 'stock export script'.")


class TwoStepCodeForm(Form):
    """A code of the second sign-in step: six digits from the app, or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false", "autofocus": True}
        ),
        help_text="The six digits your authenticator app shows now, or one of your recovery codes.",
    )

    def clean_code(self) -> str:
        code = code_normalize(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError("A code is six digits, such as 492 039, or a recovery code such as k7dq-3mwa.")
        return code


class DeviceForm(Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=DeviceKind.choices)
    store = forms.ModelChoiceField(queryset=Store.objects.none())

    def __init__(self, *args: object, stores: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["store"].queryset = stores  # type: ignore[attr-defined]


class SignUpForm(Form):
    """For someone who follows an invitation and has no account yet."""

    first_name = forms.CharField(max_length=150, label="Your name")
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def __init__(self, *args: object, email: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.email = email

    def clean_password2(self) -> str:
        first, second = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if first and second and first != second:
            raise forms.ValidationError("The two passwords differ.")
        user = get_user_model()(username=self.email, email=self.email)
        password_validation.validate_password(second or "", user)
        return second or ""


DAY_NAMES = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)
_CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
_INTERVAL = re.compile(r"^(\d{1,2})[:.](\d{2})\s*(?:-|–|—|to)\s*(\d{1,2})[:.](\d{2})$")


def hours_parse(text: str) -> list[list[str]]:
    """'7:00-13:00, 15:00–2:00' -> [["07:00", "13:00"], ["15:00", "02:00"]]; empty or 'closed' -> []."""
    text = text.strip()
    if not text or text.lower() in ("closed", "geschlossen", "-", "–"):
        return []
    intervals = []
    for part in re.split(r"[,;]", text):
        match = _INTERVAL.match(part.strip())
        if match is None:
            raise forms.ValidationError(f"{part.strip()!r} is not opening hours like 07:00–22:00.")
        opens_h, opens_m, closes_h, closes_m = (int(group) for group in match.groups())
        opens, closes = f"{opens_h:02d}:{opens_m:02d}", f"{closes_h:02d}:{closes_m:02d}"
        # A day may close at 24:00 but not open then; an interval may pass midnight (18:00–02:00).
        if not (_CLOCK.match(opens) and _CLOCK.match(closes)) or opens == "24:00" or opens == closes:
            raise forms.ValidationError(f"{part.strip()!r} is not opening hours like 07:00–22:00.")
        intervals.append([opens, closes])
    return intervals


def hours_format(intervals: list[list[str]]) -> str:
    return ", ".join(f"{opens}–{closes}" for opens, closes in intervals)


def _time_zones() -> list[tuple[str, str]]:
    zones = sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone and not zone.startswith("Etc/"))
    return [(zone, zone.replace("_", " ")) for zone in [*zones, "UTC"]]


class StoreForm(Form):
    """A store's settings as the owner writes them: address, time zone, opening hours per day, tax ids, receipt."""

    name = forms.CharField(max_length=200)
    street = forms.CharField(max_length=200, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    city = forms.CharField(max_length=100, required=False)
    country = forms.RegexField(
        regex=r"^[A-Za-z]{2}$",
        max_length=2,
        initial="DE",
        help_text="Two letters: DE, AT, NL …",
        error_messages={"invalid": "Use the two-letter country code, such as DE."},
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=_time_zones,
        initial="Europe/Berlin",
        help_text="The store's days, opening hours and reports follow this clock.",
    )
    vat_id = forms.CharField(
        label="VAT id (USt-IdNr.)", max_length=20, required=False, help_text="Printed on receipts, e.g. DE123456788."
    )
    tax_number = forms.CharField(
        label="Tax number (Steuernummer)", max_length=20, required=False, help_text="e.g. 21/815/08150."
    )
    receipt_footer = forms.CharField(
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Printed at the foot of every receipt, e.g. a thank-you or your returns policy.",
    )
    share_with_wholesaler = forms.BooleanField(
        required=False,
        label="Share this store's sales rate and stock with the wholesaler",
        help_text="They then see on each order line how fast it sells here and how many you hold. Off by default.",
    )

    def __init__(self, *args: Any, store: Store | None = None, **kwargs: Any) -> None:
        if store is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": store.name,
                "street": store.street,
                "postal_code": store.postal_code,
                "city": store.city,
                "country": store.country,
                "timezone": store.timezone,
                "vat_id": store.vat_id,
                "tax_number": store.tax_number,
                "receipt_footer": store.receipt_footer,
                "share_with_wholesaler": store.share_with_wholesaler,
                **{f"hours_{day}": hours_format(store.opening_hours.get(day, [])) for day in WEEKDAYS},
            }
        super().__init__(*args, **kwargs)
        if store is not None:
            self.fields["timezone"].help_text += " Changing it recounts the store's analytics by its new local days."
        for day in WEEKDAYS:
            # One explanation under all seven (the page's), not seven copies of it.
            self.fields[f"hours_{day}"] = forms.CharField(
                label=DAY_NAMES[day],
                max_length=100,
                required=False,
                widget=forms.TextInput(attrs={"placeholder": "closed"}),
            )

    def hours_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{day}"] for day in WEEKDAYS]

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).upper()

    def clean_vat_id(self) -> str:
        value = vat_id_normalize(self.cleaned_data.get("vat_id", ""))
        vat_id_validator(value)
        return value

    def clean_tax_number(self) -> str:
        value = tax_number_normalize(self.cleaned_data.get("tax_number", ""))
        tax_number_validator(value)
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        hours: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            try:
                hours[day] = hours_parse(cleaned.get(f"hours_{day}", ""))
            except forms.ValidationError as error:
                self.add_error(f"hours_{day}", error)
        cleaned["opening_hours"] = hours
        return cleaned

    def settings(self) -> StoreSettings:
        data = self.cleaned_data
        return StoreSettings(
            name=data["name"],
            timezone=data["timezone"],
            street=data["street"],
            postal_code=data["postal_code"],
            city=data["city"],
            country=data["country"],
            opening_hours=data["opening_hours"],
            vat_id=data["vat_id"],
            tax_number=data["tax_number"],
            receipt_footer=data["receipt_footer"],
            share_with_wholesaler=data["share_with_wholesaler"],
        )


CURRENCIES = [
    ("EUR", "EUR – euro"),
    ("CHF", "CHF – Swiss franc"),
    ("GBP", "GBP – pound sterling"),
    ("PLN", "PLN – złoty"),
]


class StoreCreateForm(StoreForm):
    """A new store: its settings, and the currency it sells in (fixed afterwards: its sales are kept in it)."""

    currency = forms.ChoiceField(choices=CURRENCIES, initial="EUR", help_text="Cannot be changed later.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A new store starts with the usual kiosk hours (the model's default), not seven closed days.
        hours = Store._meta.get_field("opening_hours").get_default()
        kwargs.setdefault("initial", {f"hours_{day}": hours_format(hours.get(day, [])) for day in WEEKDAYS})
        super().__init__(*args, **kwargs)


class CloseRequestForm(Form):
    """The owner's request to close the shop: the shop's web name typed out, so that no stray click closes it."""

    confirm = forms.CharField(
        label="Type the shop's web name to confirm",
        max_length=50,
        error_messages={"required": "Type the shop's web name, as it is in the address bar."},
    )
    reason = forms.CharField(label="Why are you closing? (optional)", max_length=500, required=False)

    def __init__(self, *args: Any, slug: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slug = slug

    def clean_confirm(self) -> str:
        value = str(self.cleaned_data["confirm"])
        if value != self.slug:
            raise forms.ValidationError(f"Type {self.slug} exactly, to show that you mean this shop.", code="mismatch")
        return value

    def clean_reason(self) -> str:
        value = str(self.cleaned_data["reason"])
        if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
            raise forms.ValidationError("The reason holds control characters; write it as plain text.", code="control")
        return value
