"""Stores side by side: the chosen stores (all by default) over the same period, each against its own comparison
and in its own currency."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from analytics import figures
from analytics.selectors.stores import sales_by_store
from analytics.views.scope import scope_get
from core.exports import tables_export
from core.http import MerchantRequest
from merchants.access import merchant_view


@merchant_view("view_analytics")
@tables_export
def stores(request: MerchantRequest) -> HttpResponse:
    """One row per chosen store: net sales, margin, transactions, basket, units and refunds with the change on its own
    comparison period; a refused period says why (400)."""
    request.dashboard_section = "analytics"
    # Each row is one store's own figures in its own currency: stores of different currencies may stand together.
    scope = scope_get(request, across_currencies=True)
    context: dict[str, object] = {"scope": scope, "picker": scope.picker}
    if scope.choice is None:
        return render(request, "analytics/stores.html", context, status=400)
    period, compared = scope.choice.period, scope.choice.comparison
    chosen = scope.stores
    now = sales_by_store(merchant=request.merchant, stores=chosen, first=period.start, last=period.end)
    was = (
        sales_by_store(merchant=request.merchant, stores=chosen, first=compared.start, last=compared.end)
        if compared
        else {}
    )
    context["rows"] = [
        {"store": store, "tiles": figures.tiles(now[store.pk], was.get(store.pk), store.currency)} for store in chosen
    ]
    context["headings"] = [tile.label for tile in figures.tiles(now[chosen[0].pk], None, chosen[0].currency)]
    return render(request, "analytics/stores.html", context)
