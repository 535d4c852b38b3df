"""Owner pages of orders: the list with filters, one order in full, refunds and the CSV export.

The list renders whole, or only its ``#results`` partial when htmx asks for it. Dates a person
types or reads are the store's local dates: an order placed at 00:30 in Berlin belongs to that
day there, whatever UTC says.
"""

from __future__ import annotations

import csv
import operator
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import reduce
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404, HttpResponse, HttpResponseBase, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from checkout import refunds
from checkout.models import Channel, ExitPass, Order, OrderLine, OrderStatus
from core.http import MerchantRequest
from core.money import AmountError, format_amount, parse_amount, to_decimal
from merchants.access import merchant_view
from merchants.models import Merchant, Store
from merchants.selectors import store_list
from merchants.tenancy import merchant_context

PAGE_SIZE = 50
# Owners and managers refund; the role table has no permission of its own for it yet, and a
# refund returns stock, so it goes with changing stock.
REFUND_PERMISSION = "manage_stock"
REFUND_REFUSED = "Only owners and managers can refund orders."
CSV_COLUMNS = [
    "order", "date", "store", "channel", "status", "product", "quantity", "unit_price", "line_total",
    "tax_rate", "tax", "order_total", "order_refunded", "currency",
]  # fmt: skip
_BIGINT_MAX = 2**63 - 1


# Filters ----------------------------------------------------------------------------------------


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


def _date(params: QueryDict, key: str, label: str, errors: list[str]) -> date | None:
    text = params.get(key, "").strip()
    if not text:
        return None
    try:
        value = parse_date(text)
    except ValueError:
        value = None
    if value is None:
        errors.append(f"{label} {text!r} is not a date like 2025-03-01.")
    return value


def order_filters(params: QueryDict, stores: list[Store]) -> OrderFilters:
    """Read the filters from the query string. Another merchant's store id is 404, as everywhere."""
    errors: list[str] = []
    store = None
    if wanted := params.get("store", ""):
        store = next((s for s in stores if str(s.pk) == wanted), None)
        if store is None:
            raise Http404("No such store.")
    status = params.get("status", "")
    if status and status not in OrderStatus.values:
        errors.append(f"{status!r} is not an order status.")
        status = ""
    channel = params.get("channel", "")
    if channel and channel not in Channel.values:
        errors.append(f"{channel!r} is not a channel.")
        channel = ""
    date_from = _date(params, "from", "From", errors)
    date_to = _date(params, "to", "To", errors)
    if date_from and date_to and date_from > date_to:
        errors.append("The start date is after the end date.")
        date_from = date_to = None
    query = params.get("q", "").strip()
    number = query.lstrip("#")
    if query and not (number.isascii() and number.isdigit()) and not query.startswith("pi_"):
        errors.append("Search by order number (such as 000123) or Stripe payment id (pi_…).")
        query = ""
    return OrderFilters(
        store=store,
        status=status,
        channel=channel,
        date_from=date_from,
        date_to=date_to,
        query=query,
        errors=errors,
    )


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
    """One of the merchant's orders with its store, or 404 (also for another merchant's id)."""
    order = Order.objects.for_merchant(merchant).select_related("store", "age_checked_by").filter(pk=order_id).first()
    if order is None:
        raise Http404("No such order.")
    return order


# Pages ------------------------------------------------------------------------------------------


@merchant_view()
def orders(request: MerchantRequest) -> HttpResponse:
    """The merchant's orders, newest first, 50 a page, filtered by store, status, channel, dates, number."""
    request.dashboard_section = "orders"
    stores = list(store_list(merchant=request.merchant))
    filters = order_filters(request.GET, stores)
    found = order_search(merchant=request.merchant, filters=filters, stores=stores)
    # A subquery, not a join: the paginator's COUNT(*) leaves it out and never touches the lines.
    units = (
        OrderLine.objects.filter(order=OuterRef("pk")).values("order").annotate(units=Sum("quantity")).values("units")
    )
    page = Paginator(found.select_related("store").annotate(item_count=Subquery(units)), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "stores": stores,
        "filters": filters,
        "filter_query": filters.as_query(),
        "page": page,
        "statuses": OrderStatus.choices,
        "channels": Channel.choices,
    }
    template = "dashboard/orders.html#results" if request.htmx else "dashboard/orders.html"
    return render(request, template, context, status=400 if filters.errors else 200)


