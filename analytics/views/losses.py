"""The Stock and losses report."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from analytics.selectors.losses import out_of_stock, shrinkage, stock_value, unexplained_takes
from analytics.views.scope import scope_get
from core.exports import tables_export
from core.http import MerchantRequest
from merchants.access import merchant_view


@merchant_view("view_analytics")
@tables_export
def losses(request: MerchantRequest) -> HttpResponse:
    """Stock value at cost now; over the period: hours out of stock and the sales lost, shrinkage by reason, and
    shelf takes no sale explains; a refused period says why (400)."""
    request.dashboard_section = "analytics"
    scope = scope_get(request)
    merchant, stores = request.merchant, scope.stores
    context: dict[str, object] = {
        "scope": scope,
        "picker": scope.picker,
        "value": stock_value(merchant=merchant, stores=stores),
        "currency": scope.currency,
    }
    if scope.choice is None:
        return render(request, "analytics/losses.html", context, status=400)
    first, last = scope.choice.period.start, scope.choice.period.end
    context |= {
        "outs": out_of_stock(merchant=merchant, stores=stores, first=first, last=last),
        "shrinkage": shrinkage(merchant=merchant, stores=stores, first=first, last=last),
        "takes": unexplained_takes(merchant=merchant, stores=stores, first=first, last=last),
    }
    return render(request, "analytics/losses.html", context)
