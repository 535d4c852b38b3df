"""Stores side by side: each chosen store's sales summary over a period, from the rollups, in one query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db.models import Sum

from analytics.models import SalesHour
from analytics.selectors.sales import SalesSummary
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

FIELDS = ("net_sales", "tax", "refunds", "cost", "net_sales_known_cost", "transactions", "units")


def sales_by_store(*, merchant: Merchant, stores: Sequence[Store], first: date, last: date) -> dict[int, SalesSummary]:
    """Per store id, the totals of its local days ``first``..``last`` (a store with none gets zeros); scoped."""
    with merchant_context(merchant.pk):
        rows = {
            row["store_id"]: row
            for row in SalesHour.objects.for_stores(merchant, stores)
            .between(first, last)
            .values("store_id")
            .annotate(**{field: Sum(field) for field in FIELDS})
        }
    return {
        store.pk: SalesSummary(**{field: int(rows.get(store.pk, {}).get(field) or 0) for field in FIELDS})
        for store in stores
    }
