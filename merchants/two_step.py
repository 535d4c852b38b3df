"""Two-step sign-in: a code from an authenticator app (TOTP) after the password, or a recovery code.

The devices and their checks are django-otp's: a ``TOTPDevice`` per person, and a ``StaticDevice``
holding the recovery codes, each of which works once. Wrong codes make a device wait before its
next try (django-otp's throttling) and count as failed sign-ins towards the lock-out (django-axes,
in merchants.sign_in). Who must have a second factor is decided here and nowhere else: the platform
operator (a superuser) always, and every member of a shop whose owner requires it. Turning it on or
off, renewing recovery codes, using one, and a shop's rule changing are written to ``AccountEvent``.
"""

from __future__ import annotations

import io
import re
from base64 import b32encode
from datetime import datetime
from typing import TYPE_CHECKING

import qrcode
import qrcode.image.svg
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import AccountEvent, AccountEventKind, Membership, Merchant
from merchants.tenancy import user_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
# What a person may type: the app's six digits, or a recovery code (eight letters and digits), with the
# spaces and hyphens apps and our own list put in for reading.
_SEPARATORS = re.compile(r"[\s-]+")
_CODE = re.compile(r"^(?:[0-9]{6}|[a-z2-7]{8})$")


def _is_app_code(code: str) -> bool:
    # By length: a recovery code may, rarely, be all digits (2-7), but never six of them.
    return len(code) == 6


def _event_add(*, user: User, kind: str, ip_address: str | None, detail: str = "") -> None:
    AccountEvent.objects.create(
        user=user, username=user.get_username(), kind=kind, ip_address=ip_address or None, detail=detail[:300]
    )


def code_normalize(raw: str) -> str:
    """What was typed, as the devices compare it: no separators, lower case; '' when it cannot be a code."""
    code = _SEPARATORS.sub("", raw or "").lower()
    return code if _CODE.match(code) else ""


def recovery_code_format(token: str) -> str:
    """A recovery code as shown: two groups of four ("k7dq-3mwa")."""
    return f"{token[:4]}-{token[4:]}"


def two_step_device(*, user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if two-step sign-in is on for them."""
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


def two_step_is_on(*, user: User) -> bool:
    """Whether the user signs in with a second factor (a confirmed authenticator app)."""
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def two_step_requirements(*, user: User) -> list[str]:
    """Why the user must sign in in two steps, as sentences; empty when it is their own choice. One query."""
    reasons = []
    if user.is_superuser:
        reasons.append("Platform operators always sign in with a second step.")
    # Memberships are the user's own rows, seen in their own context across shops (merchants/rls.py).
    with user_context(user.pk):
        names = list(
            Merchant.objects.filter(
                pk__in=Membership.objects.filter(user_id=user.pk).values("merchant_id"),
                is_active=True,
                staff_two_step_required=True,
            )
            .order_by("name")
            .values_list("name", flat=True)
        )
    reasons.extend(f"{name} requires two-step sign-in of all its staff." for name in names)
    return reasons


def recovery_codes_remaining(*, user: User) -> int:
    """How many unused recovery codes the user has."""
    return StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).count()


@transaction.atomic
def enrolment_start(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator device the user is setting up: the same secret on every reload until confirmed."""
    pending = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).order_by("pk").first()
    if pending is not None:
        return pending
    return TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def otpauth_qr_svg(device: TOTPDevice) -> SafeString:
    """The device's otpauth:// URI as an inline SVG QR code (no script, no style: fine under the CSP)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return mark_safe(svg[svg.index("<svg") :])  # noqa: S308 # nosec B308 B703 - drawn here from the device's own key


def otpauth_secret(device: TOTPDevice) -> str:
    """The device's key in base32, in groups of four, for typing into an app that cannot scan."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _recovery_codes_new(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user_id=user.pk).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    tokens = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=token) for token in tokens])
    return [recovery_code_format(token) for token in tokens]


def enrolment_confirm(*, user: User, code: str, ip_address: str | None) -> tuple[TOTPDevice, list[str]]:
    """Confirm the device being set up with a code from the app; returns it and a fresh set of recovery codes.

    Atomic and audited; a wrong code changes nothing but the device's wait (ValidationError).
    """
    normalized = code_normalize(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=False).order_by("pk").first()
        if device is None:
            raise ValidationError("Start again: there is no authenticator app being set up.", code="no_enrolment")
        if _is_app_code(normalized) and device.verify_token(normalized):
            # One app per person: a second confirmed one would be a second, unseen way in.
            TOTPDevice.objects.filter(user_id=user.pk).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _recovery_codes_new(user=user)
            _event_add(user=user, kind=AccountEventKind.TWO_STEP_ON, ip_address=ip_address)
            return device, codes
    # Outside the block, so that the wrong code's wait on the device is kept.
    raise ValidationError(_refusal(device), code="wrong_code")


