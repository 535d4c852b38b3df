"""Owner pages of the catalog: assortment and prices, CSV import and export, labels (stock and counts: stock.py).

Each page renders whole, or only its ``#partial`` when htmx asks for it (search results, one
edited row), from the same template.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from catalog import csv_io, labels, presentation, selectors
from catalog.forms import AMOUNT_MAX_LENGTH, BulkPriceForm, LocalProductForm, cost_parse
from catalog.models import Product, StoreProduct
from catalog.services import assortment
from catalog.services.prices import prices_bulk_change
from catalog.views.common import amount_input as _amount_input
from catalog.views.common import item_of as _item
from catalog.views.common import store_context as _store_context
from catalog.views.common import store_of as _store
from core import inputs
from core.http import MerchantRequest, error_message, is_partial, render_page
from core.money import AmountError, parse_amount
from merchants.access import merchant_view
from merchants.models import Store


def _row_context(item: StoreProduct) -> dict[str, object]:
    return {
        "item": item,
        "price": presentation.price_text(item),
        "price_input": _amount_input(item.price, item.store.currency),
        "unit_price": presentation.unit_price_text(item),
        "cost": presentation.cost_text(item),
        "cost_input": _amount_input(item.average_cost, item.store.currency),
        "margin": presentation.margin(item),
    }


CATALOG_PAGE_SIZE = 50
# Master products offered to add beside a search: the closest few, and the page says so.
CANDIDATES_SHOWN = 10


def _catalog_context(
    request: MerchantRequest,
    store: Store,
    *,
    query: str,
    page_number: str | None = None,
    local_form: LocalProductForm | None = None,
) -> dict[str, object]:
    found = selectors.assortment_list(store=store, query=query, include_inactive=True)
    page = Paginator(found, CATALOG_PAGE_SIZE).get_page(page_number)
    items = list(page.object_list)
    for item in items:
        item.store = store
    context: dict[str, object] = {
        **_store_context(request, store),
        "query": query,
        "page": page,
        "pager_query": urlencode({"store": store.pk, "q": query}),
        "rows": [_row_context(item) for item in items],
        "can_edit": request.membership.has_permission("manage_catalog"),
        "bulk_form": BulkPriceForm(merchant=request.merchant),
        "local_form": local_form or LocalProductForm(),
        "candidates_shown": CANDIDATES_SHOWN,
    }
    if query and request.membership.has_permission("manage_catalog"):
        offered = selectors.product_search(merchant=request.merchant, query=query, limit=CANDIDATES_SHOWN)
        sold = set(
            StoreProduct.objects.for_store(store)
            .filter(product_id__in=[p.pk for p in offered])
            .values_list("product_id", flat=True)
        )
        context["candidates"] = [p for p in offered if p.pk not in sold]
        context["candidates_full"] = len(offered) == CANDIDATES_SHOWN
    return context


@merchant_view()
def catalog(request: MerchantRequest) -> HttpResponse:
    """The store's assortment with search; master products to add when the owner searches for them."""
    store = _store(request)
    context = _catalog_context(request, store, query=request.GET.get("q", ""), page_number=request.GET.get("page"))
    return render_page(request, "dashboard/catalog.html", context, partial="results")


@require_POST
@merchant_view("manage_catalog")
def assortment_add(request: MerchantRequest) -> HttpResponse:
    store = _store(request)
    product = (
        Product.objects.for_merchant(request.merchant)
        .filter(pk=inputs.id_or_none(request.POST.get("product")) or 0)
        .first()
    )
    if product is None:
        raise Http404("No such product in your wholesaler's catalog.")
    try:
        assortment.assortment_add(merchant=request.merchant, store=store, product=product, changed_by=request.user)
    except ValidationError as error:
        messages.error(request, error_message(error))
    else:
        messages.success(request, f"{product.name} is now sold in {store.name}.")
    query = urlencode({"store": store.pk, "q": product.name})
    return redirect(f"{reverse('catalog:section_catalog', kwargs={'slug': request.merchant.slug})}?{query}")


