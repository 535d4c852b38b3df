"""Owner pages of restocking under /m/<slug>/restock/: suggested order, orders, receiving, claims.

Each page renders whole, or only its partial when htmx asks (an edited line, the receiving form
after a scan). Every id in a URL is looked up within the request's merchant: another merchant's
order is 404, like one that does not exist.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog.selectors import LookupError_, store_product_by_code
from core.http import MerchantRequest, error_message, is_partial, render_page
from merchants.access import merchant_view
from merchants.models import Store
from merchants.selectors import store_list, store_pick
from ordering import selectors
from ordering.forms import LineAddForm, QuantityForm, ScanForm, StepForm, SupplyPreferencesForm
from ordering.models import OrderState, PurchaseOrder, PurchaseOrderLine, StoreSupply
from ordering.services.base import CANCELLABLE_BY_SHOP, EDITABLE, RECEIVABLE
from ordering.services.drafting import purchase_order_draft
from ordering.services.editing import (
    order_value,
    purchase_order_line_add,
    purchase_order_line_set,
    purchase_order_line_step,
    purchase_order_submit,
)
from ordering.services.fulfilment import purchase_order_cancel
from ordering.services.receiving import Count, purchase_order_receive
from ordering.services.supply import supply_preferences_set

EDIT_PERMISSION = "manage_stock"
# Auto-submit spends the shop's money without a look, and service levels set how much it keeps on
# the shelf: the owner's call, like the shop's other settings.
SETTINGS_PERMISSION = "manage_settings"


def _order_url(request: MerchantRequest, order: PurchaseOrder | int) -> str:
    order_id = order if isinstance(order, int) else order.pk
    return reverse("ordering:restock_order", kwargs={"slug": request.merchant.slug, "order_id": order_id})


def _order_context(request: MerchantRequest, order: PurchaseOrder) -> dict[str, object]:
    request.dashboard_section = "restock"
    lines = list(order.lines.all())
    value = order_value(order)
    supply = selectors.supply_get(merchant=request.merchant, store=order.store)
    can_edit = request.membership.has_permission(EDIT_PERMISSION)
    deadline = selectors.order_deadline(supply=supply, delivery_date=order.delivery_date) if supply else None
    return {
        "order": order,
        "lines": lines,
        "value": value,
        "cases": sum(line.quantity // max(line.case_pack, 1) for line in lines),
        # What the summary says of the wholesaler's terms: the shortfall, else the way to free delivery.
        "short_of_minimum": max(supply.minimum_order_value - value, 0) if supply else 0,
        "to_free_delivery": max(supply.free_delivery_threshold - value, 0) if supply else 0,
        "supply": supply,
        "deadline": deadline,
        "is_late": deadline is not None and timezone.now() >= deadline,
        "can_edit": can_edit and order.state in EDITABLE,
        "can_submit": can_edit and order.state == OrderState.DRAFT,
        "can_cancel": can_edit and order.state in CANCELLABLE_BY_SHOP,
        "can_receive": can_edit and order.state in RECEIVABLE,
        "claim": getattr(order, "claim", None),
        "backorders": list(order.backorders.order_by("pk")),
    }


@merchant_view()
def restock(request: MerchantRequest) -> HttpResponse:
    """The store's supply, its current suggested order and every order with its state; without a
    store asked for, the one whose suggested order is due first, and the others' drafts beside it."""
    drafts = list(selectors.draft_list(merchant=request.merchant)[:50])
    wanted = request.GET.get("store") or (str(drafts[0].store_id) if drafts else None)
    store = store_pick(merchant=request.merchant, wanted=wanted)
    supply = selectors.supply_get(merchant=request.merchant, store=store)
    delivery = selectors.delivery_next(supply=supply, now=timezone.now()) if supply else None
    orders = list(selectors.purchase_order_list(merchant=request.merchant, store=store)[:100])
    return render(
        request,
        "dashboard/ordering/restock.html",
        {
            "store": store,
            "stores": list(store_list(merchant=request.merchant)),
            "supply": supply,
            "delivery": delivery,
            "draft": selectors.draft_current(merchant=request.merchant, store=store),
            "other_drafts": [draft for draft in drafts if draft.store_id != store.pk],
            "orders": orders,
            "can_edit": request.membership.has_permission(EDIT_PERMISSION),
            "service_level": _percent(supply.default_service_level) if supply else None,
        },
    )


