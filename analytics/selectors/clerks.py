"""Counter sales by clerk: who rang up what at the till over a period (read from the counter's own sales)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Sum

from analytics.periods import Period
from checkout.models import CounterSale
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_reads


@dataclass(frozen=True)
class ClerkSales:
    clerk: str
    sales: int
    net_sales: int  # without tax
    lines_voided: int


def sales_by_clerk(*, merchant: Merchant, stores: Sequence[Store], first: dt.date, last: dt.date) -> list[ClerkSales]:
    """Per clerk who started them, the counter sales paid in the stores' local days, most net sales first;
    scoped, one grouped query."""
    start, end = Period(first, last).bounds(ZoneInfo(stores[0].timezone))
    with merchant_reads(merchant.pk):
        rows = list(
            CounterSale.objects.for_merchant(merchant)
            .filter(
                order__store__in=[store.pk for store in stores],
                order__paid_at__gte=start,
                order__paid_at__lt=end,
            )
            .values("started_by_id", "started_by__first_name", "started_by__last_name", "started_by__email")
            .annotate(
                sales=Count("pk"),
                # Net of tax: what the lines came to, less the tax in them when prices include it.
                gross=Sum("order__subtotal"),
                tax=Sum("order__tax_total"),
                voided=Sum("lines_voided"),
                included=F("order__prices_include_tax"),
            )
            .order_by()
        )
    names: dict[int, str] = {}
    sums: dict[int, list[int]] = {}
    for row in rows:
        name = " ".join(part for part in (row["started_by__first_name"], row["started_by__last_name"]) if part)
        names[row["started_by_id"]] = name or row["started_by__email"]
        entry = sums.setdefault(row["started_by_id"], [0, 0, 0])
        entry[0] += row["sales"]
        entry[1] += row["gross"] - (row["tax"] if row["included"] else 0)
        entry[2] += row["voided"] or 0
    result = [ClerkSales(names[pk], sales, net, voided) for pk, (sales, net, voided) in sums.items()]
    return sorted(result, key=lambda row: (-row.net_sales, row.clerk))
