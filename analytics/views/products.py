"""The Products report: ABC classes, best sellers, dead stock, sell-through, cover, margins and price changes."""

from __future__ import annotations

from collections import Counter

from django.http import HttpResponse
from django.shortcuts import render

from analytics.selectors.products import last_sold, price_effects, product_rows
from analytics.views.scope import scope_get
from core.exports import tables_export
from core.http import MerchantRequest
from merchants.access import merchant_view

DEAD_DAYS = (14, 30, 60, 90)
# The best sellers table is a ranking: the page says how many of the products sold it shows.
BEST_SHOWN = 20


@merchant_view("view_analytics")
@tables_export
def products(request: MerchantRequest) -> HttpResponse:
    """The stores' products over the period: classes, best sellers, margins, stock; what sold nothing for ``dead``
    days while on hand, with its value at cost; and each price change's units a day before and after."""
    request.dashboard_section = "analytics"
    scope = scope_get(request)
    dead_days = int(request.GET["dead"]) if request.GET.get("dead", "") in {str(n) for n in DEAD_DAYS} else 30
    context: dict[str, object] = {
        "scope": scope,
        "picker": scope.picker,
        "dead_days": dead_days,
        "dead_choices": DEAD_DAYS,
    }
    if scope.choice is None:
        return render(request, "analytics/products.html", context, status=400)
    period = scope.choice.period
    rows = product_rows(merchant=request.merchant, stores=scope.stores, first=period.start, last=period.end)
    last = last_sold(merchant=request.merchant, stores=scope.stores)
    cutoff = scope.today.toordinal() - dead_days
    dead = [
        (row, last.get(row.item.pk))
        for row in rows
        if row.item.is_active
        and row.item.on_hand > 0
        and (last.get(row.item.pk) is None or last[row.item.pk].toordinal() <= cutoff)
    ]
    dead.sort(key=lambda pair: (-(pair[0].stock_value or 0), pair[0].item.name))
    classes = Counter(row.abc for row in rows if row.abc)
    sales_by_class = Counter({abc: sum(row.net_sales for row in rows if row.abc == abc) for abc in "ABC"})
    total = sum(sales_by_class.values())
    context |= {
        "rows": rows,
        "best": [row for row in rows if row.net_sales > 0][:BEST_SHOWN],
        "sold_count": sum(1 for row in rows if row.net_sales > 0),
        "classes": [
            {
                "abc": abc,
                "products": classes.get(abc, 0),
                "net_sales": sales_by_class[abc],
                "share": (sales_by_class[abc] / total if total else 0),
            }
            for abc in "ABC"
        ],
        "unsold": sum(1 for row in rows if not row.abc),
        "dead": dead,
        "dead_value": sum(row.stock_value or 0 for row, _last in dead),
        "dead_unknown": sum(1 for row, _last in dead if row.stock_value is None),
        "effects": price_effects(
            merchant=request.merchant, stores=scope.stores, first=period.start, last=period.end, today=scope.today
        ),
        "currency": scope.currency,
    }
    return render(request, "analytics/products.html", context)
