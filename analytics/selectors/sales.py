"""Sales figures for a merchant's stores over a range of local days, read from the rollups only.

Money is in minor units of the stores' currency. Net sales exclude tax; refunds are the money
given back (tax included), counted on the day they were made. Gross margin is taken over the
sales whose cost was known when they were sold, and says how much of net sales that covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from django.db import connection
from django.db.models import F, Sum

from analytics.contributions import PRODUCT_SUMS as _PRODUCT_SUMS
from analytics.models import ProductDay
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_reads


@dataclass(frozen=True)
class SalesSummary:
    net_sales: int
    tax: int
    refunds: int
    cost: int
    net_sales_known_cost: int
    transactions: int
    units: int

    @property
    def gross_margin(self) -> int:
        """Net sales minus cost, over the sales whose cost is known."""
        return self.net_sales_known_cost - self.cost

    @property
    def margin_rate(self) -> Decimal | None:
        """Gross margin as a share of the net sales it is taken over; None when no cost is known."""
        if not self.net_sales_known_cost:
            return None
        return (Decimal(self.gross_margin) / self.net_sales_known_cost).quantize(Decimal("0.0001"), ROUND_HALF_UP)

    @property
    def known_cost_share(self) -> Decimal | None:
        """How much of net sales has a known cost (1 = all); None without sales."""
        if not self.net_sales:
            return None
        return (Decimal(self.net_sales_known_cost) / self.net_sales).quantize(Decimal("0.0001"), ROUND_HALF_UP)

    @property
    def average_basket(self) -> int | None:
        """Net sales per transaction, rounded half up to the minor unit; None without transactions."""
        if not self.transactions:
            return None
        return int((Decimal(self.net_sales) / self.transactions).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True)
class HourSales:
    local_date: date
    hour: int
    net_sales: int
    tax: int
    refunds: int
    transactions: int
    units: int


@dataclass(frozen=True)
class ProductSales:
    store_id: int
    store_product_id: int
    name: str
    units: int
    net_sales: int
    cost: int
    units_known_cost: int
    net_sales_known_cost: int
    refunds: int
    refunded_units: int
    minutes_out_of_stock: int
    minutes_shelf_empty: int
    price_lookups: int

    @property
    def gross_margin(self) -> int | None:
        """Over the units whose cost is known; None when none is."""
        return self.net_sales_known_cost - self.cost if self.units_known_cost else None


# In this order: SalesCells and sales_ranges unpack them by position.
_HOUR_SUMS = ("net_sales", "tax", "refunds", "cost", "net_sales_known_cost", "transactions", "units")


def _sums(fields: Sequence[str]) -> dict[str, Sum]:
    return {field: Sum(field) for field in fields}


def sales_summary(
    *, merchant: Merchant, stores: Sequence[Store], first: date, last: date, last_hour: int | None = None
) -> SalesSummary:
    """Totals of the stores' local days ``first``..``last`` (the last day only up to ``last_hour`` included, to
    compare a running day with the same hours of another); scoped to the merchant, read-only, from the rollups."""
    return sales_summaries(merchant=merchant, stores=stores, windows=[(first, last, last_hour)])[0]


def sales_summaries(
    *, merchant: Merchant, stores: Sequence[Store], windows: Sequence[tuple[date, date, int | None]]
) -> list[SalesSummary]:
    """``sales_summary`` of each (first, last, last_hour) window, in one query; scoped, from the rollups."""
    conditions: list[tuple[str, list[object]]] = []
    for first, last, last_hour in windows:
        if last_hour is None:
            conditions.append(("local_date BETWEEN %s AND %s", [first, last]))
        else:
            condition = "(local_date BETWEEN %s AND %s AND NOT (local_date = %s AND hour > %s))"
            conditions.append((condition, [first, last, last, last_hour]))
    # Written out rather than built by the ORM: a page asks for four windows of seven sums, and compiling 28
    # filtered aggregates cost more than running them. A cell fits an int, whose SUM is a fast bigint.
    sums = ", ".join(f"SUM({field}::int) FILTER (WHERE {where})" for where, _ in conditions for field in _HOUR_SUMS)
    sql = (
        f"SELECT {sums} FROM analytics_saleshour WHERE merchant_id = %s AND store_id = ANY(%s) "  # noqa: S608 - our SQL; values are parameters  # nosec B608
        f"AND ({' OR '.join(where for where, _ in conditions)})"
    )
    params: list[Any] = [value for _, values in conditions for _field in _HOUR_SUMS for value in values]
    params += [merchant.pk, [store.pk for store in stores]]
    params += [value for _, values in conditions for value in values]
    with merchant_reads(merchant.pk), connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    width = len(_HOUR_SUMS)
    return [_summary([int(value or 0) for value in row[n * width : (n + 1) * width]]) for n in range(len(windows))]


@dataclass(frozen=True)
class SalesCells:
    """A range's sales summed over the chosen stores, as the Sales page shows them: per local hour (channels and
    methods together), per channel, per payment method, and in all. Sums in the order of ``_HOUR_SUMS``."""

    last: date
    by_hour: list[HourSales]  # in time order
    last_day: dict[int, tuple[int, ...]]  # the last day's sums by hour, to compare a running day
    by_channel: dict[str, tuple[int, ...]]
    by_method: dict[str, tuple[int, ...]]
    total: tuple[int, ...]

    def summary(self, *, last_hour: int | None = None) -> SalesSummary:
        """The range's totals (its last day only up to ``last_hour`` included)."""
        totals = list(self.total)
        for hour, sums in self.last_day.items():
            if last_hour is not None and hour > last_hour:
                totals = [total - value for total, value in zip(totals, sums, strict=True)]
        return _summary(totals)

    def hours(self) -> list[HourSales]:
        """Each local hour with sales or refunds, in time order."""
        return self.by_hour

    def breakdown(self, by: Literal["channel", "payment_method"]) -> dict[str, SalesSummary]:
        """Totals per channel or per payment method, largest net sales first."""
        grouped = self.by_channel if by == "channel" else self.by_method
        return {key: _summary(sums) for key, sums in sorted(grouped.items(), key=lambda item: (-item[1][0], item[0]))}


