"""Receiving a delivery under /m/<slug>/restock/orders/<id>/receive/: count it in on a phone, book it.

Nothing is filed with the wholesaler by accident. "Everything arrived as shipped" books the delivery in
one tap, and is refused once a difference was counted. "Book into stock" with lines neither counted nor
ticked books nothing: the page asks whether those lines arrived in full or not at all, and shows the
claim each answer files. The answer carries the claim it was shown; if the counts changed meanwhile,
the page asks again rather than file a claim nobody saw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from catalog.selectors import LookupError_, store_product_by_code
from core.http import MerchantRequest, error_message, render_page
from merchants.access import merchant_view
from ordering import selectors
from ordering.forms import ScanForm
from ordering.models import PurchaseOrder, PurchaseOrderLine
from ordering.services.base import RECEIVABLE
from ordering.services.receiving import Count, Difference, purchase_order_receive, receiving_differences
from ordering.views.orders import EDIT_PERMISSION, order_context, order_url

# How the lines nobody counted are booked, once the person has said so.
AS_SHIPPED = "shipped"
AS_MISSING = "missing"


# More than any delivery brings of one product: a slip of the thumb, not a count.
MAX_COUNT = 100_000


def _is_count(text: str) -> bool:
    return re.fullmatch(r"[0-9]{1,6}", text) is not None and int(text) <= MAX_COUNT


@dataclass(frozen=True)
class Choice:
    """One answer to "these lines are not counted": how they are booked and the claim that then goes out."""

    mode: str
    differences: list[Difference]
    token: str  # what the answer's button posts: the mode and the claim it was shown


@dataclass(frozen=True)
class Posted:
    """The receiving form as posted: what was typed per line, the counts read from it, the lines left open."""

    values: dict[int, dict[str, str]]
    counts: dict[int, Count]
    open_lines: list[PurchaseOrderLine]


def _posted(request: MerchantRequest, lines: list[PurchaseOrderLine]) -> Posted:
    """Read the form; a line ticked "all there" without a count arrived as shipped. ValidationError for
    a count that is not a whole number (the values are still returned on the error for the page)."""
    values: dict[int, dict[str, str]] = {}
    counts: dict[int, Count] = {}
    open_lines = []
    problem = ""
    for line in lines:
        received = request.POST.get(f"received-{line.pk}", "").strip()
        damaged = request.POST.get(f"damaged-{line.pk}", "").strip()
        ticked = request.POST.get(f"ok-{line.pk}") == "on"
        values[line.pk] = {"received": received, "damaged": damaged, "ok": "on" if ticked else ""}
        if (received and not _is_count(received)) or (damaged and not _is_count(damaged)):
            problem = problem or f"{line.shipped_product}: counts are whole numbers of units, up to {MAX_COUNT}."
            continue
        if not received and not ticked:
            open_lines.append(line)
            if damaged and int(damaged):
                problem = problem or f"{line.shipped_product}: say how many arrived, not only how many are damaged."
            continue
        counts[line.pk] = Count(
            received=int(received) if received else (line.shipped_quantity or 0),
            damaged=int(damaged) if damaged else 0,
        )
    posted = Posted(values=values, counts=counts, open_lines=open_lines)
    if problem:
        raise _FormError(problem, posted)
    return posted


class _FormError(ValidationError):
    def __init__(self, message: str, posted: Posted) -> None:
        super().__init__(message, code="invalid_count")
        self.posted = posted


def _open_counts(mode: str, posted: Posted) -> dict[int, Count]:
    """The lines nobody counted, booked as arrived in full or as not arrived at all."""
    return {
        line.pk: Count(received=(line.shipped_quantity or 0) if mode == AS_SHIPPED else 0) for line in posted.open_lines
    }


def _choice(mode: str, lines: list[PurchaseOrderLine], posted: Posted) -> Choice:
    differences = receiving_differences(lines, {**posted.counts, **_open_counts(mode, posted)})
    shown = ";".join(f"{d.line.pk}:{d.received}:{d.damaged}" for d in differences)
    return Choice(mode=mode, differences=differences, token=f"{mode}|{shown}")


def _book(request: MerchantRequest, order: PurchaseOrder, counts: dict[int, Count]) -> HttpResponse:
    """Book the counts (ValidationError when refused) and go back to the order, saying what was filed."""
    purchase_order_receive(
        merchant=request.merchant,
        order_id=order.pk,
        counts=counts,
        by=request.user,
        note=request.POST.get("note", "").strip(),
    )
    received = selectors.purchase_order_get(merchant=request.merchant, order_id=order.pk)
    if hasattr(received, "claim"):
        messages.warning(request, f"Order {order.number} received; the differences went to the wholesaler as a claim.")
    else:
        messages.success(request, f"Order {order.number} received: everything is in stock.")
    return redirect(order_url(request, order))


def _all_shipped(lines: list[PurchaseOrderLine], posted: Posted) -> dict[int, Count]:
    """Every line as shipped; refused when the form already holds a difference, which this would drop."""
    counted = [str(d.line.shipped_product) for d in receiving_differences(lines, posted.counts)]
    damaged = [str(line.shipped_product) for line in posted.open_lines if posted.values[line.pk]["damaged"]]
    if counted or damaged:
        raise ValidationError(
            f"You counted a difference for {', '.join(counted + damaged)}: book with “Book into stock”, "
            "so that it goes to the wholesaler, or clear it first.",
            code="counted_differences",
        )
    return {line.pk: Count(received=line.shipped_quantity or 0) for line in lines}


@merchant_view()
def restock_receive(request: MerchantRequest, order_id: int) -> HttpResponse:
    """Count a delivery in: scan barcodes or tick lines, type counted and damaged; book it."""
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    lines = list(order.lines.all())
    values: dict[int, dict[str, str]] = {line.pk: {"received": "", "damaged": "", "ok": ""} for line in lines}
    status = 200
    scan_message = ""
    choices: list[Choice] = []
    uncounted: list[PurchaseOrderLine] = []
    if request.method == "POST":
        if not request.membership.has_permission(EDIT_PERMISSION):
            raise PermissionDenied("Only owners and managers can receive deliveries.")
        action = request.POST.get("action", "")
        problem: _FormError | None = None
        try:
            posted = _posted(request, lines)
        except _FormError as error:
            # A scan still counts while a field is half typed; booking waits for it to be right.
            posted, problem = error.posted, error
        values = posted.values
        try:
            if action == "scan":
                scan_message, status = _scan(request, order, lines, values)
            elif problem is not None:
                raise problem
            elif action == "all_shipped":
                return _book(request, order, _all_shipped(lines, posted))
            elif not posted.open_lines:
                return _book(request, order, posted.counts)
            else:
                choices = [_choice(mode, lines, posted) for mode in (AS_SHIPPED, AS_MISSING)]
                answer = request.POST.get("confirm", "")
                chosen = next((choice for choice in choices if choice.token == answer), None)
                if chosen is not None:
                    return _book(request, order, {**posted.counts, **_open_counts(chosen.mode, posted)})
                if answer:
                    messages.warning(request, "The counts changed since you were asked: check the claim again.")
                uncounted = posted.open_lines
        except ValidationError as error:
            messages.error(request, error_message(error))
            status = 400
    context = {
        **order_context(request, order),
        "rows": [(line, values[line.pk]) for line in lines],
        "scan_form": ScanForm(),
        "scan_message": scan_message,
        "uncounted": uncounted,
        "choices": {choice.mode: choice for choice in choices},
    }
    return render_page(request, "dashboard/ordering/receive.html", context, partial="receiving", status=status)


class ScanRefused(Exception):
    """A scanned code that counts for no line of this delivery; the message says why."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _scanned_code(request: MerchantRequest) -> str:
    """The code as scanned; one too long for a barcode goes on to the lookup, which says what it is not."""
    form = ScanForm(request.POST)
    return form.cleaned_data["code"] if form.is_valid() else str(request.POST.get("code", "")).strip()[:64]


