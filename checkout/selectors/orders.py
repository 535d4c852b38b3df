"""Reads of orders for the owner: search with filters, one order, the list page, tax rows and CSV rows.

Dates a person types or reads are the store's local dates: an order placed at 00:30 in Berlin
belongs to that day there, whatever UTC says.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import reduce
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from checkout.choices import SALE_KINDS
from checkout.models import ExitPass, Order, OrderLine
from core.exports import CsvLines
from core.money import to_decimal
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

CSV_COLUMNS = [
    "order", "date", "store", "channel", "status", "product", "quantity", "unit_price", "line_total",
    "tax_rate", "tax", "order_total", "order_refunded", "currency",
]  # fmt: skip
_BIGINT_MAX = 2**63 - 1


@dataclass(frozen=True)
class OrderFilters:
    """What the owner asked to see; ``errors`` name what could not be understood (and is ignored)."""

    store: Store | None = None
    status: str = ""
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None
    query: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def is_active(self) -> bool:
        """Whether any filter narrows the list."""
        return bool(self.store or self.status or self.channel or self.date_from or self.date_to or self.query)

    def as_query(self) -> str:
        """The filters as a query string (without the page), for pager and export links."""
        pairs = {
            "store": self.store.pk if self.store else "",
            "status": self.status,
            "channel": self.channel,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "q": self.query,
        }
        return urlencode({key: value for key, value in pairs.items() if value})


def _local_day_window(filters: OrderFilters, stores: list[Store]) -> Q | None:
    """The date range in each store's own time zone: one condition per time zone in use."""
    if not (filters.date_from or filters.date_to):
        return None
    by_zone: dict[str, list[int]] = defaultdict(list)
    for store in [filters.store] if filters.store else stores:
        by_zone[store.timezone].append(store.pk)
    conditions = []
    for zone_name, store_ids in by_zone.items():
        zone = ZoneInfo(zone_name)
        condition = Q(store_id__in=store_ids)
        if filters.date_from:
            condition &= Q(created_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=zone))
        if filters.date_to:
            condition &= Q(created_at__lt=datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=zone))
        conditions.append(condition)
    return reduce(operator.or_, conditions) if conditions else Q(pk__in=[])


def order_search(*, merchant: Merchant, filters: OrderFilters, stores: list[Store]) -> QuerySet[Order]:
    """The merchant's orders that match the filters, newest first; lazy, scoped."""
    orders = Order.objects.for_merchant(merchant)
    if filters.store:
        orders = orders.filter(store=filters.store)
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.channel:
        orders = orders.filter(channel=filters.channel)
    window = _local_day_window(filters, stores)
    if window is not None:
        orders = orders.filter(window)
    if filters.query:
        number = filters.query.lstrip("#")
        if number.isdigit():
            orders = orders.filter(pk=int(number)) if int(number) <= _BIGINT_MAX else orders.none()
        else:
            orders = orders.filter(payment_intent=filters.query)
    return orders.order_by("-created_at", "-pk")


def order_get(*, merchant: Merchant, order_id: int) -> Order:
    """One of the merchant's orders with its store and, for a counter sale, its payment and clerk; or 404 (also
    for another merchant's id)."""
    order = (
        Order.objects.for_merchant(merchant)
        .select_related("store", "age_checked_by", "sale_discount_by", "counter_payment__recorded_by")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise Http404("No such order.")
    return order


def order_list(*, merchant: Merchant, filters: OrderFilters, stores: list[Store]) -> QuerySet[Order]:
    """The dashboard's list: the search with each order's store and its number of units; lazy, scoped."""
    # A subquery, not a join: the paginator's COUNT(*) leaves it out and never touches the lines.
    units = (
        OrderLine.objects.filter(order=OuterRef("pk"), kind__in=SALE_KINDS)
        .values("order")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    return (
        order_search(merchant=merchant, filters=filters, stores=stores)
        .select_related("store", "counter_payment")
        .annotate(item_count=Subquery(units))
    )


@dataclass(frozen=True)
class OrderListSummary:
    """What the filtered list adds up to: how many orders, how many of them were paid, what those took
    (minor units, before refunds) and what was refunded of them."""

    count: int
    paid: int
    paid_total: int
    refunded: int


def order_list_summary(*, merchant: Merchant, filters: OrderFilters, stores: list[Store]) -> OrderListSummary:
    """The count and money of every order the filters match (all pages); scoped, one query."""
    sold = Q(paid_at__isnull=False)
    row = order_search(merchant=merchant, filters=filters, stores=stores).aggregate(
        count=Count("pk"),
        paid=Count("pk", filter=sold),
        paid_total=Coalesce(Sum("total", filter=sold), 0),
        refunded=Coalesce(Sum("amount_refunded", filter=sold), 0),
    )
    return OrderListSummary(**row)


def order_exit_pass_get(*, merchant: Merchant, order: Order) -> ExitPass | None:
    """The order's exit pass with who used it, if one was issued; scoped."""
    return ExitPass.objects.for_merchant(merchant).filter(order=order).select_related("used_by").first()


def rate_text(rate_bp: int) -> str:
    """1900 -> '19 %', 550 -> '5,5 %' (the dashboard's German number format, as for money)."""
    return f"{format_decimal(Decimal(rate_bp) / 100, locale='de_DE')} %"


@dataclass(frozen=True)
class TaxRow:
    """One tax rate of an order: net, tax and gross, minor units."""

    rate: str
    net: int
    tax: int
    gross: int


def order_tax_rows(*, order: Order, lines: Sequence[OrderLine]) -> list[TaxRow]:
    """Net, tax and gross per tax rate; line totals include the tax or have it added, as the store prices."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        totals[line.tax_rate][0] += line.line_total
        totals[line.tax_rate][1] += line.tax_amount
    rows = []
    for rate, (line_total, tax) in sorted(totals.items(), reverse=True):
        net, gross = (line_total - tax, line_total) if order.prices_include_tax else (line_total, line_total + tax)
        rows.append(TaxRow(rate=rate_text(rate), net=net, tax=tax, gross=gross))
    return rows


def order_line_rows(*, merchant: Merchant, filters: OrderFilters, stores: list[Store]) -> Iterator[str]:
    """The filtered orders as CSV, one row per line, decimal amounts; streamed, read in the merchant's context.

    It runs after the view has returned, outside the request's row-level security context, so
    it opens its own.
    """

    writer = CsvLines()
    yield writer.row(CSV_COLUMNS)
    with merchant_context(merchant.pk):
        orders = order_search(merchant=merchant, filters=filters, stores=stores)
        lines = (
            OrderLine.objects.for_merchant(merchant)
            .filter(order__in=orders.values("pk"))
            .select_related("order__store")
            .order_by("-order__created_at", "-order_id", "pk")
            .iterator(chunk_size=2000)
        )
        for line in lines:
            order = line.order
            currency = order.currency
            placed = timezone.localtime(order.created_at, ZoneInfo(order.store.timezone))
            yield writer.row(
                [
                    order.number,
                    f"{placed:%Y-%m-%d %H:%M}",
                    order.store.name,
                    order.channel,
                    order.status,
                    line.name,
                    line.quantity,
                    f"{to_decimal(line.unit_price, currency):f}",
                    f"{to_decimal(line.line_total, currency):f}",
                    f"{Decimal(line.tax_rate).scaleb(-2):f}",
                    f"{to_decimal(line.tax_amount, currency):f}",
                    f"{to_decimal(order.total, currency):f}",
                    f"{to_decimal(order.amount_refunded, currency):f}",
                    currency,
                ]
            )
