"""Resolving the tenant of a request, once, and refusing everyone who is not staff.

HTML views use ``merchant_view``; API views subclass ``MerchantApi``. Both take the merchant from
the URL, answer 404 to non-members (the same answer as "no such merchant"), 403 with a message
to members whose role lacks the permission, and run the view inside the merchant's row-level
security context. Responses are rendered inside that context, so lazy querysets evaluated by a
template see the same rows as the view.

Pages for people also show their times in the store's time zone (merchants.zones): dashboard
pages in the zone ``merchant_view`` picks, shopper pages (``shopper_view``) in their store's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from merchants import tenancy, zones
from merchants.models import Device, DeviceKind, Membership, Merchant, Store
from merchants.selectors import membership_get, store_get_by_code

PERMISSION_MESSAGES = {
    "sell": "Your role cannot sell at the counter.",
    "manage_stock": "Only owners and managers can change stock.",
    "manage_catalog": "Only owners and managers can change the assortment and prices.",
    "manage_devices": "Only owners and managers can manage cameras and devices.",
    "manage_staff": "Only the owner can manage staff.",
    "manage_settings": "Only the owner can change the shop's settings.",
    "view_analytics": "Analytics is for owners, and for managers when the owner lets them see it.",
}


def _merchant_get(lookup: dict[str, Any]) -> Merchant:
    merchant = Merchant.objects.filter(is_active=True, **lookup).first()
    if merchant is None:
        raise Http404("No such shop.")
    return merchant


def _render(response: Any) -> Any:
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    return response


def merchant_view(
    permission: str = "view",
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Decorate a view under /m/<slug>/: sets request.merchant and request.membership, and shows the page's
    times in the zone of the merchant's stores (``merchants.zones.dashboard_zone``)."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            merchant = _merchant_get({"slug": slug})
            with tenancy.merchant_context(merchant.pk, user_id=request.user.pk):
                membership = membership_get(merchant=merchant, user=request.user)
                if membership is None:
                    raise Http404("No such shop.")
                if not membership.has_permission(permission):
                    raise PermissionDenied(PERMISSION_MESSAGES.get(permission, "Your role cannot do this."))
                request.merchant = merchant  # type: ignore[attr-defined]
                request.membership = membership  # type: ignore[attr-defined]
                zone = zones.dashboard_zone(
                    stores=list(zip(membership.store_ids, membership.store_timezones, strict=True)),  # type: ignore[attr-defined]
                    wanted=request.GET.get("store") or request.POST.get("store"),
                )
                with timezone.override(zone):
                    return _render(view(request, *args, **kwargs))

        # Read by view_permission: menus and links ask the view itself what it needs.
        wrapper.permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator


def shopper_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Decorate a shopper view under /s/<store_code>/: the view gets the store, and its times show in the store's zone.

    An unknown or closed store is 404 before the view runs.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, store_code: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        store: Store = store_get_by_code(code=store_code)
        with zones.store_time(store):
            return _render(view(request, store, *args, **kwargs))

    return wrapper


def _callbacks(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, Callable[..., Any]]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _callbacks(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern.callback


@functools.cache
def _permissions() -> dict[str, str]:
    # Django wraps views in more decorators (require_POST, csrf): each keeps __dict__, so the attribute survives.
    return {
        name: permission
        for name, callback in _callbacks(get_resolver().url_patterns)
        if (permission := getattr(callback, "permission", None)) is not None
    }


def view_permission(url_name: str) -> str:
    """The permission the dashboard view named ``url_name`` ("sensing:camera_review") checks; LookupError if none.

    Menus and in-page links show a view only to a member this answers yes for, so a link can never
    lead to a 403: both read the one ``merchant_view(permission)`` of the view.
    """
    try:
        return _permissions()[url_name]
    except KeyError:
        raise LookupError(f"{url_name} is not a dashboard view (merchant_view).") from None


def may_open(membership: Membership | None, url_name: str) -> bool:
    """Whether the member's role passes the check of the dashboard view ``url_name``."""
    return membership is not None and membership.has_permission(view_permission(url_name))


class MerchantApi(APIView):
    """Base of every API view under /api/v1/merchants/<merchant_id>/.

    ``permission`` names the role permission the view needs; devices are refused (404) unless
    ``allow_devices`` is set, and a device only ever reaches its own merchant.
    """

    permission: str = "view"
    allow_devices: bool = False

    merchant: Merchant

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with tenancy.scope():
            return _render(super().dispatch(request, *args, **kwargs))

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        merchant = _merchant_get({"pk": kwargs["merchant_id"]})
        if isinstance(request.auth, Device):
            if not self.allow_devices or request.auth.merchant_id != merchant.pk:
                raise Http404("No such merchant.")
            tenancy.activate(merchant_id=merchant.pk)
        else:
            tenancy.activate(merchant_id=merchant.pk, user_id=request.user.pk)
            membership = membership_get(merchant=merchant, user=request.user)
            if membership is None:
                raise Http404("No such merchant.")
            if not membership.has_permission(self.permission):
                raise PermissionDenied(PERMISSION_MESSAGES.get(self.permission, "Your role cannot do this."))
            request.membership = membership  # type: ignore[attr-defined]
        self.merchant = merchant


class DeviceApi(APIView):
    """Base of API views that only a device calls (Authorization: Device <token>).

    ``device_kind`` names the one kind of device the view serves (a door reader, a camera); a device
    of another kind is refused (403, ``not_a_<kind>``), so a camera cannot use up shoppers' exit passes.
    """

    device_kind: DeviceKind | None = None

    device: Device

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # A device's request is one unit: no view catches a failure after a write to go on, so the contexts
        # inside need no savepoints (a failure answers an error and rolls all of it back).
        with tenancy.scope(savepoints=False):
            return _render(super().dispatch(request, *args, **kwargs))

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not isinstance(request.auth, Device):
            raise PermissionDenied("This endpoint takes a device token (Authorization: Device <token>).")
        kind = self.device_kind
        if kind is not None and request.auth.kind != kind:
            raise exceptions.PermissionDenied(
                f"Only devices of the kind '{kind.label}' may use this endpoint; "
                f"this one is of the kind '{DeviceKind(request.auth.kind).label}'.",
                code=f"not_a_{kind.value}",
            )
        self.device = request.auth
        tenancy.activate(merchant_id=self.device.merchant_id)


__all__ = ["DeviceApi", "MerchantApi", "Response", "may_open", "merchant_view", "shopper_view", "view_permission"]
