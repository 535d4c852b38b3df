"""Counter mode pages: a clerk rings up sales with a USB barcode scanner, takes payment, counts the till.

The counter page renders whole, or only its ``#sale`` partial when htmx (or static/js/counter.js,
which sends ``HX-Request``) asks: every change to a sale answers with the sale as it now is.
Without JavaScript each form posts and comes back to the page (post/redirect/get).

The scan field takes what a scanner sends (barcodes, scale labels, return slips), a PLU typed by
hand, or a few letters of a product's name: a name is searched (typo tolerant) and the results are
offered to pick from, for goods without a barcode or with a damaged one.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog import taxes
from catalog.models import StoreProduct, TaxClass
from catalog.selectors import assortment_search, store_product_get
from checkout.models import CounterPayment, Order, Shift
from checkout.receipts import receipt_rows, tax_summary
from checkout.selectors import counter as counter_selectors
from checkout.selectors.orders import rate_text
from checkout.services import counter, shifts
from checkout.services.orders import age_check_confirm
from core.http import MerchantRequest, error_message, is_partial, render_page
from core.money import AmountError, parse_amount
from merchants import zones
from merchants.access import merchant_view
from merchants.models import Store
from merchants.selectors import store_list, store_pick

# A USB scanner at full speed fills one request with a few dozen codes; more is not a scanner.
MAX_CODES_PER_REQUEST = 100
MAX_CODE_LENGTH = 64
# Products offered for a name typed into the scan field: enough to find one, few enough to read.
SEARCH_RESULTS = 8
# What a scanner or a hand types as a code: digits (barcode, PLU, label, slip) or a label QR's L<id>.
_CODE = re.compile(r"^(?:[0-9]+|[Ll][0-9]+)$")


def _store(request: MerchantRequest) -> Store:
    return store_pick(merchant=request.merchant, wanted=request.GET.get("store") or request.POST.get("store"))


def _shift(request: MerchantRequest, shift_id: int) -> Shift:
    shift = counter_selectors.shift_get(merchant=request.merchant, shift_id=shift_id)
    if shift is None:
        raise Http404("No such shift.")
    return shift


def sale_get(request: MerchantRequest, order_id: int) -> Order:
    order = counter_selectors.counter_sale_get(merchant=request.merchant, order_id=order_id)
    if order is None:
        raise Http404("No such sale.")
    return order


def _counter_url(store_id: int, slug: str, **query: Any) -> str:
    return f"{reverse('checkout:section_counter', kwargs={'slug': slug})}?{urlencode({'store': store_id, **query})}"


def _tax_choices(store: Store) -> list[tuple[str, str]]:
    """The VAT rates an open-price item can carry in the store's country: ('reduced', '7 %'), ..."""
    return [
        (value, f"{rate_text(taxes.rate(country=store.country, tax_class=value))} ({label.lower()})")
        for value, label in TaxClass.choices
    ]


def _search(store: Store, query: str) -> list[StoreProduct]:
    found = assortment_search(store=store, query=query, limit=SEARCH_RESULTS)
    for item in found:
        item.store = store
    return found


def _sale_context(
    request: MerchantRequest,
    shift: Shift,
    *,
    paid: CounterPayment | None = None,
    outcomes: list[counter.ScanOutcome] | None = None,
    error: str = "",
    tendered: str = "",
    search: str = "",
    open_price: dict[str, str] | None = None,
    discount_line: int | None = None,
    discount: dict[str, str] | None = None,
    bottles: dict[str, str] | None = None,
) -> dict[str, Any]:
    order = counter_selectors.counter_sale_current(shift=shift, clerk=request.user)
    lines = counter_selectors.counter_sale_lines(order=order) if order else []
    scanned = [outcome for outcome in outcomes or [] if not outcome.problem]
    store = shift.store
    return {
        "shift": shift,
        "store": store,
        "currency": store.currency,
        "order": order,
        "lines": lines,
        "rows": receipt_rows(order, lines) if order else None,
        "units": sum(line.quantity for line in lines if line.is_sale),
        "tax_lines": tax_summary(lines),
        "last_product_id": scanned[-1].store_product_id if scanned else None,
        "problems": [outcome for outcome in outcomes or [] if outcome.problem],
        "paid": paid,
        "sale_error": error,
        "tendered": tendered,
        "search": search,
        "search_results": _search(store, search) if search else [],
        "tax_choices": _tax_choices(store),
        "open_price": open_price or {"tax_class": TaxClass.REDUCED},
        "discount_limit": counter.discount_limit(merchant=request.merchant, user=request.user),
        "discount_line": discount_line,
        "discount": discount or {},
        "cash_suggestions": counter.cash_suggestions(total=order.total, currency=order.currency) if order else [],
        "payout_due": -order.total if order and order.total < 0 else 0,
        "deposit_amounts": counter_selectors.deposit_amounts(store=store),
        "bottles": bottles or {},
        "max_bottles": counter.MAX_BOTTLES_RETURNED,
    }


