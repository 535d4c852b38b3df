"""The Analytics section's front page: the reports there are."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from core.http import MerchantRequest
from merchants.access import merchant_view


@merchant_view("view_analytics")
def analytics_index(request: MerchantRequest) -> HttpResponse:
    """The reports owners and managers can open."""
    request.dashboard_section = "analytics"
    return render(request, "analytics/index.html", {})