@require_POST
@merchant_view("manage_catalog")
def local_product_add(request: MerchantRequest) -> HttpResponse:
    """Add a store's own product (price, and its cost if known); bad input answers the page and 400."""
    store = _store(request)
    form = LocalProductForm(request.POST)
    problem = ""
    if not form.is_valid():
        problem = "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
    else:
        try:
            price = parse_amount(form.cleaned_data["price"], store.currency)
        except AmountError as error:
            problem = f"price: {error}"
        else:
            try:
                assortment.local_product_create(
                    merchant=request.merchant,
                    store=store,
                    name=form.cleaned_data["name"],
                    brand=form.cleaned_data["brand"],
                    price=price,
                    tax_class=form.cleaned_data["tax_class"],
                    is_age_restricted=form.cleaned_data["is_age_restricted"],
                    barcodes=[c for c in form.cleaned_data["barcode"].split() if c],
                    cost=cost_parse(form.cleaned_data["cost"], store.currency),
                    changed_by=request.user,
                )
            except AmountError as error:
                problem = f"cost: {error}"
            except ValidationError as error:
                problem = error_message(error)
    if problem:
        # The page again with what was typed, so nothing has to be typed twice.
        messages.error(request, problem)
        context = _catalog_context(request, store, query="", local_form=form)
        return render(request, "dashboard/catalog.html", context, status=400)
    messages.success(request, f"{form.cleaned_data['name']} added to {store.name}.")
    return redirect(f"{reverse('catalog:section_catalog', kwargs={'slug': request.merchant.slug})}?store={store.pk}")


def _row_changes(request: MerchantRequest, item: StoreProduct) -> dict[str, Any]:
    """What the edit row asks to change, as the service takes it; ValidationError names a field it cannot read."""
    post = request.POST
    currency = item.store.currency
    changes: dict[str, Any] = {
        "shelf_location": post.get("shelf_location"),
        "is_active": post.get("is_active") == "on",
    }
    price_text = post.get("price", "").strip()
    try:
        if len(price_text) > AMOUNT_MAX_LENGTH:
            raise AmountError("That is too long to be a price.")
        changes["price"] = parse_amount(price_text, currency) if price_text else None
    except AmountError as error:
        raise ValidationError({"price": str(error)}) from error
    threshold_text = post.get("low_stock_threshold", "").strip()
    try:
        changes["low_stock_threshold"] = (
            inputs.whole_number(threshold_text, label="The threshold", high=csv_io.THRESHOLD_MAX)
            if threshold_text
            else None
        )
    except ValidationError as error:
        raise ValidationError({"low_stock_threshold": error.messages[0]}) from error
    # Only a local product's row has a cost field; a wholesaler's product is costed by its deliveries,
    # so a cost posted for one is refused by the service rather than ignored.
    if "cost" in post and (item.product_id is None or post["cost"].strip()):
        try:
            changes["cost"] = cost_parse(post["cost"], currency)
        except AmountError as error:
            raise ValidationError({"cost": str(error)}) from error
    return changes


@merchant_view()
def item_edit(request: MerchantRequest, item_id: int) -> HttpResponse:
    """One assortment row, edited inline: price, shelf, threshold, active. Answers the row partial."""
    item = _item(request, item_id)
    status = 200
    error = error_field = ""
    if request.method == "POST":
        if not request.membership.has_permission("manage_catalog"):
            raise PermissionDenied("Only owners and managers can change the assortment and prices.")
        try:
            item = assortment.assortment_update(
                merchant=request.merchant,
                store_product_id=item.pk,
                changed_by=request.user,
                **_row_changes(request, item),
            )
            item = _item(request, item.pk)
        except ValidationError as problem:
            error, status = error_message(problem), 400
            error_field = next(iter(problem.error_dict), "") if hasattr(problem, "error_dict") else ""
    context = {
        **_row_context(item),
        "can_edit": request.membership.has_permission("manage_catalog"),
        "row_error": error,
        "row_error_field": error_field,
    }
    if not is_partial(request):
        # Without htmx the row cannot be swapped: back to the catalog, with the message if any.
        if error:
            messages.error(request, f"{item.name}: {error}")
        return redirect(
            f"{reverse('catalog:section_catalog', kwargs={'slug': request.merchant.slug})}?store={item.store_id}"
        )
    if error:
        # Show what was typed next to the message, not the saved value.
        context["price_input"] = request.POST.get("price", "")
        context["cost_input"] = request.POST.get("cost", context["cost_input"])
    return render_page(request, "dashboard/catalog.html", context, partial="row", status=status)


