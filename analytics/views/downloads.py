"""Daily figures as CSV: the rollups of any range of local days, up to all history, streamed."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone

from analytics.forms import DailyFiguresForm
from analytics.periods import store_today
from analytics.selectors.daily import product_day_rows, sales_hour_rows
from analytics.views.scope import stores_chosen
from core.http import MerchantRequest
from merchants.access import merchant_view

ROWS = {"products": (product_day_rows, "products-by-day"), "hours": (sales_hour_rows, "sales-by-hour")}


@merchant_view("view_analytics")
def daily_figures(request: MerchantRequest) -> HttpResponseBase:
    """The chosen stores' product-day or sales-hour cells from ``start`` to ``end`` as a CSV download, any number
    of days; bad dates or rows say why (400) and stream nothing, another merchant's store is not found (404)."""
    _every, stores, _wanted = stores_chosen(request)
    # A range may end on the chosen stores' latest "today", should one store's day have begun before another's.
    now = timezone.now()
    today = max(store_today(ZoneInfo(store.timezone), now=now) for store in stores)
    form = DailyFiguresForm(request.GET, today=today)
    if not form.is_valid() or form.period is None:
        return HttpResponse(form.message(), status=400, content_type="text/plain; charset=utf-8")
    rows, name = ROWS[form.cleaned_data["rows"]]
    period = form.period
    response = StreamingHttpResponse(
        rows(merchant=request.merchant, stores=stores, first=period.start, last=period.end),
        content_type="text/csv; charset=utf-8",
    )
    since = period.start.isoformat() if form.cleaned_data["start"] else "start"
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{request.merchant.slug}-{since}-to-{period.end.isoformat()}.csv"'
    )
    return response
