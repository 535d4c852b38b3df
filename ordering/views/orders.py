"""Owner pages of restocking under /m/<slug>/restock/: suggested order, settings, orders, claims.

Each page renders whole, or only its partial when htmx asks (an edited line). Every id in a URL is
looked up within the request's merchant: another merchant's order is 404, like one that does not
exist. Receiving a delivery is in ``receiving``.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog.selectors import LookupError_, store_product_by_code
from core.http import MerchantRequest, error_message, is_partial
from merchants import zones
from merchants.access import merchant_view
from merchants.models import Store
from merchants.selectors import store_list, store_pick
from ordering import selectors
from ordering.forms import LineAddForm, QuantityForm, StepForm, SupplyPreferencesForm
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
from ordering.services.supply import supply_preferences_set

EDIT_PERMISSION = "manage_stock"
PAGE_SIZE = 50
# Auto-submit spends the shop's money without a look, and service levels set how much it keeps on
# the shelf: the owner's call, like the shop's other settings.
SETTINGS_PERMISSION = "manage_settings"


def order_url(request: MerchantRequest, order: PurchaseOrder | int) -> str:
    order_id = order if isinstance(order, int) else order.pk
    return reverse("ordering:restock_order", kwargs={"slug": request.merchant.slug, "order_id": order_id})


def order_context(request: MerchantRequest, order: PurchaseOrder) -> dict[str, object]:
    request.dashboard_section = "restock"
    zones.activate_store(order.store)
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
    # One draft a store at most (per delivery): the list is as long as the merchant has stores.
    drafts = list(selectors.draft_list(merchant=request.merchant))
    wanted = request.GET.get("store") or (str(drafts[0].store_id) if drafts else None)
    store = store_pick(merchant=request.merchant, wanted=wanted)
    zones.activate_store(store)
    supply = selectors.supply_get(merchant=request.merchant, store=store)
    delivery = selectors.delivery_next(supply=supply, now=timezone.now()) if supply else None
    orders = Paginator(selectors.purchase_order_list(merchant=request.merchant, store=store), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
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
            "pager_query": urlencode({"store": store.pk}),
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
    return redirect(order_url(request, outcome.order))


@merchant_view()
def restock_order(request: MerchantRequest, order_id: int) -> HttpResponse:
    """One order: lines with their explanations, edits while allowed, submit, history, claim."""
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    return render(
        request,
        "dashboard/ordering/order.html",
        {**order_context(request, order), "add_form": LineAddForm()},
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
        return redirect(order_url(request, order_id))
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    context = order_context(request, order)
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
        return redirect(order_url(request, order))
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
    return redirect(order_url(request, order))


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
    return redirect(order_url(request, order))


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
    return redirect(order_url(request, order))


@merchant_view()
def restock_claims(request: MerchantRequest) -> HttpResponse:
    """Receiving claims: what the wholesaler was told was missing, extra or damaged."""
    request.dashboard_section = "restock"
    claims = Paginator(selectors.claim_list(merchant=request.merchant), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dashboard/ordering/claims.html", {"claims": claims})
