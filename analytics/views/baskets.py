"""The Baskets report: basket sizes and values, products bought together, and look-to-buy."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from analytics.selectors.baskets import MIN_PAIR_BASKETS, baskets_of, look_to_buy
from analytics.views.scope import scope_get
from core.exports import tables_export
from core.http import MerchantRequest
from merchants.access import merchant_view

# The tables are rankings: their headings say how many rows they keep.
PAIRS_SHOWN = 20
LOOKS_SHOWN = 50


@merchant_view("view_analytics")
@tables_export
def baskets(request: MerchantRequest) -> HttpResponse:
    """The period's baskets by size and value, the pairs bought together with support, confidence and lift, and
    price lookups against purchases; a refused period says why (400)."""
    request.dashboard_section = "analytics"
    scope = scope_get(request)
    context: dict[str, object] = {
        "scope": scope,
        "picker": scope.picker,
        "min_pair": MIN_PAIR_BASKETS,
        "pairs_shown": PAIRS_SHOWN,
        "looks_shown": LOOKS_SHOWN,
    }
    if scope.choice is None:
        return render(request, "analytics/baskets.html", context, status=400)
    period = scope.choice.period
    context |= {
        "baskets": baskets_of(
            merchant=request.merchant, stores=scope.stores, first=period.start, last=period.end, pairs=PAIRS_SHOWN
        ),
        "looks": look_to_buy(
            merchant=request.merchant, stores=scope.stores, first=period.start, last=period.end, limit=LOOKS_SHOWN
        ),
    }
    return render(request, "analytics/baskets.html", context)
