"""The Analytics section's front page: the reports there are, and honestly which are still to come."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from core.http import MerchantRequest
from merchants.access import merchant_view

# Reports the section will hold that are not built yet: named, never shown with figures.
NOT_BUILT = [
    ("Sales by clerk", "what each clerk sold at the counter"),
]


@merchant_view("view_analytics")
def analytics_index(request: MerchantRequest) -> HttpResponse:
    """The reports owners and managers can open, and those still to come."""
    request.dashboard_section = "analytics"
    return render(request, "analytics/index.html", {"not_built": NOT_BUILT})
