"""Sales by the wholesaler's top-level category (Drinks, Snacks, …), read from the product-day rollups."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from django.db.models import Sum

from analytics.models import ProductDay
from catalog.models import Category
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

# A store's own products (bread rolls, a neighbour's cake) have no wholesaler category.
UNCATEGORISED = "Own and uncategorised products"


def sales_by_category(*, merchant: Merchant, stores: Sequence[Store], first: date, last: date) -> dict[str, int]:
    """Net sales per top-level category over the stores' local days, largest first; scoped, two queries."""
    with merchant_context(merchant.pk):
        rows = list(
            ProductDay.objects.for_stores(merchant, stores)
            .between(first, last)
            .values("store_product__product__category__path")
            .annotate(net_sales=Sum("net_sales"))
        )
    tops = {
        row["store_product__product__category__path"].split("/")[0]
        for row in rows
        if row["store_product__product__category__path"]
    }
    names = dict(
        Category.objects.filter(wholesaler_id=merchant.wholesaler_id, path__in=tops).values_list("path", "name")
    )
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        path = row["store_product__product__category__path"]
        totals[names.get(path.split("/")[0], path.split("/")[0]) if path else UNCATEGORISED] += int(
            row["net_sales"] or 0
        )
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))
