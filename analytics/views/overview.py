"""The dashboard's home: the shop at a glance, and what needs attention now in each store."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from analytics import figures
from analytics.selectors.attention import attention_list
from analytics.selectors.sales import sales_summary
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
        scope = scope_get(request)
        context |= {"scope": scope, "picker": scope.picker}
        if scope.currency_error:
            # The page still lists what needs attention; it only adds up no money across currencies.
            return render(request, "analytics/overview.html", context, status=400)
        today, hour = scope.today, timezone.localtime(timezone=scope.zone).hour
        week_ago = today - dt.timedelta(days=7)
        now = sales_summary(merchant=merchant, stores=scope.stores, first=today, last=today)
        then = sales_summary(merchant=merchant, stores=scope.stores, first=week_ago, last=week_ago, last_hour=hour)
        context |= {
            "today_tiles": figures.tiles(now, then, scope.currency),
            "today_against": f"{week_ago:%A %d %B} until {hour + 1:02d}:00",
        }
        if scope.choice is None:
            status = 400
        else:
            period, compared = scope.choice.period, scope.choice.comparison
            running = period.end == today
            current = sales_summary(merchant=merchant, stores=scope.stores, first=period.start, last=period.end)
            before = (
                sales_summary(
                    merchant=merchant,
                    stores=scope.stores,
                    first=compared.start,
                    last=compared.end,
                    last_hour=hour if running else None,
                )
                if compared
                else None
            )
            context["period_tiles"] = figures.tiles(current, before, scope.currency)
    return render(request, "analytics/overview.html", context, status=status)
