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

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from merchants import tenancy, zones
from merchants.models import Device, Merchant, Store
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
    """Base of API views that only a device calls (Authorization: Device <token>)."""

    device: Device

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with tenancy.scope():
            return _render(super().dispatch(request, *args, **kwargs))

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not isinstance(request.auth, Device):
            raise PermissionDenied("This endpoint takes a device token (Authorization: Device <token>).")
        self.device = request.auth
        tenancy.activate(merchant_id=self.device.merchant_id)


__all__ = ["DeviceApi", "MerchantApi", "Response", "merchant_view", "shopper_view"]