def _percent(level: float) -> Decimal:
    return Decimal(str(round(level * 100, 1))).normalize()


def _settings_render(
    request: MerchantRequest,
    store: Store,
    supply: StoreSupply | None,
    form: SupplyPreferencesForm | None,
    *,
    status: int = 200,
) -> HttpResponse:
    request.dashboard_section = "restock"
    return render(
        request,
        "dashboard/ordering/settings.html",
        {
            "store": store,
            "stores": list(store_list(merchant=request.merchant)),
            "supply": supply,
            "form": form,
            "level_fields": [form[form.level_name(path)] for path, _ in form.rows] if form else [],
            "can_change": request.membership.has_permission(SETTINGS_PERMISSION),
        },
        status=status,
    )


def _settings_rows(supply: StoreSupply | None) -> list[tuple[str, str]]:
    return [(row.path, row.label) for row in selectors.service_level_rows(supply=supply)] if supply else []


@merchant_view()
def restock_settings(request: MerchantRequest) -> HttpResponse:
    """A store's restock choices: auto-submit, and the service level per category (the owner changes them)."""
    store = store_pick(merchant=request.merchant, wanted=request.GET.get("store"))
    supply = selectors.supply_get(merchant=request.merchant, store=store)
    form = None
    if supply is not None:
        initial: dict[str, object] = {
            "auto_submit": supply.is_auto_submit,
            "default_level": _percent(supply.default_service_level),
        }
        initial |= {
            SupplyPreferencesForm.level_name(path): _percent(level) for path, level in supply.service_levels.items()
        }
        form = SupplyPreferencesForm(rows=_settings_rows(supply), initial=initial)
    return _settings_render(request, store, supply, form)


@require_POST
@merchant_view(SETTINGS_PERMISSION)
def restock_settings_save(request: MerchantRequest) -> HttpResponse:
    """Save the form whole, or show it again with what is wrong and change nothing."""
    store = store_pick(merchant=request.merchant, wanted=request.POST.get("store"))
    supply = selectors.supply_get(merchant=request.merchant, store=store)
    form = SupplyPreferencesForm(request.POST, rows=_settings_rows(supply))
    if supply is None:
        messages.error(request, f"{store.name} has no supplying depot yet: your wholesaler sets it up first.")
        return _settings_render(request, store, None, None, status=400)
    if not form.is_valid():
        return _settings_render(request, store, supply, form, status=400)
    try:
        supply_preferences_set(
            merchant=request.merchant,
            store=store,
            by=request.user,
            is_auto_submit=form.cleaned_data["auto_submit"],
            default_service_level=form.default_service_level(),
            service_levels=form.service_levels(),
        )
    except ValidationError as error:
        form.add_error(None, error_message(error))
        return _settings_render(request, store, supply, form, status=400)
    messages.success(request, f"Saved how Lingshou restocks {store.name}.")
    return redirect(f"{reverse('ordering:restock_settings', kwargs={'slug': request.merchant.slug})}?store={store.pk}")


@require_POST
@merchant_view(EDIT_PERMISSION)
def restock_draft(request: MerchantRequest) -> HttpResponse:
    """The button: draft the suggested order now (the nightly job does the same)."""
    store = store_pick(merchant=request.merchant, wanted=request.POST.get("store"))
    try:
        outcome = purchase_order_draft(store=store, created_by=request.user)
    except ValidationError as error:
        messages.error(request, error_message(error))
        return redirect(
            f"{reverse('ordering:section_restock', kwargs={'slug': request.merchant.slug})}?store={store.pk}"
        )
    (messages.success if outcome.is_new else messages.info)(request, outcome.message)
    for note in outcome.notes:
        messages.info(request, note)
    assert outcome.order is not None
    return redirect(_order_url(request, outcome.order))


