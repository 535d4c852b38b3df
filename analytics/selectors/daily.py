"""Daily figures as CSV for any range of local days, up to all history: the rollups' cells row by row, streamed.

A page's tables download as CSV too (core.exports), but a page holds at most analytics.periods.MAX_DAYS days;
these files have no limit, so they are never built whole: the cells are read in chunks from a server-side
cursor and written out a few hundred lines at a time, and memory stays the same for a week or ten years.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import Coalesce

from analytics.models import ProductDay, SalesHour
from core.exports import CsvLines
from core.money import to_decimal
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

# Rows the database cursor hands over at a time, and lines written out at a time.
CHUNK_ROWS = 2000
LINES_PER_WRITE = 500

# The files' columns, and the cells' fields they are written from (money fields between the counts).
PRODUCT_COLUMNS = [
    "date", "store", "product", "gtin", "units", "net_sales", "cost", "net_sales_with_known_cost", "refunds",
    "minutes_out_of_stock", "price_lookups", "currency",
]  # fmt: skip
PRODUCT_FIELDS = [
    "local_date", "store__name", "product", "store_product__product__gtin", "units", "net_sales", "cost",
    "net_sales_known_cost", "refunds", "minutes_out_of_stock", "price_lookups", "store__currency",
]  # fmt: skip
HOUR_COLUMNS = [
    "date", "hour", "store", "channel", "payment_method", "transactions", "units", "net_sales", "tax", "refunds",
    "cost", "net_sales_with_known_cost", "currency",
]  # fmt: skip
HOUR_FIELDS = [
    "local_date", "hour", "store__name", "channel", "payment_method", "transactions", "units", "net_sales", "tax",
    "refunds", "cost", "net_sales_known_cost", "store__currency",
]  # fmt: skip


def _streamed(header: list[str], cells: QuerySet[Any], row: Callable[[tuple[Any, ...]], list[object]]) -> Iterator[str]:
    """The header, then the cells as CSV lines: read ``CHUNK_ROWS`` at a time, written ``LINES_PER_WRITE`` at a time
    (a write a line would cost a system call each)."""
    writer = CsvLines()
    yield writer.row(header)
    lines: list[str] = []
    for cell in cells.iterator(chunk_size=CHUNK_ROWS):
        lines.append(writer.row(row(cell)))
        if len(lines) == LINES_PER_WRITE:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def _money(minor: int, currency: str) -> str:
    return f"{to_decimal(minor, currency):f}"


def product_day_rows(*, merchant: Merchant, stores: Sequence[Store], first: dt.date, last: dt.date) -> Iterator[str]:
    """One CSV line per store x product x local day from ``first`` to ``last`` (the product-day rollups), money as
    decimal amounts of the store's currency; streamed, read in the merchant's context.

    It runs after the view has returned, outside the request's row-level security context, so it opens its own.
    """
    with merchant_context(merchant.pk):
        cells = (
            ProductDay.objects.for_stores(merchant, stores)
            .between(first, last)
            .annotate(product=Coalesce("store_product__product__name", "store_product__local_name"))
            .order_by("local_date", "store__name", "product", "store_product_id")
            .values_list(*PRODUCT_FIELDS)
        )

        def row(cell: tuple[Any, ...]) -> list[object]:
            day, store, product, gtin, units, *amounts, minutes, lookups, currency = cell
            money = [_money(amount, currency) for amount in amounts]
            return [day.isoformat(), store, product, gtin or "", units, *money, minutes, lookups, currency]  # fmt: skip

        yield from _streamed(PRODUCT_COLUMNS, cells, row)


def sales_hour_rows(*, merchant: Merchant, stores: Sequence[Store], first: dt.date, last: dt.date) -> Iterator[str]:
    """One CSV line per store x local hour x channel x payment method from ``first`` to ``last`` (the sales-hour
    rollups), money as decimal amounts of the store's currency; streamed, read in the merchant's context."""
    with merchant_context(merchant.pk):
        cells = (
            SalesHour.objects.for_stores(merchant, stores)
            .between(first, last)
            .order_by("local_date", "hour", "store__name", "channel", "payment_method")
            .values_list(*HOUR_FIELDS)
        )

        def row(cell: tuple[Any, ...]) -> list[object]:
            day, hour, store, channel, method, transactions, units, *amounts, currency = cell
            money = [_money(amount, currency) for amount in amounts]
            return [day.isoformat(), f"{hour:02d}:00", store, channel, method, transactions, units, *money, currency]  # fmt: skip

        yield from _streamed(HOUR_COLUMNS, cells, row)
