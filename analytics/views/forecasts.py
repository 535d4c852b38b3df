"""Forecast against actual: how well the suggested orders' forecasts matched what sold, per category."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import render

from analytics import figures
from analytics.selectors.forecasts import forecast_accuracy
from analytics.views.scope import scope_get
from core.exports import tables_export
from core.http import MerchantRequest
from merchants.access import merchant_view


@merchant_view("view_analytics")
@tables_export
def forecasts(request: MerchantRequest) -> HttpResponse:
    """Per category: forecast and actual units, WAPE and bias over the days that had a forecast; days still to
    come are left out (today has not finished)."""
    request.dashboard_section = "analytics"
    # Units only, no money: stores of different currencies add up.
    scope = scope_get(request, across_currencies=True)
    context: dict[str, object] = {"scope": scope, "picker": scope.picker}
    if scope.choice is None:
        return render(request, "analytics/forecasts.html", context, status=400)
    period = scope.choice.period
    last = min(period.end, scope.today - dt.timedelta(days=1))
    rows = (
        forecast_accuracy(merchant=request.merchant, stores=scope.stores, first=period.start, last=last)
        if last >= period.start
        else []
    )
    context["rows"] = [
        {"row": row, "wape": figures.percent(row.wape), "bias": figures.percent(row.bias, signed=True)} for row in rows
    ]
    return render(request, "analytics/forecasts.html", context)
