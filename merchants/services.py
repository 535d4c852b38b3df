"""Writes for merchants, stores, staff, tokens and devices.

Every service is keyword-only, validates before it writes and runs in one transaction inside the
merchant's row-level security context. Side effects (e-mail) are enqueued after commit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.outbox import send_on_commit
from merchants.models import (
    ApiToken,
    Device,
    DeviceKind,
    Invitation,
    Membership,
    Merchant,
    PlatformAccess,
    Role,
    Store,
    Wholesaler,
    deposit_slip_prefix_validator,
)
from merchants.tax_ids import tax_number_normalize, vat_id_normalize
from merchants.tenancy import lookup_context, merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Unambiguous characters for codes people read off a poster or type in.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def token_hash(raw: str) -> str:
    """SHA-256 of a token: tokens carry 256 random bits, so a fast hash is enough and lookups stay indexed."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _token_new(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def merchant_create(*, name: str, slug: str, wholesaler: Wholesaler, owner: User) -> Merchant:
    """Create a merchant and make ``owner`` its owner; atomic."""
    merchant = Merchant(name=name, slug=slug, wholesaler=wholesaler)
    merchant.full_clean()
    with transaction.atomic():
        merchant.save()
        with merchant_context(merchant.pk):
            Membership.objects.create(merchant=merchant, user=owner, role=Role.OWNER)
    return merchant


@dataclass(frozen=True)
class StoreSettings:
    """What the owner sets on a store's settings page (its code and currency are fixed once created)."""

    name: str
    timezone: str = "UTC"
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "DE"
    opening_hours: dict[str, list[list[str]]] | None = None
    vat_id: str = ""
    tax_number: str = ""
    receipt_footer: str = ""
    share_with_wholesaler: bool = False


def _settings_apply(store: Store, settings: StoreSettings) -> None:
    store.name = settings.name.strip()
    store.timezone = settings.timezone
    store.street = settings.street.strip()
    store.postal_code = settings.postal_code.strip()
    store.city = settings.city.strip()
    store.country = settings.country.strip().upper()
    if settings.opening_hours is not None:
        store.opening_hours = settings.opening_hours
    store.vat_id = vat_id_normalize(settings.vat_id)
    store.tax_number = tax_number_normalize(settings.tax_number)
    store.receipt_footer = settings.receipt_footer.strip()
    store.share_with_wholesaler = settings.share_with_wholesaler


def store_create(
    *,
    merchant: Merchant,
    name: str,
    timezone_name: str = "UTC",
    currency: str = "EUR",
    street: str = "",
    postal_code: str = "",
    city: str = "",
    country: str = "DE",
    opening_hours: dict[str, list[list[str]]] | None = None,
    vat_id: str = "",
    tax_number: str = "",
    receipt_footer: str = "",
    share_with_wholesaler: bool = False,
) -> Store:
    """Create a store with a fresh public code; validated, atomic, scoped to the merchant."""
    store = Store(merchant=merchant, currency=currency)
    _settings_apply(
        store,
        StoreSettings(
            name=name,
            timezone=timezone_name,
            street=street,
            postal_code=postal_code,
            city=city,
            country=country,
            opening_hours=opening_hours,
            vat_id=vat_id,
            tax_number=tax_number,
            receipt_footer=receipt_footer,
            share_with_wholesaler=share_with_wholesaler,
        ),
    )
    with merchant_context(merchant.pk):
        for _attempt in range(5):
            store.code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
            store.full_clean(validate_unique=False)
            try:
                with transaction.atomic():
                    store.save()
                return store
            except IntegrityError as error:
                if "store_unique_name_per_merchant" in str(error):
                    raise ValidationError({"name": "This merchant already has a store with that name."}) from error
                # Another merchant's store holds the code: draw again.
                store.pk = None
        raise ValidationError("Could not draw a free store code; try again.")


@dataclass(frozen=True)
class StoreUpdate:
    store: Store
    is_timezone_changed: bool


def store_update(*, merchant: Merchant, store_id: int, settings: StoreSettings) -> StoreUpdate:
    """Save a store's settings; validated, atomic, scoped (another merchant's store: Store.DoesNotExist).

    A store's days are its own local days, so a new time zone rebuilds the store's analytics
    rollups, enqueued once the change is committed.
    """
    with merchant_context(merchant.pk):
        store = Store.objects.for_merchant(merchant).select_for_update().get(pk=store_id)
        previous_timezone = store.timezone
        _settings_apply(store, settings)
        store.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                store.save()
        except IntegrityError as error:
            raise ValidationError({"name": "This merchant already has a store with that name."}) from error
        is_timezone_changed = store.timezone != previous_timezone
        if is_timezone_changed:
            # By name: analytics sits above merchants and is never imported here. Through the outbox: no sweep
            # rebuilds a store's rollups, so a lost publish would leave its days in the old time zone.
            send_on_commit("analytics.tasks.store_rollups_rebuild", [merchant.pk, store.pk])
    return StoreUpdate(store=store, is_timezone_changed=is_timezone_changed)


