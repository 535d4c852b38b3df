"""API authentication: personal tokens for staff, device tokens for cameras and door readers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from merchants.models import ApiToken, Device
from merchants.selectors import api_token_get_by_token, device_get_by_token
from merchants.tenancy import merchant_context

# last_seen / last_used are written at most this often, not on every request.
_TOUCH_EVERY = timedelta(minutes=1)


def _credentials(request: Request, keywords: tuple[bytes, ...]) -> str | None:
    parts = get_authorization_header(request).split()
    if not parts or parts[0].lower() not in keywords:
        return None
    if len(parts) != 2:
        raise AuthenticationFailed("Malformed Authorization header: expected '<scheme> <token>'.")
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError as error:
        raise AuthenticationFailed("The token contains characters a token never has.") from error


class DevicePrincipal:
    """request.user for a device: authenticated, but no person and no staff role."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, device: Device) -> None:
        self.device = device

    def __str__(self) -> str:
        return f"device {self.device.pk}"


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer lsk_…`` (or ``Token lsk_…``): a staff member's personal token."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        raw = _credentials(request, (b"bearer", b"token"))
        if raw is None:
            return None
        token = api_token_get_by_token(raw=raw)
        if token is None:
            raise AuthenticationFailed("Unknown or revoked API token.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:  # noqa: ARG002 - DRF and drf-spectacular call it with this signature
        return 'Bearer realm="api"'


class DeviceTokenAuthentication(BaseAuthentication):
    """``Authorization: Device lsd_…``: a camera or door reader acting for one store."""

    def authenticate(self, request: Request) -> tuple[DevicePrincipal, Device] | None:
        raw = _credentials(request, (b"device",))
        if raw is None:
            return None
        device = device_get_by_token(raw=raw)
        if device is None:
            raise AuthenticationFailed("Unknown or revoked device token.")
        now = timezone.now()
        if device.last_seen_at is None or now - device.last_seen_at > _TOUCH_EVERY:
            with merchant_context(device.merchant_id):
                Device.objects.filter(pk=device.pk).update(last_seen_at=now)
        return DevicePrincipal(device), device


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "personalToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:  # noqa: ARG002 - DRF and drf-spectacular call it with this signature
        return {"type": "http", "scheme": "bearer", "description": "A staff member's personal token (lsk_…)."}


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = DeviceTokenAuthentication
    name = "deviceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:  # noqa: ARG002 - DRF and drf-spectacular call it with this signature
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "'Device lsd_…': a camera's or door reader's token.",
        }