def _scan_line(order: PurchaseOrder, lines: list[PurchaseOrderLine], code: str) -> tuple[PurchaseOrderLine, int]:
    """The delivery's line a scanned code is for, and the units it counts (a case barcode: the case)."""
    if not code.strip():
        raise ScanRefused("Scan or type a barcode.", "no_code")
    try:
        found = store_product_by_code(store=order.store, code=code)
    except LookupError_ as error:
        raise ScanRefused(str(error), "unknown_code") from error
    product_id = found.store_product.product_id
    line = next((line for line in lines if line.shipped_product.pk == product_id), None)
    if line is None:
        raise ScanRefused(f"{found.store_product.name} is not on this delivery.", "not_on_delivery")
    return line, found.quantity


def _scan(
    request: MerchantRequest, order: PurchaseOrder, lines: list[PurchaseOrderLine], values: dict[int, dict[str, str]]
) -> tuple[str, int]:
    """Without JavaScript: add a scanned code's units to its line's count in the posted form."""
    try:
        line, units = _scan_line(order, lines, _scanned_code(request))
    except ScanRefused as error:
        return str(error), 400
    current = values[line.pk]["received"]
    count = (int(current) if current.isdigit() else 0) + units
    values[line.pk]["received"] = str(count)
    return f"{line.shipped_product}: {count} counted.", 200


@require_POST
@merchant_view(EDIT_PERMISSION)
def restock_receive_scan(request: MerchantRequest, order_id: int) -> JsonResponse:
    """One scan, as JSON for the receiving page's script: which line it is and how many units it counts.

    The page adds the units to that line itself, so scans sent one after another while the
    person types a damaged count never overwrite each other or what was typed.
    """
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    if order.state not in RECEIVABLE:
        message = f"Order {order.number} is {order.get_state_display().lower()}: only a shipped order is received."
        return JsonResponse({"error": {"code": "not_receivable", "message": message}}, status=409)
    try:
        line, units = _scan_line(order, list(order.lines.all()), _scanned_code(request))
    except ScanRefused as error:
        return JsonResponse({"error": {"code": error.code, "message": str(error)}}, status=400)
    return JsonResponse({"line": line.pk, "units": units, "product": str(line.shipped_product)})
