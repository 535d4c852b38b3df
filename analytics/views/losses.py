"""The Stock and losses report."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from analytics.selectors.losses import out_of_stock, shrinkage, stock_value, unexplained_takes
from analytics.views.scope import scope_get
from core.exports import tables_export
from core.http import MerchantRequest
from merchants.access import merchant_view

OUTS_SHOWN = 25


@merchant_view("view_analytics")
@tables_export
def losses(request: MerchantRequest) -> HttpResponse:
    """Stock value at cost now; over the period: hours out of stock and the sales lost, shrinkage by reason, and
    shelf takes no sale explains; a refused period says why (400)."""
    request.dashboard_section = "analytics"
    scope = scope_get(request)
    merchant, stores = request.merchant, scope.stores
    context: dict[str, object] = {"scope": scope, "picker": scope.picker}
    # Stock value is of now, whatever the period; but not summed across currencies.
    if scope.currency_error:
        return render(request, "analytics/losses.html", context, status=400)
    context |= {"value": stock_value(merchant=merchant, stores=stores), "currency": scope.currency}
    if scope.choice is None:
        return render(request, "analytics/losses.html", context, status=400)
    first, last = scope.choice.period.start, scope.choice.period.end
    outs = out_of_stock(merchant=merchant, stores=stores, first=first, last=last)
    # The longest first; all of them on request and in the CSV (which reads the page's table).
    shown = outs if request.GET.get("export") or request.GET.get("outs") == "all" else outs[:OUTS_SHOWN]
    context |= {
        "outs": shown,
        "outs_more": len(outs) - len(shown),
        "shrinkage": shrinkage(merchant=merchant, stores=stores, first=first, last=last),
        "takes": unexplained_takes(merchant=merchant, stores=stores, first=first, last=last),
    }
    return render(request, "analytics/losses.html", context)
