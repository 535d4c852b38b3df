"""Forecasts kept day by day: what drafting expected each product to sell, for analytics to hold against sales."""

from __future__ import annotations

import datetime as dt
import math

from catalog.models import StoreProduct
from merchants.models import Store
from ordering.models import DemandForecast


def demand_forecasts_keep(
    *, store: Store, items: list[StoreProduct], made_on: dt.date, units: list[list[float]], sigma: list[float]
) -> int:
    """Keep ``units[i][j]`` as item i's forecast for ``made_on + j`` days, replacing an older forecast of the same
    day; one statement, inside the caller's merchant context. Returns the rows written."""
    rows = [
        DemandForecast(
            merchant_id=store.merchant_id,
            store=store,
            store_product=item,
            day=made_on + dt.timedelta(days=j),
            units=round(float(value), 4),
            sigma=round(float(sigma[i]), 4),
            made_on=made_on,
        )
        for i, item in enumerate(items)
        for j, value in enumerate(units[i])
        if math.isfinite(value) and math.isfinite(sigma[i])
    ]
    DemandForecast.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["merchant", "store_product", "day"],
        update_fields=["units", "sigma", "made_on"],
    )
    return len(rows)
