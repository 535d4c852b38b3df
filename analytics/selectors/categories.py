"""Sales by the wholesaler's top-level category (Drinks, Snacks, …), read from the category-day rollups.

Each line counts under the category it was sold in (``OrderLine.category``), grouped under that
category's top-level category as the catalog has it now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from django.db.models import Q, Sum

from analytics.models import CategoryDay
from catalog.models import Category
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

# A store's own products (bread rolls, a neighbour's cake) have no wholesaler category.
UNCATEGORISED = "Own and uncategorised products"


def sales_by_category(*, merchant: Merchant, stores: Sequence[Store], first: date, last: date) -> dict[str, int]:
    """Net sales per top-level category over the stores' local days, largest first; scoped, two queries."""
    with merchant_context(merchant.pk):
        rows = list(
            CategoryDay.objects.for_stores(merchant, stores)
            .between(first, last)
            .values("category")
            .annotate(net_sales=Sum("net_sales"))
            .order_by()
        )
    return _top_level(merchant, {row["category"]: int(row["net_sales"] or 0) for row in rows})


def _top_level(merchant: Merchant, by_category: dict[int, int]) -> dict[str, int]:
    """Sums per category id under the names of their top-level categories, largest first; one query. A category
    removed from the catalog since counts with the uncategorised."""
    paths: dict[int, str] = {}
    names: dict[str, str] = {}
    for pk, path, name, parent_id in Category.objects.filter(
        Q(pk__in=[pk for pk in by_category if pk]) | Q(parent__isnull=True), wholesaler_id=merchant.wholesaler_id
    ).values_list("pk", "path", "name", "parent_id"):
        paths[pk] = path
        if parent_id is None:
            names[path] = name
    totals: dict[str, int] = defaultdict(int)
    for pk, amount in by_category.items():
        top = paths[pk].split("/")[0] if pk in paths else None
        totals[names.get(top, top) if top else UNCATEGORISED] += amount
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))
