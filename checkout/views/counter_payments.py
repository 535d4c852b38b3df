"""Counter mode: taking payment for a sale (cash, a payout of deposits, the shop's terminal, the Stripe reader) and
the paid sale's receipt. The sale itself is rung up in ``checkout.views.counter``, whose answer these share."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from checkout.models import CounterPayment, Order, OrderStatus
from checkout.receipts import qr_svg, receipt_rows, tax_summary
from checkout.selectors import counter as counter_selectors
from checkout.services import counter
from checkout.services.exit_passes import exit_pass_token
from checkout.views.counter import sale_answer, sale_get
from core.http import MerchantRequest, error_message
from core.money import AmountError, parse_amount
from core.outages import Unavailable
from merchants import zones
from merchants.access import merchant_view


@require_POST
@merchant_view("sell")
def pay_cash(request: MerchantRequest, order_id: int) -> HttpResponse:
    """Take cash: the quick-amount button pressed (minor units), else the amount typed."""
    order = sale_get(request, order_id)
    shift = order.counter_sale.shift
    typed = request.POST.get("tendered", "").strip()
    quick = request.POST.get("quick", "").strip()
    try:
        if quick.isdigit():
            tendered = int(quick)
        elif typed:
            tendered = parse_amount(typed, order.currency)
        else:
            raise AmountError("Enter the cash the shopper gave.")
        paid = counter.counter_pay_cash(order=order, tendered=tendered, recorded_by=request.user)
    except AmountError as error:
        return sale_answer(request, shift, status=400, error=str(error), tendered=typed)
    except ValidationError as error:
        return sale_answer(request, shift, status=400, error=error_message(error), tendered=typed)
    return sale_answer(request, shift, paid=paid)


def _settle(request: MerchantRequest, order_id: int, act: Callable[[Order], CounterPayment | None]) -> HttpResponse:
    """Run one payment step on the sale: the sale as it now is, or the step's refusal as a 400."""
    order = sale_get(request, order_id)
    shift = order.counter_sale.shift
    try:
        paid = act(order)
    except ValidationError as error:
        return sale_answer(request, shift, status=400, error=error_message(error))
    except Unavailable as outage:
        # The sale as it was, with the outage's message: the clerk tries again or takes another payment.
        response = sale_answer(request, shift, status=503, error=outage.message)
        response["Retry-After"] = str(outage.retry_after)
        return response
    return sale_answer(request, shift, paid=paid)


@require_POST
@merchant_view("sell")
def pay_out(request: MerchantRequest, order_id: int) -> HttpResponse:
    """The deposit returned is more than the goods: hand the difference out of the drawer and book the sale."""
    return _settle(request, order_id, lambda order: counter.counter_pay_out(order=order, recorded_by=request.user))


@require_POST
@merchant_view("sell")
def pay_external_card(request: MerchantRequest, order_id: int) -> HttpResponse:
    """The shopper paid on the shop's own card terminal: record it and book the sale."""
    return _settle(
        request, order_id, lambda order: counter.counter_pay_external_card(order=order, recorded_by=request.user)
    )


@require_POST
@merchant_view("sell")
def pay_stripe_card(request: MerchantRequest, order_id: int) -> HttpResponse:
    """Send the total to the store's Stripe card reader; the page then waits for Stripe's answer."""

    def start(order: Order) -> None:
        counter.counter_card_start(order=order)

    return _settle(request, order_id, start)


@require_POST
@merchant_view("sell")
def stripe_card_cancel(request: MerchantRequest, order_id: int) -> HttpResponse:
    """Stop the card payment waiting on the reader (the shopper pays otherwise or changes the sale)."""
    order = sale_get(request, order_id)
    shift = order.counter_sale.shift
    try:
        if not counter.counter_card_cancel(order=order):
            return sale_answer(request, shift, error="Too late to cancel: the card was already charged.")
    except ValidationError as error:
        return sale_answer(request, shift, status=400, error=error_message(error))
    return sale_answer(request, shift)


@merchant_view("sell")
def receipt(request: MerchantRequest, order_id: int) -> HttpResponse:
    """A paid counter sale's printable receipt, with its exit pass as a QR code."""
    request.dashboard_section = "counter"
    order = sale_get(request, order_id)
    zones.activate_store(order.store)
    payment = counter_selectors.counter_payment_get(merchant=request.merchant, order_id=order.pk)
    if payment is None:
        raise Http404("This sale is not paid.")
    lines = counter_selectors.counter_sale_lines(order=order)
    token = exit_pass_token(order=order) if order.status == OrderStatus.PAID else None
    return render(
        request,
        "dashboard/counter_receipt.html",
        {
            "order": order,
            "store": order.store,
            "payment": payment,
            "lines": lines,
            "rows": receipt_rows(order, lines),
            "tax_lines": tax_summary(lines),
            "exit_qr": qr_svg(token) if token else None,
        },
    )