def sale_answer(
    request: MerchantRequest, shift: Shift, *, status: int = 200, paid: CounterPayment | None = None, **kwargs: Any
) -> HttpResponse:
    """The sale partial for htmx; otherwise back to the counter page, the error as a message."""
    if is_partial(request):
        context = _sale_context(request, shift, paid=paid, **kwargs)
        return render_page(request, "dashboard/counter.html", context, partial="sale", status=status)
    if kwargs.get("error"):
        messages.error(request, kwargs["error"])
    for outcome in kwargs.get("outcomes") or []:
        if outcome.problem:
            messages.error(request, f"{outcome.code}: {outcome.problem}")
    query: dict[str, Any] = {"paid": paid.order_id} if paid else {}
    if kwargs.get("search"):
        query["search"] = kwargs["search"]
    return redirect(_counter_url(shift.store_id, request.merchant.slug, **query))


@merchant_view("sell")
def counter_page(request: MerchantRequest) -> HttpResponse:
    """The till: open a shift, or scan, change and pay the current sale."""
    store = _store(request)
    shift = counter_selectors.shift_open_get(merchant=request.merchant, store=store)
    context: dict[str, Any] = {"store": store, "stores": list(store_list(merchant=request.merchant))}
    if shift is None:
        context["last_shift"] = counter_selectors.shift_last_closed_get(merchant=request.merchant, store=store)
        return render(request, "dashboard/counter.html", context)
    shift.store = store
    paid = None
    if (request.GET.get("paid") or "").isdigit():
        paid = counter_selectors.counter_payment_get(
            merchant=request.merchant, order_id=int(request.GET["paid"]), shift=shift
        )
    search = request.GET.get("search", "").strip()[:MAX_CODE_LENGTH]
    context.update(_sale_context(request, shift, paid=paid, search=search))
    return render_page(request, "dashboard/counter.html", context, partial="sale")


@require_POST
@merchant_view("sell")
def shift_open(request: MerchantRequest) -> HttpResponse:
    store = _store(request)
    try:
        opening = parse_amount(request.POST.get("opening_cash", ""), store.currency)
        shifts.shift_open(store=store, opened_by=request.user, opening_cash=opening)
    except AmountError as error:
        messages.error(request, f"Opening cash: {error}")
    except ValidationError as error:
        messages.error(request, error_message(error))
    else:
        messages.success(request, "Shift open. Scan the first item.")
    return redirect(_counter_url(store.pk, request.merchant.slug))


@merchant_view("sell")
def shift_detail(request: MerchantRequest, shift_id: int) -> HttpResponse:
    """Close an open shift with a blind cash count; a closed one shows expected, counted and the difference."""
    request.dashboard_section = "counter"
    shift = _shift(request, shift_id)
    zones.activate_store(shift.store)
    status = 200
    if request.method == "POST":
        try:
            counted = parse_amount(request.POST.get("counted_cash", ""), shift.store.currency)
            shift = shifts.shift_close(
                shift=shift, closed_by=request.user, counted_cash=counted, note=request.POST.get("note", "")
            )
        except AmountError as error:
            messages.error(request, f"Counted cash: {error}")
            status = 400
        except ValidationError as error:
            messages.error(request, error_message(error))
            status = 409
        else:
            messages.success(request, "Shift closed.")
            return redirect("checkout:counter_shift", slug=request.merchant.slug, shift_id=shift.pk)
        shift = _shift(request, shift_id)
    unpaid = counter_selectors.shift_unpaid_count(shift=shift) if shift.is_open else 0
    return render(
        request,
        "dashboard/counter_shift.html",
        {
            "shift": shift,
            "store": shift.store,
            "totals": counter_selectors.shift_totals(shift=shift),
            "unpaid": unpaid,
            # Shown with its own sign (+ over, − short) next to the amount.
            "difference_amount": abs(shift.difference or 0),
        },
        status=status,
    )


