"""Sales figures for a merchant's stores over a range of local days, read from the rollups only.

Money is in minor units of the stores' currency. Net sales exclude tax; refunds are the money
given back (tax included), counted on the day they were made. Gross margin is taken over the
sales whose cost was known when they were sold, and says how much of net sales that covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from django.db.models import F, Q, Sum

from analytics.contributions import PRODUCT_SUMS as _PRODUCT_SUMS
from analytics.models import ProductDay, SalesHour
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context


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


_HOUR_SUMS = ("net_sales", "tax", "refunds", "cost", "net_sales_known_cost", "transactions", "units")


def _sums(fields: Sequence[str]) -> dict[str, Sum]:
    return {field: Sum(field) for field in fields}


def sales_summary(
    *, merchant: Merchant, stores: Sequence[Store], first: date, last: date, last_hour: int | None = None
) -> SalesSummary:
    """Totals of the stores' local days ``first``..``last`` (the last day only up to ``last_hour`` included, to
    compare a running day with the same hours of another); scoped to the merchant, read-only, from the rollups."""
    cells = SalesHour.objects.for_stores(merchant, stores).between(first, last)
    if last_hour is not None:
        cells = cells.exclude(local_date=last, hour__gt=last_hour)
    with merchant_context(merchant.pk):
        totals = cells.aggregate(**_sums(_HOUR_SUMS))
    return SalesSummary(**{field: int(totals[field] or 0) for field in _HOUR_SUMS})


@dataclass(frozen=True)
class SalesCells:
    """A range's hour cells summed over the chosen stores: one row per local day, hour, channel and payment
    method with the sums of ``_HOUR_SUMS``. The Sales page reads every figure of a range from these."""

    first: date
    last: date
    rows: list[tuple[date, int, str, str, tuple[int, ...]]]

    def summary(self, *, last_hour: int | None = None) -> SalesSummary:
        """The range's totals (its last day only up to ``last_hour`` included)."""
        totals = [0] * len(_HOUR_SUMS)
        for local_date, hour, _channel, _method, sums in self.rows:
            if last_hour is not None and local_date == self.last and hour > last_hour:
                continue
            totals = [total + value for total, value in zip(totals, sums, strict=True)]
        return SalesSummary(**dict(zip(_HOUR_SUMS, totals, strict=True)))

    def hours(self) -> list[HourSales]:
        """Each local hour with sales or refunds, channels and methods together, in time order."""
        fields = [_HOUR_SUMS.index(field) for field in ("net_sales", "tax", "refunds", "transactions", "units")]
        by_hour: dict[tuple[date, int], list[int]] = {}
        for local_date, hour, _channel, _method, sums in self.rows:
            totals = by_hour.setdefault((local_date, hour), [0] * len(fields))
            for position, index in enumerate(fields):
                totals[position] += sums[index]
        return [HourSales(day, hour, *totals) for (day, hour), totals in sorted(by_hour.items())]

    def breakdown(self, by: Literal["channel", "payment_method"]) -> dict[str, SalesSummary]:
        """Totals per channel or per payment method, largest net sales first."""
        grouped: dict[str, list[int]] = {}
        for _local_date, _hour, channel, method, sums in self.rows:
            totals = grouped.setdefault(channel if by == "channel" else method, [0] * len(_HOUR_SUMS))
            for index, value in enumerate(sums):
                totals[index] += value
        ordered = sorted(grouped.items(), key=lambda item: (-item[1][0], item[0]))
        return {key: SalesSummary(**dict(zip(_HOUR_SUMS, totals, strict=True))) for key, totals in ordered}


def sales_ranges(
    *, merchant: Merchant, stores: Sequence[Store], ranges: Sequence[tuple[date, date]]
) -> list[SalesCells]:
    """The hour cells of each range of local days (first, last), summed over the stores; scoped, one query for
    all of them, from the rollups."""
    window = Q()
    for first, last in ranges:
        window |= Q(local_date__gte=first, local_date__lte=last)
    with merchant_context(merchant.pk):
        rows = list(
            SalesHour.objects.for_stores(merchant, stores)
            .filter(window)
            .values("local_date", "hour", "channel", "payment_method")
            .annotate(**_sums(_HOUR_SUMS))
            .order_by()
            .values_list("local_date", "hour", "channel", "payment_method", *_HOUR_SUMS)
        )
    return [
        SalesCells(
            first=first,
            last=last,
            rows=[
                (row[0], row[1], row[2], row[3], tuple(int(v) for v in row[4:]))
                for row in rows
                if first <= row[0] <= last
            ],
        )
        for first, last in ranges
    ]


def sales_by_hour(*, merchant: Merchant, stores: Sequence[Store], first: date, last: date) -> list[HourSales]:
    """Each local hour with sales or refunds, stores and channels together, in time order; scoped, from the rollups."""
    return sales_ranges(merchant=merchant, stores=stores, ranges=[(first, last)])[0].hours()


def sales_breakdown(
    *,
    merchant: Merchant,
    stores: Sequence[Store],
    first: date,
    last: date,
    by: Literal["channel", "payment_method"],
) -> dict[str, SalesSummary]:
    """Totals per channel or per payment method, largest net sales first; scoped, from the rollups."""
    return sales_ranges(merchant=merchant, stores=stores, ranges=[(first, last)])[0].breakdown(by)


def sales_by_product(*, merchant: Merchant, stores: Sequence[Store], first: date, last: date) -> list[ProductSales]:
    """Each store product with any figure in the range, best net sales first; scoped, from the rollups."""
    with merchant_context(merchant.pk):
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
