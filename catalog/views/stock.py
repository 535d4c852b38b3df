"""Owner pages of stock: the stock list, one product's movements with its adjustment and counter settings
(PLU, deposit), and shelf counts.

Each page renders whole, or only its ``#partial`` when htmx asks for it, from the same template.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog import presentation, selectors
from catalog.forms import AMOUNT_MAX_LENGTH, AdjustmentForm, CountLineForm
from catalog.models import CountSession, StoreProduct
from catalog.services import assortment
from catalog.services.counts import count_line_set, count_session_close, count_session_start
from catalog.services.stock import stock_adjust
from catalog.views.common import amount_input as _amount_input
from catalog.views.common import item_of as _item
from catalog.views.common import store_context as _store_context
from catalog.views.common import store_of as _store
from core.http import MerchantRequest, error_message, render_page
from core.money import AmountError, format_amount, parse_amount
from merchants import zones
from merchants.access import merchant_view


@merchant_view()
def stock(request: MerchantRequest) -> HttpResponse:
    store = _store(request)
    status = request.GET.get("status", "")
    query = request.GET.get("q", "")
    page = Paginator(selectors.stock_list(store=store, status=status, query=query), 100).get_page(
        request.GET.get("page")
    )
    pager_query = urlencode({"store": store.pk, "status": status, "q": query})
    context = {
        **_store_context(request, store),
        "page": page,
        "status": status,
        "query": query,
        "pager_query": pager_query,
    }
    return render_page(request, "dashboard/stock.html", context, partial="results")


@merchant_view()
def item_stock(request: MerchantRequest, item_id: int) -> HttpResponse:
    """One product's stock: movement history and an adjustment form."""
    item = _item(request, item_id)
    zones.activate_store(item.store)
    form = AdjustmentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not request.membership.has_permission("manage_stock"):
            raise PermissionDenied("Only owners and managers can change stock.")
        if form.is_valid():
            try:
                stock_adjust(
                    merchant=request.merchant,
                    store_product_id=item.pk,
                    quantity=form.cleaned_data["quantity"],
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    created_by=request.user,
                )
            except ValidationError as error:
                messages.error(request, error_message(error))
                status = 400
            else:
                messages.success(request, "Stock adjusted.")
                return redirect("catalog:item_stock", slug=request.merchant.slug, item_id=item.pk)
        else:
            status = 400
    return _item_page(request, item, form=form, status=status)


def _item_page(
    request: MerchantRequest,
    item: StoreProduct,
    *,
    form: AdjustmentForm,
    status: int = 200,
    till: dict[str, str] | None = None,
) -> HttpResponse:
    movements = Paginator(selectors.movement_list(merchant=request.merchant, store_product=item), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "dashboard/item_stock.html",
        {
            "item": item,
            "movements": movements,
            "form": form,
            "price": format_amount(item.price, item.store.currency),
            "deposit": format_amount(item.deposit, item.store.currency) if item.deposit else "",
            "till": till or {"plu": item.plu, "deposit": _amount_input(item.deposit or None, item.store.currency)},
            "cost": presentation.cost_text(item),
            "margin": presentation.margin(item),
            # Like the analytics, costs are for those who manage the catalog, not for clerks.
            "can_see_cost": request.membership.has_permission("manage_catalog"),
            "can_adjust": request.membership.has_permission("manage_stock"),
            "can_edit": request.membership.has_permission("manage_catalog"),
        },
        status=status,
    )


@require_POST
@merchant_view("manage_catalog")
def item_till(request: MerchantRequest, item_id: int) -> HttpResponse:
    """Set a product's PLU (to type it at the counter) and its deposit per unit."""
    item = _item(request, item_id)
    typed = {key: request.POST.get(key, "").strip()[:AMOUNT_MAX_LENGTH] for key in ("plu", "deposit")}
    try:
        try:
            deposit = (
                parse_amount(typed["deposit"], item.store.currency, allow_negative=True) if typed["deposit"] else 0
            )
        except AmountError as error:
            raise ValidationError({"deposit": str(error)}) from error
        assortment.assortment_till_set(
            merchant=request.merchant, store_product_id=item.pk, plu=typed["plu"], deposit=deposit
        )
    except ValidationError as error:
        messages.error(request, error_message(error))
        return _item_page(request, item, form=AdjustmentForm(), status=400, till=typed)
    messages.success(request, f"{item.name}: saved for the counter.")
    return redirect("catalog:item_stock", slug=request.merchant.slug, item_id=item.pk)


@merchant_view()
def counts(request: MerchantRequest) -> HttpResponse:
    store = _store(request)
    if request.method == "POST":
        if not request.membership.has_permission("sell"):
            raise PermissionDenied("Your role cannot count stock.")
        session = count_session_start(
            merchant=request.merchant, store=store, started_by=request.user, note=request.POST.get("note", "")
        )
        return redirect("catalog:count_detail", slug=request.merchant.slug, session_id=session.pk)
    sessions = Paginator(CountSession.objects.for_store(store).order_by("-started_at", "-pk"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "dashboard/counts.html",
        {**_store_context(request, store), "sessions": sessions, "pager_query": urlencode({"store": store.pk})},
    )


@merchant_view()
def count_detail(request: MerchantRequest, session_id: int) -> HttpResponse:
    """Scan a product, type what is on the shelf; close the count to book the differences."""
    session = CountSession.objects.for_merchant(request.merchant).filter(pk=session_id).select_related("store").first()
    if session is None:
        raise Http404("No such count.")
    zones.activate_store(session.store)
    form = CountLineForm(request.POST or None)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "close":
                if not request.membership.has_permission("manage_stock"):
                    raise PermissionDenied("Only owners and managers can book a count.")
                moved = count_session_close(merchant=request.merchant, session_id=session.pk, closed_by=request.user)
                messages.success(request, f"Count closed: {len(moved)} differences booked.")
                return redirect("catalog:count_detail", slug=request.merchant.slug, session_id=session.pk)
            if form.is_valid():
                result = selectors.store_product_by_code(store=session.store, code=form.cleaned_data["code"])
                count_line_set(
                    merchant=request.merchant,
                    session_id=session.pk,
                    store_product_id=result.store_product.pk,
                    counted=form.cleaned_data["counted"],
                )
                messages.success(request, f"{result.store_product.name}: {form.cleaned_data['counted']} counted.")
                return redirect("catalog:count_detail", slug=request.merchant.slug, session_id=session.pk)
            status = 400
        except (ValidationError, selectors.LookupError_) as error:
            messages.error(request, error_message(error) if isinstance(error, ValidationError) else str(error))
            status = 400
    lines = session.lines.select_related("store_product__product").order_by("-updated_at")
    return render(
        request,
        "dashboard/count_detail.html",
        {
            "session": session,
            "lines": lines,
            "form": form,
            "can_close": request.membership.has_permission("manage_stock"),
        },
        status=status,
    )
