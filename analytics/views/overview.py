"""The dashboard's home: the shop at a glance, and what needs attention now in each store."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from analytics import figures
from analytics.selectors.attention import attention_list
from analytics.selectors.sales import sales_summaries
from analytics.views.scope import scope_get
from core.http import MerchantRequest
from merchants.access import merchant_view
from merchants.selectors import membership_list, store_list


@merchant_view()
def overview(request: MerchantRequest) -> HttpResponse:
    """Every member lands here; each store's open matters link to the page that deals with them. Owners and
    managers also see today so far against the same weekday last week at the same hour, and the chosen period
    against the one before (from the rollups, live)."""
    merchant = request.merchant
    stores = list(store_list(merchant=merchant))
    context: dict[str, object] = {
        "attention": attention_list(merchant=merchant, stores=stores),
        "staff_count": membership_list(merchant=merchant).count(),
    }
    status = 200
    if stores and request.membership.has_permission("view_analytics"):
        scope = scope_get(request, every=stores)
        context |= {"scope": scope, "picker": scope.picker}
        if scope.currency_error:
            # The page still lists what needs attention; it only adds up no money across currencies.
            return render(request, "analytics/overview.html", context, status=400)
        today, hour = scope.today, timezone.localtime(timezone=scope.zone).hour
        week_ago = today - dt.timedelta(days=7)
        windows: list[tuple[dt.date, dt.date, int | None]] = [(today, today, None), (week_ago, week_ago, hour)]
        if scope.choice is not None:
            period, compared = scope.choice.period, scope.choice.comparison
            windows.append((period.start, period.end, None))
            if compared:
                # A period still running (it ends today) is compared with the same hours of the other.
                windows.append((compared.start, compared.end, hour if period.end == today else None))
        # Every figure of the page in one read of the rollups.
        summaries = sales_summaries(merchant=merchant, stores=scope.stores, windows=windows)
        context |= {
            "today_tiles": figures.tiles(summaries[0], summaries[1], scope.currency),
            "today_against": f"{week_ago:%A %d %B} until {hour + 1:02d}:00",
        }
        if scope.choice is None:
            status = 400
        else:
            before = summaries[3] if len(summaries) > 3 else None
            context["period_tiles"] = figures.tiles(summaries[2], before, scope.currency)
    return render(request, "analytics/overview.html", context, status=status)
