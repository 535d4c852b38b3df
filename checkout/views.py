"""Shopper pages, reached from the store's entrance QR poster (/s/<code>/)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from merchants.models import Device, DeviceKind
from merchants.selectors import store_get_by_code
from merchants.tenancy import merchant_context

DAYS = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
]


def store_landing(request: HttpRequest, code: str) -> HttpResponse:
    """The store's welcome page: name, address, opening hours and the privacy notice naming its cameras."""
    store = store_get_by_code(code=code)
    typed = request.GET.get("code", "").strip()
    if typed:
        return redirect("product_lookup", store_code=store.code, code=typed)
    with merchant_context(store.merchant_id):
        cameras = list(
            Device.objects.filter(
                merchant_id=store.merchant_id, store=store, kind=DeviceKind.CAMERA, revoked_at__isnull=True
            ).order_by("name")
        )
    hours = [(label, store.opening_hours.get(key, [])) for key, label in DAYS]
    return render(request, "shopper/store.html", {"store": store, "hours": hours, "cameras": cameras})