def _rate_text(rate_bp: int) -> str:
    """1900 -> '19 %', 550 -> '5,5 %' (the dashboard's German number format, as for money)."""
    return f"{format_decimal(Decimal(rate_bp) / 100, locale='de_DE')} %"


@dataclass(frozen=True)
class TaxRow:
    rate: str
    net: int
    tax: int
    gross: int


def _taxes(order: Order, lines: list[OrderLine]) -> list[TaxRow]:
    """Net, tax and gross per tax rate; line totals include the tax or have it added, as the store prices."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        totals[line.tax_rate][0] += line.line_total
        totals[line.tax_rate][1] += line.tax_amount
    rows = []
    for rate, (line_total, tax) in sorted(totals.items(), reverse=True):
        net, gross = (line_total - tax, line_total) if order.prices_include_tax else (line_total, line_total + tax)
        rows.append(TaxRow(rate=_rate_text(rate), net=net, tax=tax, gross=gross))
    return rows


@merchant_view()
def order_detail(request: MerchantRequest, order_id: int) -> HttpResponse:
    """One order: lines, taxes per rate, payment, age check, exit pass, oversold, and the refund form."""
    request.dashboard_section = "orders"
    order = order_get(merchant=request.merchant, order_id=order_id)
    lines = list(order.lines.order_by("pk"))
    exit_pass = ExitPass.objects.for_merchant(request.merchant).filter(order=order).select_related("used_by").first()
    left = refunds.refundable_amount(order)
    context = {
        "order": order,
        "lines": [(line, _rate_text(line.tax_rate)) for line in lines],
        "taxes": _taxes(order, lines),
        "exit_pass": exit_pass,
        "refundable": left,
        "refundable_input": f"{to_decimal(left, order.currency):f}",
        "can_refund": request.membership.has_permission(REFUND_PERMISSION),
        "refunds": list(order.refunds.select_related("refunded_by").order_by("created_at")),
        "disputes": list(order.disputes.order_by("created_at")),
    }
    return render(request, "dashboard/order_detail.html", context)


@require_POST
@merchant_view()
def order_refund(request: MerchantRequest, order_id: int) -> HttpResponse:
    """Refund part or all of an order through Stripe; owners and managers only."""
    if not request.membership.has_permission(REFUND_PERMISSION):
        raise PermissionDenied(REFUND_REFUSED)
    order = order_get(merchant=request.merchant, order_id=order_id)
    text = request.POST.get("amount", "").strip()
    try:
        if not text:
            raise AmountError("Enter the amount to refund.")
        amount = parse_amount(text, order.currency, allow_negative=True)
        refunded = refunds.order_refund(
            merchant=request.merchant, order_id=order.pk, amount=amount, refunded_by=request.user
        )
    except AmountError as error:
        messages.error(request, str(error))
    except refunds.RefundError as error:
        messages.error(request, error.messages[0])
    else:
        note = (
            " Every unit is back in stock."
            if refunded.status == OrderStatus.REFUNDED
            else " Put units back in stock yourself if they came back (stock adjustment)."
        )
        messages.success(
            request,
            f"Refunded {format_amount(amount, order.currency)} of order {order.number} to the shopper's card." + note,
        )
    return redirect("order_detail", slug=request.merchant.slug, order_id=order.pk)


# CSV --------------------------------------------------------------------------------------------


def order_line_rows(*, merchant: Merchant, filters: OrderFilters, stores: list[Store]) -> Iterator[str]:
    """The filtered orders as CSV, one row per line, decimal amounts; streamed, read in the merchant's context.

    It runs after the view has returned, outside the request's row-level security context, so
    it opens its own.
    """

    class _Line:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
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
            yield writer.writerow(
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


@merchant_view()
def orders_export(request: MerchantRequest) -> HttpResponseBase:
    """The orders the list shows (all pages) as CSV, one row per order line."""
    stores = list(store_list(merchant=request.merchant))
    filters = order_filters(request.GET, stores)
    if filters.errors:
        return HttpResponse(" ".join(filters.errors), status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(
        order_line_rows(merchant=request.merchant, filters=filters, stores=stores),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="orders-{request.merchant.slug}.csv"'
    return response