def _wait_seconds(device: Device) -> int | None:
    """How long the device makes the next try wait after wrong codes (django-otp's throttling), if at all."""
    allowed, data = device.verify_is_allowed()
    if allowed or not data or not isinstance(data.get("locked_until"), datetime):
        return None
    return max(1, int((data["locked_until"] - timezone.now()).total_seconds()) + 1)


def _refusal(device: Device | None) -> str:
    wait = _wait_seconds(device) if device is not None else None
    if wait is not None:
        return f"That code was not accepted. Wait {wait} s before the next try, then type the newest code."
    return "That code is not right. Type the six digits your app shows now, or one of your recovery codes."


@transaction.atomic
def two_step_verify(*, user: User, code: str, ip_address: str | None) -> Device | None:
    """The user's device that accepts ``code``: the app's current code, else an unused recovery code (then used up,
    and audited). None for anything else. Atomic: two requests cannot both spend one code."""
    normalized = code_normalize(code)
    if not normalized:
        return None
    if _is_app_code(normalized):
        for app in TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).select_for_update():
            if app.verify_token(normalized):
                return app
        return None
    for recovery in StaticDevice.objects.filter(user_id=user.pk, confirmed=True).select_for_update():
        if recovery.verify_token(normalized):
            left = recovery.token_set.count()
            _event_add(
                user=user,
                kind=AccountEventKind.RECOVERY_CODE_USED,
                ip_address=ip_address,
                detail=f"{left} recovery codes left",
            )
            return recovery
    return None


def two_step_refusal(*, user: User) -> str:
    """Why the user's last code was refused, with the longest wait one of their devices now asks for, if any."""
    devices: list[Device] = [
        *TOTPDevice.objects.filter(user_id=user.pk, confirmed=True),
        *StaticDevice.objects.filter(user_id=user.pk, confirmed=True),
    ]
    waiting = [device for device in devices if _wait_seconds(device) is not None]
    return _refusal(max(waiting, key=lambda device: _wait_seconds(device) or 0) if waiting else None)


def _code_check(*, user: User, code: str, ip_address: str | None) -> None:
    """Refuse (ValidationError) unless ``code`` is good; a wrong one's wait on the device is kept (its own commit)."""
    if two_step_device(user=user) is None:
        raise ValidationError("Two-step sign-in is not on for this account.", code="two_step_off")
    if two_step_verify(user=user, code=code, ip_address=ip_address) is None:
        raise ValidationError(two_step_refusal(user=user), code="wrong_code")


def recovery_codes_renew(*, user: User, code: str, ip_address: str | None) -> list[str]:
    """A new set of recovery codes in place of the old (all of which stop working); needs a valid code. Audited."""
    _code_check(user=user, code=code, ip_address=ip_address)
    with transaction.atomic():
        codes = _recovery_codes_new(user=user)
        _event_add(user=user, kind=AccountEventKind.RECOVERY_CODES_RENEWED, ip_address=ip_address)
    return codes


def two_step_disable(*, user: User, code: str, ip_address: str | None) -> None:
    """Turn two-step sign-in off (every device of the user goes); needs a valid code and no rule that requires it.

    Audited; refused with a ValidationError, changing nothing but a wrong code's wait, otherwise.
    """
    requirements = two_step_requirements(user=user)
    if requirements and two_step_device(user=user) is not None:
        raise ValidationError(f"It cannot be turned off: {' '.join(requirements)}", code="required")
    _code_check(user=user, code=code, ip_address=ip_address)
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=user.pk).delete()
        StaticDevice.objects.filter(user_id=user.pk).delete()
        _event_add(user=user, kind=AccountEventKind.TWO_STEP_OFF, ip_address=ip_address)


@transaction.atomic
def staff_two_step_require(*, merchant: Merchant, required: bool, by: User, ip_address: str | None) -> bool:
    """The owner's rule that every member signs in in two steps; returns whether it changed. Audited when it does.

    Refused (ValidationError, nothing changed) when turning it on while the owner has no second factor
    themselves, so the rule never starts by sending its own author to set one up.
    """
    if required and not two_step_is_on(user=by):
        raise ValidationError(
            "Turn on two-step sign-in for your own account first (Account → Two-step sign-in).", code="owner_first"
        )
    changed = (
        Merchant.objects.filter(pk=merchant.pk)
        .exclude(staff_two_step_required=required)
        .update(staff_two_step_required=required)
    )
    merchant.staff_two_step_required = required
    if changed:
        kind = AccountEventKind.STAFF_TWO_STEP_REQUIRED if required else AccountEventKind.STAFF_TWO_STEP_OPTIONAL
        _event_add(user=by, kind=kind, ip_address=ip_address, detail=f"{merchant.name} (merchant {merchant.pk})")
    return bool(changed)