@require_POST
@merchant_view("manage_catalog")
def prices_bulk(request: MerchantRequest) -> HttpResponse:
    store = _store(request)
    form = BulkPriceForm(request.POST, merchant=request.merchant)
    target = f"{reverse('catalog:section_catalog', kwargs={'slug': request.merchant.slug})}?store={store.pk}"
    if not form.is_valid():
        messages.error(request, "Give a percentage such as 5 or -10.")
        return redirect(target)
    category = form.cleaned_data["category"]
    try:
        changed = prices_bulk_change(
            merchant=request.merchant,
            store=store,
            percent=form.cleaned_data["percent"],
            category=category,
            changed_by=request.user,
        )
    except ValidationError as error:
        messages.error(request, error_message(error))
    else:
        messages.success(
            request, f"{changed} prices changed by {form.cleaned_data['percent']} %. Reprint their labels."
        )
    return redirect(target)


@merchant_view()
def assortment_export(request: MerchantRequest) -> StreamingHttpResponse:
    store = _store(request)
    response = StreamingHttpResponse(csv_io.assortment_rows(store=store), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="assortment-{store.code}.csv"'
    return response


@merchant_view("manage_catalog")
def assortment_import(request: MerchantRequest) -> HttpResponse:
    store = _store(request)
    report: csv_io.ImportReport | None = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "Choose a CSV file.")
        else:
            try:
                text = inputs.csv_upload(upload)
            except inputs.UploadError as error:
                report = csv_io.ImportReport()
                report.add(0, "file", str(error))
            else:
                report = csv_io.assortment_import(
                    merchant=request.merchant, store=store, lines=io.StringIO(text, newline=""), changed_by=request.user
                )
                if report.ok:
                    messages.success(request, f"Imported {report.applied} rows.")
    return render(
        request,
        "dashboard/catalog_import.html",
        {**_store_context(request, store), "report": report},
        status=400 if report is not None and not report.ok else 200,
    )


def _label_items(request: MerchantRequest, store: Store, items: list[StoreProduct]) -> list[labels.LabelItem]:
    base = request.build_absolute_uri("/").rstrip("/")
    result = []
    for item in items:
        item.store = store
        result.append(
            labels.LabelItem(
                name=item.name,
                brand=item.brand,
                unit_size=item.product.unit_size if item.product else "",
                price_text=presentation.price_text(item),
                unit_price_text=presentation.unit_price_text(item),
                url=f"{base}{reverse('catalog:product_lookup', kwargs={'store_code': store.code, 'code': item.lookup_code})}",
                code_text=item.lookup_code,
                is_age_restricted=item.is_age_restricted,
            )
        )
    return result


@merchant_view()
def labels_view(request: MerchantRequest) -> HttpResponse:
    """Shelf labels as a PDF: all active products, one category, or those whose price changed since a date."""
    store = _store(request)
    items = selectors.stock_list(store=store)
    if request.GET.get("ids"):
        wanted = [int(i) for i in request.GET["ids"].split(",") if i.isdigit()]
        items = items.filter(pk__in=wanted)
    if request.GET.get("changed_since"):
        since = parse_date(request.GET["changed_since"]) if len(request.GET["changed_since"]) == 10 else None
        if since is None:
            return HttpResponse("changed_since is a date like 2026-11-22.", status=400, content_type="text/plain")
        items = items.filter(price_changes__changed_at__date__gte=since).distinct()
    show_price = request.GET.get("price", "1") != "0"
    pdf = labels.labels_pdf(
        items=_label_items(request, store, list(items)), store_name=store.name, show_price=show_price
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="labels-{store.code}.pdf"'
    return response


@merchant_view()
def poster(request: MerchantRequest) -> HttpResponse:
    store = _store(request)
    url = request.build_absolute_uri(reverse("checkout:store_landing", kwargs={"store_code": store.code}))
    pdf = labels.poster_pdf(store_name=store.name, url=url, address=store.address)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="poster-{store.code}.pdf"'
    return response
