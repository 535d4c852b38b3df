"""Shopper pages of the catalog: price lookup by barcode or label QR, search by name, and photo decoding."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog import presentation, scanning
from catalog.selectors import LookupError_, assortment_search, looks_like_code, store_product_by_code
from catalog.services.signals import product_lookup_record
from core.csp import scanner_csp
from core.money import format_amount
from merchants.access import shopper_view
from merchants.models import Store
from merchants.tenancy import merchant_context

# Larger uploads are refused before decoding (phones send 2-6 MB JPEGs).
PHOTO_MAX_BYTES = 10 * 1024 * 1024
# A name is a few words; longer text is a paste gone wrong, refused before it reaches the trigram index.
SEARCH_MAX_LENGTH = 100
# What fits on a phone's screen or two; the shopper types more of the name for fewer.
SEARCH_LIMIT = 20


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def search_url(store: Store, query: str) -> str:
    """The store's search page for ``query``."""
    return f"{reverse('catalog:product_search', kwargs={'store_code': store.code})}?{urlencode({'q': query})}"


@shopper_view
def product_lookup(request: HttpRequest, store: Store, code: str) -> HttpResponse:
    """Price and details of a product by any of its barcodes or its label QR; every lookup is recorded.

    A name typed where a code belongs is searched for instead (not a lookup, so not recorded as one).
    """
    if not looks_like_code(code) and not _wants_json(request):
        return redirect(search_url(store, code))
    with merchant_context(store.merchant_id):
        try:
            result = store_product_by_code(store=store, code=code)
        except LookupError_ as error:
            product_lookup_record(store=store, code=code, store_product=None)
            if _wants_json(request):
                return JsonResponse({"error": {"code": "unknown_product", "message": str(error)}}, status=404)
            return render(
                request,
                "shopper/product_unknown.html",
                {"store": store, "code": code, "message": str(error)},
                status=404,
            )
        item = result.store_product
        product_lookup_record(store=store, code=code, store_product=item)
        item.store = store  # the store is already loaded; its currency formats the price
        label = result.label_price is not None
        context = {
            "store": store,
            "item": item,
            # A scale label's item costs what its label says; a product sold by weight is priced per kilogram.
            "price": format_amount(result.label_price, store.currency)
            if result.label_price is not None
            else presentation.price_text(item) + ("/kg" if item.is_sold_by_weight else ""),
            "unit_price": "" if label or item.is_sold_by_weight else presentation.unit_price_text(item),
            "label_code": code.strip() if label else "",
            "weight_grams": result.variable.value if result.variable and result.variable.kind == "weight" else None,
            # Sold by weight, without a label: weigh it first, the label then goes in the cart.
            "needs_label": item.is_sold_by_weight and not label,
            "deposit": format_amount(item.deposit * result.quantity, store.currency) if item.deposit else "",
            "age_note": presentation.age_note(item),
            "in_stock": item.on_hand > 0 and item.is_active,
            "quantity": result.quantity,
            # A multipack or case code: the price of the whole pack.
            "pack_price": format_amount(item.price * result.quantity, store.currency) if result.quantity > 1 else "",
        }
        if _wants_json(request):
            return JsonResponse(
                {
                    "name": item.name,
                    "brand": item.brand,
                    "price": item.price if result.label_price is None else result.label_price,
                    "currency": store.currency,
                    "price_text": context["price"],
                    "unit_price_text": context["unit_price"],
                    "age_note": context["age_note"],
                    "in_stock": context["in_stock"],
                }
            )
        return render(request, "shopper/product.html", context)


@shopper_view
def product_search(request: HttpRequest, store: Store) -> HttpResponse:
    """This store's active products by name or brand, typo tolerant, best first; each opens its product card."""
    query = request.GET.get("q", "").strip()
    results: list[dict[str, object]] = []
    error = ""
    if len(query) > SEARCH_MAX_LENGTH:
        error = f"Type at most {SEARCH_MAX_LENGTH} characters: a few letters of the name are enough."
    elif query:
        with merchant_context(store.merchant_id):
            items = assortment_search(store=store, query=query, limit=SEARCH_LIMIT)
        for item in items:
            item.store = store  # the store is already loaded; its currency formats the price
            results.append(
                {
                    "item": item,
                    "price": presentation.price_text(item),
                    "unit_price": presentation.unit_price_text(item),
                    "in_stock": item.on_hand > 0,
                }
            )
    context = {
        "store": store,
        "query": query,
        "results": results,
        "error": error,
        "is_capped": len(results) == SEARCH_LIMIT,
    }
    return render(request, "shopper/search.html", context, status=400 if error else 200)


@require_POST
@scanner_csp
@shopper_view
def photo_scan(request: HttpRequest, store: Store) -> HttpResponse:
    """Decode a barcode from an uploaded photo (for browsers without a camera scanner)."""
    upload = request.FILES.get("photo")
    message = ""
    if upload is None:
        message = "Choose a photo of the barcode first."
    elif upload.size and upload.size > PHOTO_MAX_BYTES:
        message = "That photo is too large. Take it again closer to the barcode."
    else:
        try:
            codes = scanning.barcodes_decode(data=upload.read(), max_bytes=PHOTO_MAX_BYTES)
        except scanning.ImageError as error:
            message = str(error)
        else:
            if codes:
                # A label QR already holds the URL of this page; a barcode is a code for it.
                code = codes[0].rstrip("/").rsplit("/p/", 1)[-1] if "/p/" in codes[0] else codes[0]
                return redirect(reverse("catalog:product_lookup", kwargs={"store_code": store.code, "code": code}))
            message = "No barcode found in that photo. Hold the phone steady, close to the code, in good light."
    if _wants_json(request):
        return JsonResponse({"error": {"code": "no_barcode", "message": message}}, status=400)
    return render(request, "shopper/store_scan.html", {"store": store, "message": message}, status=400)