def _summary(sums: Sequence[int]) -> SalesSummary:
    return SalesSummary(**dict(zip(_HOUR_SUMS, sums, strict=True)))


# GROUPING(local_date, hour, channel, payment_method) of each grouping set: a bit for each column summed over.
_BY_HOUR, _BY_CHANNEL, _BY_METHOD, _TOTAL = 0b0011, 0b1101, 0b1110, 0b1111


def sales_ranges(
    *, merchant: Merchant, stores: Sequence[Store], ranges: Sequence[tuple[date, date]]
) -> list[SalesCells]:
    """The sales of each range of local days (first, last; ranges must not overlap) summed over the stores;
    scoped, one query for all of them (the database sums by hour, channel, method and in all at once)."""
    which = " ".join(f"WHEN local_date BETWEEN %s AND %s THEN {n}" for n in range(len(ranges)))
    # The stores' cells summed per hour, channel and method first (a cell fits an int, whose SUM is a fast
    # bigint where a bigint's is a numeric), then those few rows summed by each grouping at once.
    inner = ", ".join(f"SUM({field}::int) AS {field}" for field in _HOUR_SUMS)
    outer = ", ".join(f"SUM({field})::bigint" for field in _HOUR_SUMS)
    sql = (
        f"SELECT r, local_date, hour, channel, payment_method, GROUPING(local_date, hour, channel, payment_method), "  # noqa: S608 - our SQL; values are parameters  # nosec B608
        f"{outer} FROM (SELECT CASE {which} END AS r, local_date, hour, channel, payment_method, {inner} "
        "FROM analytics_saleshour WHERE merchant_id = %s AND store_id = ANY(%s) AND local_date BETWEEN %s AND %s "
        "GROUP BY local_date, hour, channel, payment_method) cells WHERE r IS NOT NULL "
        "GROUP BY GROUPING SETS ((r, local_date, hour), (r, channel), (r, payment_method), (r)) "
        "ORDER BY r, local_date, hour"
    )
    bounds = [day for first_last in ranges for day in first_last]
    with merchant_reads(merchant.pk), connection.cursor() as cursor:
        cursor.execute(sql, [*bounds, merchant.pk, [store.pk for store in stores], min(bounds), max(bounds)])
        rows = cursor.fetchall()
    found = [
        SalesCells(last=last, by_hour=[], last_day={}, by_channel={}, by_method={}, total=(0,) * len(_HOUR_SUMS))
        for _first, last in ranges
    ]
    for r, local_date, hour, channel, method, grouping, *values in rows:
        cells, sums = found[r], tuple(values)
        if grouping == _BY_HOUR:
            net_sales, tax, refunds, _cost, _known, transactions, units = sums
            cells.by_hour.append(HourSales(local_date, hour, net_sales, tax, refunds, transactions, units))
            if local_date == cells.last:
                cells.last_day[hour] = sums
        elif grouping == _BY_CHANNEL:
            cells.by_channel[channel] = sums
        elif grouping == _BY_METHOD:
            cells.by_method[method] = sums
        elif grouping == _TOTAL:
            found[r] = replace(cells, total=sums)
    return found


def sales_by_hour(*, merchant: Merchant, stores: Sequence[Store], first: date, last: date) -> list[HourSales]:
    """Each local hour with sales or refunds, stores and channels together, in time order; scoped, from the rollups."""
    return sales_ranges(merchant=merchant, stores=stores, ranges=[(first, last)])[0].hours()


def sales_by_product(*, merchant: Merchant, stores: Sequence[Store], first: date, last: date) -> list[ProductSales]:
    """Each store product with any figure in the range, best net sales first; scoped, from the rollups."""
    with merchant_reads(merchant.pk):
        rows = list(
            ProductDay.objects.for_stores(merchant, stores)
            .between(first, last)
            .values("store_id", "store_product_id")
            .annotate(
                local_name=F("store_product__local_name"),
                product_name=F("store_product__product__name"),
                **_sums(_PRODUCT_SUMS),
            )
            .order_by("-net_sales", "store_product_id")
        )
    return [
        ProductSales(
            store_id=row["store_id"],
            store_product_id=row["store_product_id"],
            name=row["product_name"] or row["local_name"],
            **{field: int(row[field]) for field in _PRODUCT_SUMS},
        )
        for row in rows
    ]