def invitation_create(*, merchant: Merchant, invited_by: User, email: str, role: str) -> tuple[Invitation, str]:
    """Invite ``email`` as ``role``; returns the invitation and its raw token (sent once by e-mail).

    Atomic; the e-mail task is sent through the outbox once the invitation is committed.
    """
    email = get_user_model().objects.normalize_email(email.strip()).lower()
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    raw = _token_new("inv")
    invitation = Invitation(
        merchant=merchant,
        email=email,
        role=role,
        token_hash=token_hash(raw),
        invited_by=invited_by,
        expires_at=timezone.now() + settings.INVITATION_VALID_FOR,
    )
    invitation.full_clean(exclude=["invited_by"])
    with merchant_context(merchant.pk):
        if Membership.objects.for_merchant(merchant).filter(user__email__iexact=email).exists():
            raise ValidationError({"email": "This person is already on the staff."})
        invitation.save()
        # Through the outbox, raw token included (the broker's message holds it the same way): the row lives
        # until the publish, milliseconds, or the relay's after an outage; the invitation stores only its hash.
        send_on_commit("merchants.tasks.invitation_send", [merchant.pk, invitation.pk, raw])
    return invitation, raw


def invitation_mark_sent(*, merchant: Merchant, invitation_id: int) -> bool:
    """Record that the invitation e-mail went out; idempotent (only the first call changes anything)."""
    with merchant_context(merchant.pk):
        return bool(
            Invitation.objects.for_merchant(merchant)
            .filter(pk=invitation_id, sent_at__isnull=True)
            .update(sent_at=timezone.now())
        )


def invitation_revoke(*, merchant: Merchant, invitation_id: int) -> Invitation:
    """Revoke a pending invitation; scoped, atomic."""
    with merchant_context(merchant.pk):
        invitation = Invitation.objects.for_merchant(merchant).select_for_update().get(pk=invitation_id)
        if invitation.accepted_at:
            raise ValidationError("This invitation was already accepted; remove the member instead.")
        if not invitation.revoked_at:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
    return invitation


class InvitationError(ValidationError):
    """An invitation link that cannot be used (unknown, expired, used, revoked)."""


def invitation_get_by_token(*, raw: str) -> Invitation:
    """The invitation a link carries, whatever its state; raises InvitationError if unknown."""
    digest = token_hash(raw)
    with lookup_context(digest):
        invitation = Invitation.objects.select_related("merchant").filter(token_hash=digest).first()
    if invitation is None:
        raise InvitationError("This invitation link is not valid. Ask the shop owner for a new one.", code="unknown")
    return invitation


_UNUSABLE = {
    "accepted": "This invitation has already been used.",
    "revoked": "This invitation was withdrawn by the shop.",
    "expired": "This invitation has expired. Ask the shop owner for a new one.",
}


def invitation_check_usable(*, invitation: Invitation) -> None:
    """Raise InvitationError, saying why, unless the invitation can still be accepted."""
    if invitation.status != "pending":
        raise InvitationError(_UNUSABLE[invitation.status], code=invitation.status)


def invitation_accept(*, raw: str, user: User) -> Membership:
    """Make ``user`` staff with the invited role; single use, atomic, race-safe (row lock)."""
    invitation = invitation_get_by_token(raw=raw)
    with merchant_context(invitation.merchant_id):
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        invitation_check_usable(invitation=invitation)
        if Membership.objects.filter(merchant_id=invitation.merchant_id, user=user).exists():
            raise InvitationError("You are already on this shop's staff.", code="already_member")
        membership = Membership.objects.create(merchant_id=invitation.merchant_id, user=user, role=invitation.role)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def membership_role_change(*, merchant: Merchant, membership_id: int, role: str) -> Membership:
    """Change a member's role; the merchant always keeps at least one owner. Atomic, scoped."""
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    with merchant_context(merchant.pk):
        # Lock the owners too, so two concurrent demotions cannot leave the shop without one.
        owners = list(Membership.objects.for_merchant(merchant).select_for_update().filter(role=Role.OWNER))
        membership = Membership.objects.for_merchant(merchant).select_for_update().get(pk=membership_id)
        if membership.role == Role.OWNER and role != Role.OWNER and len(owners) == 1:
            raise ValidationError("A shop needs at least one owner. Make someone else owner first.")
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def managers_analytics_set(*, merchant: Merchant, allowed: bool) -> Merchant:
    """Let the merchant's managers see analytics (sales, margins, costs) or not; owners always do. Atomic."""
    with merchant_context(merchant.pk):
        Merchant.objects.filter(pk=merchant.pk).update(managers_see_analytics=allowed)
    merchant.managers_see_analytics = allowed
    return merchant