@merchant_view()
def restock_order(request: MerchantRequest, order_id: int) -> HttpResponse:
    """One order: lines with their explanations, edits while allowed, submit, history, claim."""
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    return render(
        request,
        "dashboard/ordering/order.html",
        {**_order_context(request, order), "add_form": LineAddForm()},
    )


def _line_get(request: MerchantRequest, order_id: int, line_id: int) -> PurchaseOrderLine:
    line = (
        PurchaseOrderLine.objects.for_merchant(request.merchant)
        .select_related("order", "product", "store_product")
        .filter(order_id=order_id, pk=line_id)
        .first()
    )
    if line is None:
        raise Http404("No such line.")
    return line


@require_POST
@merchant_view(EDIT_PERMISSION)
def restock_line(request: MerchantRequest, order_id: int, line_id: int) -> HttpResponse:
    """Change one line: a typed quantity, a case more or less (``step``), or ``remove``. Answers htmx
    with the line's row and the order's summary (value, minimum, free delivery) out of band."""
    line = _line_get(request, order_id, line_id)
    error = ""
    removed = False
    try:
        if request.POST.get("remove"):
            saved = purchase_order_line_set(
                merchant=request.merchant, order_id=order_id, line_id=line.pk, quantity=0, by=request.user
            )
        elif "step" in request.POST:
            step = StepForm(request.POST)
            if not step.is_valid():
                raise ValidationError(step.errors["step"][0])
            saved = purchase_order_line_step(
                merchant=request.merchant,
                order_id=order_id,
                line_id=line.pk,
                cases=step.cleaned_data["step"],
                by=request.user,
            )
        else:
            form = QuantityForm(request.POST)
            if not form.is_valid():
                raise ValidationError("; ".join(str(m) for m in form.errors.get("quantity", ["Give a quantity."])))
            saved = purchase_order_line_set(
                merchant=request.merchant,
                order_id=order_id,
                line_id=line.pk,
                quantity=form.cleaned_data["quantity"],
                by=request.user,
            )
    except ValidationError as problem:
        error = error_message(problem)
    else:
        removed = saved is None
        if saved is not None:
            line = saved
    if not is_partial(request):
        if error:
            messages.error(request, f"{line.product}: {error}")
        elif removed:
            messages.success(request, f"{line.product} removed from the order.")
        else:
            messages.success(request, f"{line.product}: {line.quantity} units.")
        return redirect(_order_url(request, order_id))
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    context = _order_context(request, order)
    summary = render_to_string("dashboard/ordering/order.html#summary", {**context, "oob": True}, request=request)
    if removed:
        return HttpResponse(summary)
    context |= {
        "line": next((candidate for candidate in context["lines"] if candidate.pk == line.pk), line),  # type: ignore[attr-defined]
        "row_error": error,
        "typed": request.POST.get("quantity", ""),
    }
    row = render_to_string("dashboard/ordering/order.html#line", context, request=request)
    return HttpResponse(row + summary, status=400 if error else 200)


@require_POST
@merchant_view(EDIT_PERMISSION)
def restock_line_add(request: MerchantRequest, order_id: int) -> HttpResponse:
    """Add a product by its barcode (units in whole cases)."""
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    form = LineAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect(_order_url(request, order))
    try:
        found = store_product_by_code(store=order.store, code=form.cleaned_data["code"])
        line = purchase_order_line_add(
            merchant=request.merchant,
            order_id=order.pk,
            store_product_id=found.store_product.pk,
            quantity=form.cleaned_data["quantity"],
            by=request.user,
        )
    except LookupError_ as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(request, error_message(error))
    else:
        messages.success(request, f"{line.product}: {line.quantity} units on the order.")
    return redirect(_order_url(request, order))


@require_POST
@merchant_view(EDIT_PERMISSION)
def restock_submit(request: MerchantRequest, order_id: int) -> HttpResponse:
    """Send the draft to the wholesaler; after the cut-off it moves to the next delivery and says so."""
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    try:
        _, message = purchase_order_submit(merchant=request.merchant, order_id=order.pk, by=request.user)
    except ValidationError as error:
        messages.error(request, error_message(error))
    else:
        (messages.warning if "moved" in message else messages.success)(request, message)
    return redirect(_order_url(request, order))


