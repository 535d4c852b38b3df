"""The dashboard's navigation, from the request's merchant and the user's role.

A section is listed only to members its view lets in (merchants.access.may_open reads the view's
own permission), so no menu link answers 403.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

# (key, label, url name, built yet). Sections not built yet open an honest placeholder page.
SECTIONS: list[tuple[str, str, str, bool]] = [
    ("overview", "Overview", "analytics:overview", True),
    ("catalog", "Catalog", "catalog:section_catalog", True),
    ("stock", "Stock", "catalog:section_stock", True),
    ("counter", "Counter", "checkout:section_counter", True),
    ("exit", "Exit passes", "checkout:exit_check", True),
    ("orders", "Orders", "checkout:section_orders", True),
    ("cameras", "Cameras", "sensing:cameras", True),
    ("restock", "Restock", "ordering:section_restock", True),
    ("analytics", "Analytics", "analytics:index", True),
    ("stores", "Stores", "merchants:stores", True),
    ("devices", "Devices", "merchants:devices", True),
    ("staff", "Staff", "merchants:staff", True),
    ("payments", "Payments", "checkout:payments_settings", True),
    ("data", "Your data", "merchants:data", True),
]


def dashboard(request: HttpRequest) -> dict[str, Any]:
    merchant = getattr(request, "merchant", None)
    if merchant is None:
        return {}
    from merchants.access import may_open
    from merchants.selectors import merchant_list_for_user

    membership = getattr(request, "membership", None)
    match = getattr(request, "resolver_match", None)
    active = getattr(request, "dashboard_section", None) or (match.view_name if match else "")
    nav = [
        {
            "key": key,
            "label": label,
            "url": reverse(url_name, kwargs={"slug": merchant.slug}),
            "is_built": is_built,
            "is_active": active in (key, url_name),
        }
        for key, label, url_name, is_built in SECTIONS
        if may_open(membership, url_name)
    ]
    return {
        "merchant": merchant,
        "membership": membership,
        "dashboard_nav": nav,
        "user_merchants": merchant_list_for_user(user=request.user) if request.user.is_authenticated else [],
    }
