"""Forms of the dashboard and the account pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation

from merchants.models import DeviceKind, Role, Store


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.CLERK)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. 'stock export script'.")


class DeviceForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=DeviceKind.choices)
    store = forms.ModelChoiceField(queryset=Store.objects.none())

    def __init__(self, *args: object, stores: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["store"].queryset = stores  # type: ignore[attr-defined]


class SignUpForm(forms.Form):
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
