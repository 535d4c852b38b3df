"""Stock and losses: what the stock is worth at cost now, the hours products were out and the sales that cost,
shrinkage from counts and write-offs by reason, and shelf takes the cameras saw that no sale explains."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from analytics.models import ProductDay
from analytics.periods import Period
from catalog.models import MovementKind, StockMovement, StoreProduct
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import DemandForecast
from sensing.models import EventKind, ReviewStatus, ShelfEvent

# Movements that are losses or finds rather than trade: counts, write-offs and hand adjustments.
SHRINK_KINDS = [MovementKind.COUNT, MovementKind.WRITE_OFF, MovementKind.ADJUSTMENT]
MINUTES_A_DAY = 24 * 60


@dataclass(frozen=True)
class StockValue:
    value: int  # on hand at average cost, over the products whose cost is known
    products: int
    unknown: int  # products on hand whose cost is unknown


def stock_value(*, merchant: Merchant, stores: Sequence[Store]) -> StockValue:
    """On hand now at each product's moving-average cost; scoped, one query."""
    with merchant_context(merchant.pk):
        items = list(
            StoreProduct.objects.for_merchant(merchant)
            .filter(store__in=[store.pk for store in stores], on_hand__gt=0)
            .values_list("on_hand", "average_cost")
        )
    known = [(units, cost) for units, cost in items if cost is not None]
    return StockValue(
        value=sum(units * cost for units, cost in known), products=len(items), unknown=len(items) - len(known)
    )


@dataclass(frozen=True)
class OutOfStock:
    item: StoreProduct
    hours: Decimal  # hours the ledger held none (or a camera saw the shelf empty, whichever is longer a day)
    lost_units: Decimal  # the demand those hours held: the day's forecast, or the period's rate, times the share
    lost_sales: int  # lost units at today's price


def out_of_stock(*, merchant: Merchant, stores: Sequence[Store], first: dt.date, last: dt.date) -> list[OutOfStock]:
    """Products out of stock in the period, longest first, with the sales the empty hours lost; scoped."""
    with merchant_context(merchant.pk):
        days = list(
            ProductDay.objects.for_stores(merchant, stores)
            .between(first, last)
            .values_list("store_product_id", "local_date", "units", "minutes_out_of_stock", "minutes_shelf_empty")
        )
        empty = {(pk, day): max(ledger, shelf) for pk, day, _units, ledger, shelf in days if max(ledger, shelf)}
        if not empty:
            return []
        products = {pk for pk, _day in empty}
        forecast = {
            (pk, day): units
            for pk, day, units in DemandForecast.objects.for_merchant(merchant)
            .filter(store_product_id__in=products, day__gte=first, day__lte=last)
            .values_list("store_product_id", "day", "units")
        }
        items = {
            item.pk: item
            for item in StoreProduct.objects.for_merchant(merchant).filter(pk__in=products).select_related("product")
        }
    # Without a kept forecast, a product's rate is what it sold a day on the days it was never out.
    sold: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for pk, day, units, _ledger, _shelf in days:
        if pk in products and (pk, day) not in empty:
            sold[pk][0] += units
            sold[pk][1] += 1
    totals: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for (pk, day), minutes in empty.items():
        rate = (
            Decimal(str(forecast[pk, day]))
            if (pk, day) in forecast
            else (Decimal(sold[pk][0]) / sold[pk][1] if sold[pk][1] else Decimal(0))
        )
        totals[pk][0] += Decimal(minutes) / 60
        totals[pk][1] += rate * minutes / MINUTES_A_DAY
    rows = [
        OutOfStock(
            item=items[pk],
            hours=hours.quantize(Decimal("0.1"), ROUND_HALF_UP),
            lost_units=lost.quantize(Decimal("0.1"), ROUND_HALF_UP),
            lost_sales=int((lost * items[pk].price).quantize(Decimal(1), ROUND_HALF_UP)),
        )
        for pk, (hours, lost) in totals.items()
    ]
    return sorted(rows, key=lambda row: (-row.hours, row.item.name))


