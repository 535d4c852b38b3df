"""Owner pages of orders: the list with filters, one order in full, refunds and the CSV export.

The list renders whole, or only its ``#results`` partial when htmx asks for it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from checkout.choices import Channel, OrderStatus, RefundMethod
from checkout.forms import OrderFilterForm
from checkout.receipts import receipt_order, receipt_rows
from checkout.selectors.counter import shift_open_get
from checkout.selectors.orders import (
    order_exit_pass_get,
    order_get,
    order_line_rows,
    order_list,
    order_list_summary,
    order_tax_rows,
    rate_text,
)
from checkout.services import refunds
from core.http import MerchantRequest, render_page
from core.money import AmountError, format_amount, parse_amount, to_decimal
from merchants import zones
from merchants.access import merchant_view
from merchants.selectors import store_list

PAGE_SIZE = 50
# Owners and managers refund; the role table has no permission of its own for it yet, and a
# refund returns stock, so it goes with changing stock.
REFUND_PERMISSION = "manage_stock"
REFUND_REFUSED = "Only owners and managers can refund orders."


class CountedPaginator(Paginator):
    """A paginator told its count by the caller, who has it already (the list's summary counts the same rows)."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @property
    def count(self) -> int:
        return self._known_count


@merchant_view()
def orders(request: MerchantRequest) -> HttpResponse:
    """The merchant's orders, newest first, 50 a page, filtered by store, status, channel, dates, number."""
    request.dashboard_section = "orders"
    stores = list(store_list(merchant=request.merchant))
    filters = OrderFilterForm(request.GET, stores=stores).filters()
    found = order_list(merchant=request.merchant, filters=filters, stores=stores)
    summary = order_list_summary(merchant=request.merchant, filters=filters, stores=stores)
    page = CountedPaginator(found, PAGE_SIZE, count=summary.count).get_page(request.GET.get("page"))
    context = {
        "stores": stores,
        "filters": filters,
        "filter_query": filters.as_query(),
        "summary": summary,
        # The sum is in one currency only when every store of the list sells in it.
        "summary_currency": next(iter({store.currency for store in stores}), "EUR"),
        "summary_one_currency": len({store.currency for store in stores}) <= 1,
        "page": page,
        "statuses": OrderStatus.choices,
        "channels": Channel.choices,
    }
    return render_page(
        request, "dashboard/orders.html", context, partial="results", status=400 if filters.errors else 200
    )


@merchant_view()
def order_detail(request: MerchantRequest, order_id: int) -> HttpResponse:
    """One order: lines, taxes per rate, payment, age check, exit pass, oversold, and the refund form."""
    request.dashboard_section = "orders"
    order = order_get(merchant=request.merchant, order_id=order_id)
    zones.activate_store(order.store)
    lines = receipt_order(order.lines.select_related("discount_by"))
    exit_pass = order_exit_pass_get(merchant=request.merchant, order=order)
    left = refunds.refundable_amount(order)
    methods = refunds.refund_methods(order)
    context = {
        "order": order,
        "lines": [(line, rate_text(line.tax_rate)) for line in lines],
        "rows": receipt_rows(order, lines),
        "taxes": order_tax_rows(order=order, lines=lines),
        "exit_pass": exit_pass,
        "payment": getattr(order, "counter_payment", None),
        "refundable": left,
        "refundable_input": f"{to_decimal(left, order.currency):f}",
        "refund_methods": [(method, RefundMethod(method).label) for method in methods],
        "refund_at_till": RefundMethod.STRIPE not in methods,
        # Cash goes back out of the drawer of the shift open now at the order's store.
        "open_shift": shift_open_get(merchant=request.merchant, store=order.store)
        if RefundMethod.CASH in methods
        else None,
        "can_refund": request.membership.has_permission(REFUND_PERMISSION),
        "refunds": list(order.refunds.select_related("refunded_by").order_by("created_at")),
        "disputes": list(order.disputes.order_by("created_at")),
    }
    return render(request, "dashboard/order_detail.html", context)


@require_POST
@merchant_view()
def order_refund(request: MerchantRequest, order_id: int) -> HttpResponse:
    """Refund part or all of an order: through Stripe, or, for a counter sale paid in cash or on the shop's own
    terminal, at the till (``method``); owners and managers only."""
    if not request.membership.has_permission(REFUND_PERMISSION):
        raise PermissionDenied(REFUND_REFUSED)
    order = order_get(merchant=request.merchant, order_id=order_id)
    text = request.POST.get("amount", "").strip()
    method = request.POST.get("method", RefundMethod.STRIPE)
    try:
        if not text:
            raise AmountError("Enter the amount to refund.")
        amount = parse_amount(text, order.currency, allow_negative=True)
        if method == RefundMethod.STRIPE:
            refunded = refunds.order_refund(
                merchant=request.merchant, order_id=order.pk, amount=amount, refunded_by=request.user
            )
        else:
            refunded = refunds.order_refund_at_till(
                merchant=request.merchant, order_id=order.pk, amount=amount, method=method, refunded_by=request.user
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
        ways: dict[str, str] = {
            RefundMethod.STRIPE: "to the shopper's card",
            RefundMethod.CASH: "in cash from the till (it counts in the cash count of the open shift)",
            RefundMethod.EXTERNAL_CARD: "on the card terminal",
        }
        where = ways.get(method, "")
        messages.success(
            request, f"Refunded {format_amount(amount, order.currency)} of order {order.number} {where}." + note
        )
    return redirect("checkout:order_detail", slug=request.merchant.slug, order_id=order.pk)


@merchant_view()
def orders_export(request: MerchantRequest) -> HttpResponseBase:
    """The orders the list shows (all pages) as CSV, one row per order line."""
    stores = list(store_list(merchant=request.merchant))
    filters = OrderFilterForm(request.GET, stores=stores).filters()
    if filters.errors:
        return HttpResponse(" ".join(filters.errors), status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(
        order_line_rows(merchant=request.merchant, filters=filters, stores=stores),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="orders-{request.merchant.slug}.csv"'
    return response