@require_POST
@merchant_view("sell")
def scan(request: MerchantRequest, shift_id: int) -> HttpResponse:
    """Add scanned codes (one or a queued batch, in scan order) to the clerk's sale; each scan counts.

    Text that is no code (letters) is a product name to search for: the last one typed is searched
    and its results are offered to pick from; the codes around it still count.
    """
    shift = _shift(request, shift_id)
    entries = [" ".join(code.split())[:MAX_CODE_LENGTH] for code in request.POST.getlist("code")]
    entries = [entry for entry in entries if entry]
    if len(entries) > MAX_CODES_PER_REQUEST:
        return sale_answer(
            request, shift, status=400, error=f"At most {MAX_CODES_PER_REQUEST} codes at once; nothing was added."
        )
    codes = [entry for entry in entries if _CODE.match(entry)]
    names = [entry for entry in entries if not _CODE.match(entry)]
    search = names[-1] if names else ""
    if not codes:
        return sale_answer(request, shift, search=search)
    try:
        order = counter.counter_sale_start(shift=shift, clerk=request.user)
        outcomes = counter.counter_lines_scan(order=order, codes=codes)
    except ValidationError as error:
        return sale_answer(request, shift, status=409, error=error_message(error))
    return sale_answer(request, shift, outcomes=outcomes, search=search)