@dataclass(frozen=True)
class Shrinkage:
    reason: str
    movements: int
    units: int  # signed: negative left the books, positive was found
    value: int  # the units at today's average cost, over products whose cost is known


def shrinkage(*, merchant: Merchant, stores: Sequence[Store], first: dt.date, last: dt.date) -> list[Shrinkage]:
    """Counts, write-offs and adjustments in the period by reason, biggest loss first; scoped, one query."""
    start, end = Period(first, last).bounds(ZoneInfo(stores[0].timezone))
    labels = {MovementKind.COUNT: "Stock count difference"} | dict(
        StockMovement._meta.get_field("reason").choices or []
    )
    with merchant_context(merchant.pk):
        moves = list(
            StockMovement.objects.for_merchant(merchant)
            .filter(
                store__in=[store.pk for store in stores],
                kind__in=SHRINK_KINDS,
                created_at__gte=start,
                created_at__lt=end,
            )
            .values_list("kind", "reason", "quantity", "store_product__average_cost")
        )
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for kind, reason, quantity, cost in moves:
        key = str(labels.get(reason, reason) if reason else labels.get(kind, kind))
        sums[key][0] += 1
        sums[key][1] += quantity
        sums[key][2] += quantity * cost if cost is not None else 0
    rows = [Shrinkage(reason=key, movements=n, units=units, value=value) for key, (n, units, value) in sums.items()]
    return sorted(rows, key=lambda row: (row.value, row.units, row.reason))


@dataclass(frozen=True)
class UnexplainedTakes:
    item: StoreProduct
    taken: int  # units the cameras saw taken (less those put back) on the days
    sold: int  # units sold those days
    unexplained: int


def unexplained_takes(
    *, merchant: Merchant, stores: Sequence[Store], first: dt.date, last: dt.date
) -> list[UnexplainedTakes]:
    """Per product watched by a camera: units taken off the shelf that no sale of the same local day explains
    (takes minus put-backs, less units sold, never below zero a day); rejected events left out; scoped."""
    zone = ZoneInfo(stores[0].timezone)
    start, end = Period(first, last).bounds(zone)
    with merchant_context(merchant.pk):
        events = list(
            ShelfEvent.objects.for_merchant(merchant)
            .filter(camera__store__in=[s.pk for s in stores], occurred_at__gte=start, occurred_at__lt=end)
            .exclude(review=ReviewStatus.REJECTED)
            .filter(kind__in=[EventKind.TAKE, EventKind.PUT_BACK], slot__store_product__isnull=False)
            .values_list("slot__store_product_id", "occurred_at", "kind", "quantity")
        )
        if not events:
            return []
        products = {pk for pk, *_rest in events}
        sold = {
            (pk, day): units
            for pk, day, units in ProductDay.objects.for_stores(merchant, stores)
            .between(first, last)
            .filter(store_product__in=products)
            .values_list("store_product_id", "local_date", "units")
        }
        items = {
            item.pk: item
            for item in StoreProduct.objects.for_merchant(merchant).filter(pk__in=products).select_related("product")
        }
    taken: dict[tuple[int, dt.date], int] = defaultdict(int)
    for pk, at, kind, quantity in events:
        taken[pk, at.astimezone(zone).date()] += quantity if kind == EventKind.TAKE else -quantity
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (pk, day), units in taken.items():
        units = max(units, 0)
        sold_that_day = sold.get((pk, day), 0)
        totals[pk][0] += units
        totals[pk][1] += sold_that_day
        totals[pk][2] += max(units - sold_that_day, 0)
    rows = [UnexplainedTakes(items[pk], *values) for pk, values in totals.items() if values[2]]
    return sorted(rows, key=lambda row: (-row.unexplained, row.item.name))
