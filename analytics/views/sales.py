"""The Sales report: the chosen stores' sales over a period against an earlier one, from the rollups."""

from __future__ import annotations

from typing import Literal

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from analytics import figures
from analytics.models import PaymentMethod
from analytics.selectors.categories import category_ranges
from analytics.selectors.clerks import sales_by_clerk
from analytics.selectors.sales import sales_ranges
from analytics.views.scope import scope_get
from checkout.models import Channel
from core.exports import tables_export
from core.http import MerchantRequest
from merchants.access import merchant_view


@merchant_view("view_analytics")
@tables_export
def sales(request: MerchantRequest) -> HttpResponse:
    """Headline figures with their change, sales over time with the comparison laid over, busy hours, and sales
    by category, channel and payment method; a refused period says why (400) and shows no figures."""
    request.dashboard_section = "analytics"
    scope = scope_get(request)
    context: dict[str, object] = {"scope": scope, "picker": scope.picker}
    if scope.choice is None:
        return render(request, "analytics/sales.html", context, status=400)
    merchant, stores, currency = request.merchant, scope.stores, scope.currency
    period, compared = scope.choice.period, scope.choice.comparison
    # Every figure of both periods from one read of the hour cells, and one of the category cells each.
    ranges = scope.choice.day_ranges()
    cells = sales_ranges(merchant=merchant, stores=stores, ranges=ranges)
    now_cells, was_cells = cells[0], (cells[1] if compared else None)
    now = now_cells.summary()
    # A period still running (it ends today) is compared with the same hours of the other, not its whole last day.
    running = period.end == scope.today
    cut = timezone.localtime(timezone=scope.zone).hour if running else None
    was = was_cells.summary(last_hour=cut) if was_cells else None
    hours = now_cells.hours()
    hours_before = was_cells.hours() if was_cells else None
    columns = [period.label()] + ([compared.label()] if compared else [])

    def breakdown(by: Literal["channel", "payment_method"]) -> tuple[dict[str, int], dict[str, int]]:
        current = now_cells.breakdown(by)
        before = was_cells.breakdown(by) if was_cells else {}
        return {key: row.net_sales for key, row in current.items()}, {key: row.net_sales for key, row in before.items()}

    channels, channels_before = breakdown("channel")
    methods, methods_before = breakdown("payment_method")
    by_category = category_ranges(merchant=merchant, stores=stores, ranges=ranges)
    categories, categories_before = by_category[0], (by_category[1] if compared else {})
    channel_names, method_names = dict(Channel.choices), dict(PaymentMethod.choices)
    charts: dict[str, dict[str, object]] = {
        "over_time": figures.sales_over_time(
            current=hours, comparison=hours_before, period=period, compared=compared, zone=scope.zone, currency=currency
        ),
        "heatmap": figures.sales_heatmap(hours, currency),
        "by_category": figures.bars(
            "sales-by-category",
            "Net sales by category",
            "Category",
            figures.bar_rows(categories, categories_before if compared else None),
            columns=columns,
            currency=currency,
        ),
        "by_channel": figures.bars(
            "sales-by-channel",
            "Net sales by channel",
            "Channel",
            figures.bar_rows(channels, channels_before if compared else None, channel_names),
            columns=columns,
            currency=currency,
        ),
        "by_method": figures.bars(
            "sales-by-payment",
            "Net sales by payment method",
            "Payment method",
            figures.bar_rows(methods, methods_before if compared else None, method_names),
            columns=columns,
            currency=currency,
        ),
    }
    context |= charts | {
        "summary": now,
        "tiles": figures.tiles(now, was, currency),
        "clerks": sales_by_clerk(merchant=merchant, stores=stores, first=period.start, last=period.end),
    }
    return render(request, "analytics/sales.html", context)