def _posted_id(request: MerchantRequest, name: str) -> int:
    value = request.POST.get(name, "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise Http404("No such item.")
    return int(value)


@require_POST
@merchant_view("sell")
def pick(request: MerchantRequest, shift_id: int) -> HttpResponse:
    """Add one of a product the clerk picked from the search results (no barcode at hand)."""
    shift = _shift(request, shift_id)
    item = store_product_get(merchant=request.merchant, store_product_id=_posted_id(request, "item"))
    if item is None or item.store_id != shift.store_id:
        raise Http404("No such product in this store.")
    try:
        order = counter.counter_sale_start(shift=shift, clerk=request.user)
        outcome = counter.counter_line_pick(order=order, store_product_id=item.pk)
    except ValidationError as error:
        return sale_answer(request, shift, status=409, error=error_message(error))
    return sale_answer(request, shift, outcomes=[outcome])


@require_POST
@merchant_view("sell")
def open_price(request: MerchantRequest, shift_id: int) -> HttpResponse:
    """Sell an item without a barcode at the price and VAT rate the clerk types (a neighbour's cake)."""
    shift = _shift(request, shift_id)
    typed = {key: request.POST.get(key, "").strip()[:250] for key in ("name", "amount", "tax_class")}
    try:
        if not typed["amount"]:
            raise AmountError("Enter the item's price.")
        amount = parse_amount(typed["amount"], shift.store.currency)
        order = counter.counter_sale_start(shift=shift, clerk=request.user)
        counter.counter_line_open_price(order=order, name=typed["name"], amount=amount, tax_class=typed["tax_class"])
    except AmountError as error:
        return sale_answer(request, shift, status=400, error=f"Price: {error}", open_price=typed)
    except ValidationError as error:
        return sale_answer(request, shift, status=400, error=error_message(error), open_price=typed)
    return sale_answer(request, shift)


@require_POST
@merchant_view("sell")
def bottles_return(request: MerchantRequest, shift_id: int) -> HttpResponse:
    """Pay back the deposit on bottles the clerk took back by hand (no slip): how many, at which deposit."""
    shift = _shift(request, shift_id)
    typed = {key: request.POST.get(key, "").strip()[:20] for key in ("bottles", "deposit")}
    try:
        if not typed["bottles"].isascii() or not typed["bottles"].isdigit():
            raise AmountError("Enter how many bottles were returned as a whole number.")
        if not typed["deposit"].isascii() or not typed["deposit"].isdigit():
            raise AmountError("Choose the deposit on the bottles.")
        bottles, deposit = int(typed["bottles"]), int(typed["deposit"])
        # Checked before a sale is started for it: a refused return leaves no empty sale behind.
        counter.bottles_return_check(store=shift.store, bottles=bottles, deposit=deposit)
        order = counter.counter_sale_start(shift=shift, clerk=request.user)
        counter.counter_bottles_return(order=order, bottles=bottles, deposit=deposit)
    except AmountError as error:
        return sale_answer(request, shift, status=400, error=str(error), bottles=typed)
    except ValidationError as error:
        return sale_answer(request, shift, status=400, error=error_message(error), bottles=typed)
    return sale_answer(request, shift)


def _discount_posted(request: MerchantRequest, currency: str) -> counter.Discount:
    """The discount form: an amount or a percentage (``unit``) and why; CheckoutError or AmountError if unreadable."""
    value = request.POST.get("value", "").strip()[:20]
    reason = request.POST.get("reason", "")[:250]
    if not value:
        raise AmountError("Enter the discount.")
    if request.POST.get("unit") == "percent":
        return counter.Discount.of_percent(value, reason)
    return counter.Discount(amount=parse_amount(value, currency), reason=reason)


def _discount_typed(request: MerchantRequest) -> dict[str, str]:
    return {key: request.POST.get(key, "").strip()[:250] for key in ("value", "unit", "reason")}


@require_POST
@merchant_view("sell")
def line_discount(request: MerchantRequest, order_id: int, line_id: int) -> HttpResponse:
    """Take a discount off one line (an amount or a percentage, with a reason), within the giver's limit."""
    order = sale_get(request, order_id)
    _line(order, line_id)
    shift = order.counter_sale.shift
    try:
        if request.POST.get("remove"):
            counter.counter_line_discount_remove(order=order, line_id=line_id)
        else:
            discount = _discount_posted(request, order.currency)
            counter.counter_line_discount(order=order, line_id=line_id, discount=discount, given_by=request.user)
    except (AmountError, ValidationError) as error:
        message = str(error) if isinstance(error, AmountError) else error_message(error)
        return sale_answer(
            request, shift, status=400, error=message, discount_line=line_id, discount=_discount_typed(request)
        )
    return sale_answer(request, shift)


@require_POST
@merchant_view("sell")
def sale_discount(request: MerchantRequest, order_id: int) -> HttpResponse:
    """Take a discount off the whole sale (an amount or a percentage, with a reason), within the giver's limit."""
    order = sale_get(request, order_id)
    shift = order.counter_sale.shift
    try:
        if request.POST.get("remove"):
            counter.counter_sale_discount_remove(order=order)
        else:
            discount = _discount_posted(request, order.currency)
            counter.counter_sale_discount(order=order, discount=discount, given_by=request.user)
    except (AmountError, ValidationError) as error:
        message = str(error) if isinstance(error, AmountError) else error_message(error)
        return sale_answer(
            request, shift, status=400, error=message, discount_line=0, discount=_discount_typed(request)
        )
    return sale_answer(request, shift)


def _line(order: Order, line_id: int) -> None:
    if counter_selectors.counter_line_get(order=order, line_id=line_id) is None:
        raise Http404("No such line.")


@require_POST
@merchant_view("sell")
def line_quantity(request: MerchantRequest, order_id: int, line_id: int) -> HttpResponse:
    order = sale_get(request, order_id)
    _line(order, line_id)
    shift = order.counter_sale.shift
    try:
        quantity = int(request.POST.get("quantity", "").strip())
    except ValueError:
        return sale_answer(request, shift, status=400, error="Enter the quantity as a whole number.")
    try:
        counter.counter_line_set_quantity(order=order, line_id=line_id, quantity=quantity)
    except ValidationError as error:
        return sale_answer(request, shift, status=400, error=error_message(error))
    return sale_answer(request, shift)


@require_POST
@merchant_view("sell")
def line_void(request: MerchantRequest, order_id: int, line_id: int) -> HttpResponse:
    order = sale_get(request, order_id)
    _line(order, line_id)
    shift = order.counter_sale.shift
    try:
        counter.counter_line_void(order=order, line_id=line_id)
    except ValidationError as error:
        return sale_answer(request, shift, status=409, error=error_message(error))
    return sale_answer(request, shift)


@require_POST
@merchant_view("sell")
def sale_cancel(request: MerchantRequest, order_id: int) -> HttpResponse:
    order = sale_get(request, order_id)
    shift = order.counter_sale.shift
    try:
        counter.counter_sale_cancel(order=order)
    except ValidationError as error:
        return sale_answer(request, shift, status=409, error=error_message(error))
    return sale_answer(request, shift)


@require_POST
@merchant_view("sell")
def sale_age_checked(request: MerchantRequest, order_id: int) -> HttpResponse:
    """The clerk has seen the shopper's ID: the sale may be paid and its exit pass is valid."""
    order = sale_get(request, order_id)
    age_check_confirm(order=order, clerk=request.user)
    return sale_answer(request, order.counter_sale.shift)