def till_settings_set(*, merchant: Merchant, clerk_discount_limit: int, deposit_slip_prefix: str) -> Merchant:
    """Set the largest discount a clerk may give at the counter (0-100 %) and the prefix of the shop's deposit
    return slips (empty: none); validated, atomic. Raises ValidationError naming the field, nothing changed."""
    if isinstance(clerk_discount_limit, bool) or not isinstance(clerk_discount_limit, int):
        raise ValidationError({"clerk_discount_limit": "The discount limit is a whole number of per cent."})
    if not 0 <= clerk_discount_limit <= 100:
        raise ValidationError({"clerk_discount_limit": "The discount limit is between 0 % and 100 %."})
    prefix = deposit_slip_prefix.strip()
    try:
        deposit_slip_prefix_validator(prefix)
    except ValidationError as error:
        raise ValidationError({"deposit_slip_prefix": error.messages}) from error
    with merchant_context(merchant.pk):
        Merchant.objects.filter(pk=merchant.pk).update(
            clerk_discount_limit=clerk_discount_limit, deposit_slip_prefix=prefix
        )
    merchant.clerk_discount_limit = clerk_discount_limit
    merchant.deposit_slip_prefix = prefix
    return merchant


def membership_remove(*, merchant: Merchant, membership_id: int) -> None:
    """Remove a member; never the last owner. Atomic, scoped."""
    with merchant_context(merchant.pk):
        owners = list(Membership.objects.for_merchant(merchant).select_for_update().filter(role=Role.OWNER))
        membership = Membership.objects.for_merchant(merchant).select_for_update().get(pk=membership_id)
        if membership.role == Role.OWNER and len(owners) == 1:
            raise ValidationError("A shop needs at least one owner. Make someone else owner first.")
        membership.delete()


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token; returns it and the raw token, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, such as the script that will use it."})
    raw = _token_new("lsk")
    token = ApiToken(user=user, name=name[:100], prefix=raw[:10], token_hash=token_hash(raw))
    token.save()
    return token, raw


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; idempotent."""
    token = ApiToken.objects.get(user=user, pk=token_id)
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


def device_create(
    *, merchant: Merchant, store_id: int, name: str, kind: str = DeviceKind.CAMERA, created_by: User | None = None
) -> tuple[Device, str]:
    """Register a device for one of the merchant's stores; returns it and its raw token (shown once)."""
    if kind not in DeviceKind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(DeviceKind.values)}."})
    raw = _token_new("lsd")
    with merchant_context(merchant.pk):
        store = Store.objects.for_merchant(merchant).filter(pk=store_id).first()
        if store is None:
            raise ValidationError({"store": "No such store."})
        device = Device(
            merchant=merchant,
            store=store,
            name=name.strip(),
            kind=kind,
            prefix=raw[:10],
            token_hash=token_hash(raw),
            created_by=created_by,
        )
        device.full_clean(exclude=["merchant", "store", "created_by"])
        try:
            with transaction.atomic():
                device.save()
        except IntegrityError as error:
            raise ValidationError({"name": "This store already has a device with that name."}) from error
    return device, raw


def device_revoke(*, merchant: Merchant, device_id: int) -> Device:
    """Revoke a device's token at once; idempotent, scoped."""
    with merchant_context(merchant.pk):
        device = Device.objects.for_merchant(merchant).get(pk=device_id)
        Device.objects.filter(pk=device.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        device.refresh_from_db()
    return device


def platform_access_prune(*, now: datetime | None = None) -> int:
    """Delete audit rows of the row-level security bypass older than PLATFORM_ACCESS_RETENTION_DAYS.

    Scheduled jobs use the bypass every minute, so the log grows by thousands of rows a day; it is
    kept for the retention period (90 days unless set). The pruning itself is logged as a row.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PLATFORM_ACCESS_RETENTION_DAYS)
    deleted = 0
    while True:  # in batches, each its own transaction: a stopped run leaves the rest for the next
        with transaction.atomic():
            batch = list(
                PlatformAccess.objects.filter(at__lt=cutoff).order_by("pk").values_list("pk", flat=True)[:5000]
            )
            if not batch:
                break
            deleted += PlatformAccess.objects.filter(pk__in=batch).delete()[0]
    if deleted:
        PlatformAccess.objects.create(
            at=now,
            actor="task:platform_access_prune",
            reason=f"pruned {deleted} platform access rows from before {cutoff:%Y-%m-%d %H:%M} UTC",
        )
    return deleted