@require_POST
@merchant_view(EDIT_PERMISSION)
def restock_cancel(request: MerchantRequest, order_id: int) -> HttpResponse:
    """Cancel a draft or submitted order; a confirmed one only the wholesaler may cancel."""
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    try:
        purchase_order_cancel(
            merchant=request.merchant, order_id=order.pk, by=request.user, note="Cancelled by the shop"
        )
    except ValidationError as error:
        messages.error(request, error_message(error))
    else:
        messages.success(request, f"Order {order.number} cancelled.")
    return redirect(_order_url(request, order))


def _counts_from(
    request: MerchantRequest, lines: list[PurchaseOrderLine]
) -> tuple[dict[int, dict[str, str]], list[str]]:
    """What the receiving form holds per line, as typed; and which lines are neither ticked nor counted."""
    values: dict[int, dict[str, str]] = {}
    open_lines = []
    for line in lines:
        received = request.POST.get(f"received-{line.pk}", "").strip()
        damaged = request.POST.get(f"damaged-{line.pk}", "").strip()
        ticked = request.POST.get(f"ok-{line.pk}") == "on"
        values[line.pk] = {"received": received, "damaged": damaged, "ok": "on" if ticked else ""}
        if not received and not ticked:
            open_lines.append(str(line.shipped_product))
    return values, open_lines


@merchant_view()
def restock_receive(request: MerchantRequest, order_id: int) -> HttpResponse:
    """Count a delivery in: scan barcodes or tick lines, type counted and damaged; book it."""
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    lines = list(order.lines.all())
    values: dict[int, dict[str, str]] = {line.pk: {"received": "", "damaged": "", "ok": ""} for line in lines}
    status = 200
    scan_message = ""
    if request.method == "POST":
        if not request.membership.has_permission(EDIT_PERMISSION):
            raise PermissionDenied("Only owners and managers can receive deliveries.")
        values, open_lines = _counts_from(request, lines)
        if request.POST.get("action") == "scan":
            scan_message, status = _scan(request, order, lines, values)
        else:
            try:
                counts = _parse_counts(lines, values, open_lines)
                purchase_order_receive(
                    merchant=request.merchant,
                    order_id=order.pk,
                    counts=counts,
                    by=request.user,
                    note=request.POST.get("note", "").strip(),
                )
            except ValidationError as error:
                messages.error(request, error_message(error))
                status = 400
            else:
                received = selectors.purchase_order_get(merchant=request.merchant, order_id=order.pk)
                if hasattr(received, "claim"):
                    messages.warning(
                        request, f"Order {order.number} received; the differences went to the wholesaler as a claim."
                    )
                else:
                    messages.success(request, f"Order {order.number} received: everything is in stock.")
                return redirect(_order_url(request, order))
    context = {
        **_order_context(request, order),
        "rows": [(line, values[line.pk]) for line in lines],
        "scan_form": ScanForm(),
        "scan_message": scan_message,
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


def _parse_counts(
    lines: list[PurchaseOrderLine], values: dict[int, dict[str, str]], open_lines: list[str]
) -> dict[int, Count]:
    if open_lines:
        raise ValidationError(
            f"Tick or count every line before booking: not yet {', '.join(open_lines)}.", code="incomplete"
        )
    counts = {}
    for line in lines:
        received_text, damaged_text = values[line.pk]["received"], values[line.pk]["damaged"]
        try:
            received = int(received_text) if received_text else (line.shipped_quantity or 0)
            damaged = int(damaged_text) if damaged_text else 0
        except ValueError as error:
            raise ValidationError(f"{line.shipped_product}: counts are whole numbers of units.") from error
        counts[line.pk] = Count(received=received, damaged=damaged)
    return counts


@merchant_view()
def restock_claims(request: MerchantRequest) -> HttpResponse:
    """Receiving claims: what the wholesaler was told was missing, extra or damaged."""
    request.dashboard_section = "restock"
    return render(
        request,
        "dashboard/ordering/claims.html",
        {"claims": list(selectors.claim_list(merchant=request.merchant)[:200])},
    )
