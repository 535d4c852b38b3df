"""Reads for merchants: every lookup by a client-supplied id or code goes through here, scoped."""

from __future__ import annotations

import copy
import threading
import time
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants import tenancy
from merchants.models import ApiToken, Device, Invitation, Membership, Merchant, Store
from merchants.services import token_hash
from merchants.tenancy import lookup_context, merchant_context, settings_in_force, user_context

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def membership_get(*, merchant: Merchant, user: User | AnonymousUser) -> Membership | None:
    """The user's membership of the merchant, or None. Call inside merchant_context(merchant.pk).

    In the same query: the merchant's store ids and time zones (``store_ids``, ``store_timezones``,
    by name like ``store_list``), from which the dashboard picks the zone it shows times in.
    """
    if not user.is_authenticated:
        return None
    stores = Store.objects.filter(merchant_id=OuterRef("merchant_id")).order_by("name", "pk")
    membership = (
        Membership.objects.filter(merchant=merchant, user_id=user.pk)
        .annotate(
            store_ids=ArraySubquery(stores.values("pk")),
            store_timezones=ArraySubquery(stores.values("timezone")),
        )
        .first()
    )
    if membership is not None:
        membership.merchant = merchant  # the caller's own instance: permission checks read it without a query
    return membership


def merchant_list_for_user(*, user: User) -> list[Merchant]:
    """The active merchants the user is staff of, by name; one query (merchants themselves are not scoped)."""
    merchants = Merchant.objects.filter(
        pk__in=Membership.objects.filter(user_id=user.pk).values("merchant_id"), is_active=True
    ).order_by("name")
    in_force = settings_in_force()
    if in_force is not None and in_force["app.user_id"] == str(user.pk):
        # A dashboard page's context already sees the user's own memberships in every shop (besides its
        # merchant's other staff, whom the filter leaves out): no context of the user's own is needed.
        return list(merchants)
    with user_context(user.pk):
        return list(merchants)


def store_list(*, merchant: Merchant) -> QuerySet[Store]:
    """The merchant's stores by name; scoped."""
    return Store.objects.for_merchant(merchant).order_by("name", "pk")


def store_pick(*, merchant: Merchant, wanted: str | None) -> Store:
    """The store a page is about: ``wanted`` (a store id from ?store=), else the merchant's first; 404 otherwise."""
    stores = list(store_list(merchant=merchant))
    if not stores:
        raise Http404("This shop has no store yet.")
    if not wanted:
        return stores[0]
    for store in stores:
        if str(store.pk) == wanted:
            return store
    raise Http404("No such store.")


def store_get(*, merchant: Merchant, store_id: int) -> Store:
    """One of the merchant's stores, or 404."""
    store = Store.objects.for_merchant(merchant).filter(pk=store_id).first()
    if store is None:
        raise Http404("No such store.")
    return store


# Every shopper request starts by finding its store by code. A few seconds of memory per process
# save that transaction on nearly every request; a store closed or renamed shows within them.
_stores_by_code: dict[str, tuple[float, Store]] = {}
_stores_lock = threading.Lock()


def store_get_by_code(*, code: str) -> Store:
    """An active store by its public code (the entrance QR), whatever the merchant; or 404.

    Kept in this process for SHOPPER_STORE_CACHE_SECONDS (0: always asked); callers get a copy.
    """
    code = code.upper()
    seconds = float(getattr(settings, "SHOPPER_STORE_CACHE_SECONDS", 0))
    if seconds > 0:
        hit = _stores_by_code.get(code)
        if hit is not None and hit[0] > time.monotonic():
            return copy.copy(hit[1])
    with lookup_context(code):
        store = Store.objects.select_related("merchant").filter(code=code, is_active=True).first()
    if store is None or not store.merchant.is_active:
        raise Http404("No shop has this code.")
    if seconds > 0:
        with _stores_lock:
            if len(_stores_by_code) > 10_000:  # bounded: a flood of codes cannot grow it without end
                _stores_by_code.clear()
            _stores_by_code[code] = (time.monotonic() + seconds, copy.copy(store))
    return store


def membership_list(*, merchant: Merchant) -> QuerySet[Membership]:
    """The merchant's staff with their users, by role then e-mail; scoped."""
    return Membership.objects.for_merchant(merchant).select_related("user").order_by("role", "user__email")


def membership_list_with_two_step(*, merchant: Merchant) -> QuerySet[Membership]:
    """``membership_list`` with ``has_two_step`` on each: whether the member signs in with a second factor; one query."""
    apps = TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)
    return membership_list(merchant=merchant).annotate(has_two_step=Exists(apps))


def invitation_list_pending(*, merchant: Merchant) -> list[Invitation]:
    """The merchant's invitations still usable (not accepted, revoked or expired), newest first; scoped."""
    invitations = Invitation.objects.for_merchant(merchant).pending()
    return [i for i in invitations.order_by("-created_at") if i.status == "pending"]


def device_list(*, merchant: Merchant) -> QuerySet[Device]:
    """The merchant's devices with their stores, by store then name; scoped."""
    return Device.objects.for_merchant(merchant).select_related("store").order_by("store__name", "name")


def device_get(*, merchant: Merchant, device_id: int) -> Device:
    """One of the merchant's devices, or 404."""
    device = Device.objects.for_merchant(merchant).filter(pk=device_id).first()
    if device is None:
        raise Http404("No such device.")
    return device


def device_get_by_token(*, raw: str) -> Device | None:
    """The active device a token belongs to, whatever the merchant; None if unknown or revoked."""
    digest = token_hash(raw)
    if tenancy.activatable():
        return _device_in_scope(digest)
    with lookup_context(digest):
        merchant_id = Device.objects.filter(token_hash=digest).values_list("merchant_id", flat=True).first()
    if merchant_id is None:
        return None
    # The key reveals the device row alone; its store is read as the merchant, like any other row.
    with merchant_context(merchant_id):
        device = Device.objects.select_related("merchant", "store").filter(token_hash=digest).first()
    if device is None or not device.is_active or not device.merchant.is_active:
        return None
    return device


def _device_in_scope(digest: str) -> Device | None:
    """``device_get_by_token`` directly inside an API request's ``scope()``: the token's row is found and its
    merchant set in the request's own settings, which the view sets next anyway (two statements and two
    ``set_config``, no savepoint). Nothing stays set when the token is unknown or revoked."""
    tenancy.activate_lookup(digest)
    # The key admits the device row, and the merchants' table has no row-level security: the same statement
    # sets the device's merchant (its store is read as that merchant's when it is needed).
    device = tenancy.activate_with(Device.objects.select_related("merchant").filter(token_hash=digest))
    if device is not None and device.is_active and device.merchant.is_active:
        return cast(Device, device)
    tenancy.activate_lookup("")
    return None


def api_token_get_by_token(*, raw: str) -> ApiToken | None:
    """The active personal token, or None."""
    token = ApiToken.objects.select_related("user").filter(token_hash=token_hash(raw)).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    return token


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's own personal tokens, newest first (revoked ones too)."""
    return ApiToken.objects.filter(user_id=user.pk).order_by("-created_at")
