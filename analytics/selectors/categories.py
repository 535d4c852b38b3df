"""Sales by the wholesaler's top-level category (Drinks, Snacks, …), read from the category-day rollups.

Each line counts under the category it was sold in (``OrderLine.category``), grouped under that
category's top-level category as the catalog has it now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from django.db import connection
from django.db.models import Q

from catalog.models import Category
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_reads

# A store's own products (bread rolls, a neighbour's cake) have no wholesaler category.
UNCATEGORISED = "Own and uncategorised products"


def category_ranges(
    *, merchant: Merchant, stores: Sequence[Store], ranges: Sequence[tuple[date, date]]
) -> list[dict[str, int]]:
    """Net sales per top-level category of each range of local days (ranges must not overlap), largest first;
    scoped, two queries for all."""
    which = " ".join(f"WHEN local_date BETWEEN %s AND %s THEN {n}" for n in range(len(ranges)))
    bounds = [day for first_last in ranges for day in first_last]
    with merchant_reads(merchant.pk), connection.cursor() as cursor:
        cursor.execute(
            # A cell fits an int, whose SUM is a fast bigint (a bigint's is a numeric).
            f"SELECT r, category, SUM(net_sales)::bigint FROM (SELECT CASE {which} END AS r, category, "  # noqa: S608 - our SQL; values are parameters  # nosec B608
            "SUM(net_sales::int) AS net_sales FROM analytics_categoryday "
            "WHERE merchant_id = %s AND store_id = ANY(%s) AND local_date BETWEEN %s AND %s "
            "GROUP BY 1, 2) cells WHERE r IS NOT NULL GROUP BY 1, 2",
            [*bounds, merchant.pk, [store.pk for store in stores], min(bounds), max(bounds)],
        )
        rows = cursor.fetchall()
    by_range: list[dict[int, int]] = [{} for _ in ranges]
    for r, category, net_sales in rows:
        by_range[r][category] = int(net_sales)
    names = _names(merchant, {category for _r, category, _net in rows})
    return [_top_level(names, sums) for sums in by_range]


def _names(merchant: Merchant, categories: set[int]) -> dict[int, str]:
    """The name of each category id's top-level category; one query. A category removed from the catalog since,
    like no category (0), counts with the uncategorised."""
    paths: dict[int, str] = {}
    names: dict[str, str] = {}
    for pk, path, name, parent_id in Category.objects.filter(
        Q(pk__in=[pk for pk in categories if pk]) | Q(parent__isnull=True), wholesaler_id=merchant.wholesaler_id
    ).values_list("pk", "path", "name", "parent_id"):
        paths[pk] = path
        if parent_id is None:
            names[path] = name
    found = {}
    for pk in categories:
        top = paths[pk].split("/")[0] if pk in paths else None
        found[pk] = names.get(top, top) if top else UNCATEGORISED
    return found


def _top_level(names: dict[int, str], by_category: dict[int, int]) -> dict[str, int]:
    """Sums per category id under their top-level categories' names, largest first."""
    totals: dict[str, int] = defaultdict(int)
    for pk, amount in by_category.items():
        totals[names[pk]] += amount
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))
