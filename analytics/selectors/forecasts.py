"""Forecast against actual: what the suggested orders expected each product to sell, day by day (kept by ordering
when it drafts), held against the units the rollups counted, per top-level category."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from analytics.models import ProductDay
from analytics.selectors.categories import UNCATEGORISED
from catalog.models import Category
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import DemandForecast


@dataclass(frozen=True)
class ForecastAccuracy:
    """One category's forecast against what sold, over the product-days that had a forecast."""

    category: str
    product_days: int
    forecast: Decimal
    actual: int
    absolute_error: Decimal

    @property
    def wape(self) -> Decimal | None:
        """Weighted absolute percentage error: the absolute errors over the units sold (lower is better)."""
        return (self.absolute_error / self.actual).quantize(Decimal("0.001"), ROUND_HALF_UP) if self.actual else None

    @property
    def bias(self) -> Decimal | None:
        """Forecast over actual, minus one: above zero the forecast expected more than sold."""
        return (
            ((self.forecast - self.actual) / self.actual).quantize(Decimal("0.001"), ROUND_HALF_UP)
            if self.actual
            else None
        )


def forecast_accuracy(
    *, merchant: Merchant, stores: Sequence[Store], first: dt.date, last: dt.date
) -> list[ForecastAccuracy]:
    """Per top-level category (largest sales first, then "All"), the kept forecasts of the local days
    ``first``..``last`` against the units sold those days; scoped, three queries."""
    ids = [store.pk for store in stores]
    with merchant_context(merchant.pk):
        forecasts = list(
            DemandForecast.objects.for_merchant(merchant)
            .filter(store_id__in=ids, day__gte=first, day__lte=last)
            .values_list("store_product_id", "day", "units", "store_product__product__category__path")
        )
        sold = {
            (pk, day): units
            for pk, day, units in ProductDay.objects.for_stores(merchant, stores)
            .between(first, last)
            .values("store_product_id", "local_date")
            .annotate(sold=Sum("units"))
            .values_list("store_product_id", "local_date", "sold")
        }
    tops = {path.split("/")[0] for *_rest, path in forecasts if path}
    names = dict(
        Category.objects.filter(wholesaler_id=merchant.wholesaler_id, path__in=tops).values_list("path", "name")
    )
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0), Decimal(0)])
    for store_product_id, day, units, path in forecasts:
        actual = sold.get((store_product_id, day), 0)
        expected = Decimal(str(units))
        for key in (names.get(path.split("/")[0], path.split("/")[0]) if path else UNCATEGORISED, "All"):
            entry = sums[key]
            entry[0] += 1
            entry[1] += expected
            entry[2] += actual
            entry[3] += abs(expected - actual)
    rows = [
        ForecastAccuracy(
            category=key,
            product_days=int(n),
            forecast=forecast.quantize(Decimal("0.1"), ROUND_HALF_UP),
            actual=int(actual),
            absolute_error=error,
        )
        for key, (n, forecast, actual, error) in sums.items()
    ]
    return sorted(rows, key=lambda row: (row.category == "All", -row.actual, row.category))
