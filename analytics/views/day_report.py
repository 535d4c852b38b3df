"""The end-of-day report of one store: a page to read and a PDF to print or file."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from analytics.pdf import day_report_pdf
from analytics.periods import EARLIEST
from analytics.selectors.day_report import day_report
from core.exports import tables_export
from core.http import MerchantRequest
from merchants import zones
from merchants.access import merchant_view
from merchants.models import Store
from merchants.selectors import store_list, store_pick


def _day(request: MerchantRequest, store: Store) -> tuple[dt.date, str]:
    """The asked-for day (the store's today when none is) and what is wrong with the asking, if anything."""
    today = timezone.localdate(timezone=zones.store_zone(store))
    text = request.GET.get("day", "").strip()
    if not text:
        return today, ""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return today, f"“{text[:20]}” is not a day: write it like {today:%Y-%m-%d}."
    if day > today:
        return today, f"{day:%d %B %Y} has not come yet in {store.name}."
    if day < EARLIEST:
        return today, f"No store sold anything through Lingshou before {EARLIEST:%d %B %Y}."
    return day, ""


@merchant_view("view_analytics")
@tables_export
def day_report_page(request: MerchantRequest) -> HttpResponse:
    """One store's day: takings, taxes, refunds and voids, the drawer; a bad day says why (400) and shows none."""
    request.dashboard_section = "analytics"
    store = store_pick(merchant=request.merchant, wanted=request.GET.get("store"))
    zones.activate_store(store)
    day, error = _day(request, store)
    context = {
        "store": store,
        "stores": list(store_list(merchant=request.merchant)),
        "day": day,
        "error": error,
        "report": None if error else day_report(merchant=request.merchant, store=store, day=day),
    }
    return render(request, "analytics/day_report.html", context, status=400 if error else 200)


@merchant_view("view_analytics")
def day_report_download(request: MerchantRequest) -> HttpResponse:
    """The same day as an A4 PDF."""
    store = store_pick(merchant=request.merchant, wanted=request.GET.get("store"))
    day, error = _day(request, store)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    pdf = day_report_pdf(day_report(merchant=request.merchant, store=store, day=day))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="end-of-day-{store.code}-{day:%Y-%m-%d}.pdf"'
    return response
