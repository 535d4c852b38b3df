"""The dashboard's home: the shop at a glance, and what needs attention now in each store."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from analytics.selectors.attention import attention_list
from core.http import MerchantRequest
from merchants.access import merchant_view
from merchants.selectors import membership_list, store_list


@merchant_view()
def overview(request: MerchantRequest) -> HttpResponse:
    """Every member lands here; each store's open matters link to the page that deals with them."""
    merchant = request.merchant
    stores = list(store_list(merchant=merchant))
    context = {
        "attention": attention_list(merchant=merchant, stores=stores),
        "staff_count": membership_list(merchant=merchant).count(),
    }
    return render(request, "analytics/overview.html", context)
