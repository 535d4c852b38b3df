"""The till's price list: what the counter page keeps in the browser to ring up sales while Lingshou cannot be reached.

Compact on purpose (a kiosk sells a few thousand products): rows are arrays, not objects.

- ``products``: ``[id, name, unit price, tax rate in basis points, age-restricted, deposit]`` of
  every product the store sells now (active); the deposit (Pfand) is per unit, 0 for none, and the
  counter books it as a line of its own after the product's, taxed at the product's rate;
- ``codes``: ``[code, product id, units]``: every code the online counter finds such a product
  by, in the form it compares (a GTIN as its 14 digits, a store-local product as ``L<id>``), with
  the units one scan of it adds (a six-pack's barcode: 6). Scale labels, whose price or weight is
  in the code, are not in it: they are read by
- ``scale``: ``[item key, product id, "price" or "weight"]``: the 7-digit key (GS1 prefix 02 or
  20-29 and item reference) a scale prints for a product, as ``catalog.gtin.parse_variable``
  reads a label, and whether its five value digits are the price or the grams (the product's
  unit price is then its price per kilogram).

``version`` is a digest of the rest: the page asks again with it (If-None-Match) and gets 304
while nothing changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from catalog import gtin, taxes
from catalog.models import Barcode, BarcodeKind, LocalBarcode, StoreProduct
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

# The locale amounts are shown in, as the server's core.money formats them (German shops first).
LOCALE = "de-DE"


@dataclass(frozen=True)
class PriceList:
    """The price list as JSON text and its version (a quoted ETag)."""

    body: str
    version: str


def _is_scale_key(code: str) -> bool:
    return len(code) == 7 and code.isdigit() and code[:2] in gtin.VARIABLE_PREFIXES


def _scale_keys(
    *, merchant: Merchant, store: Store, master: dict[int, int], by_id: dict[int, StoreProduct]
) -> dict[str, int]:
    """Each scale label key the store sells by, and its product: the store's own key first, as the lookup prefers."""
    keys: dict[str, int] = {}
    for code, product_id in Barcode.objects.filter(
        wholesaler_id=merchant.wholesaler_id, product_id__in=list(master), kind=BarcodeKind.VARIABLE
    ).values_list("code", "product_id"):
        if _is_scale_key(code):
            keys[code] = master[product_id]
    for code, item_id in LocalBarcode.objects.for_store(store).values_list("code", "store_product_id"):
        if not _is_scale_key(code):
            continue
        if item_id in by_id:
            keys[code] = item_id
        else:
            keys.pop(code, None)  # the store's key names a product it no longer sells
    return keys


def counter_price_list(*, merchant: Merchant, store: Store) -> PriceList:
    """The store's active products and every code that finds them, for pricing sales offline; scoped, five queries."""
    with merchant_context(merchant.pk):
        items = list(StoreProduct.objects.for_store(store).active().select_related("product").order_by("pk"))
        by_id = {item.pk: item for item in items}
        codes: dict[str, tuple[int, int]] = {}
        # Lowest precedence first, so that what the online lookup prefers overwrites: the product's
        # other barcodes, then its GTIN, then the store's own barcodes.
        master = {item.product_id: item.pk for item in items if item.product_id}
        for code, product_id, quantity in (
            Barcode.objects.filter(wholesaler_id=merchant.wholesaler_id, product_id__in=list(master))
            .exclude(kind=BarcodeKind.VARIABLE)
            .values_list("code", "product_id", "quantity")
            .order_by("pk")
        ):
            codes[code] = (master[product_id], quantity)
        for item in items:
            codes[item.lookup_code] = (item.pk, 1)
        for code, item_id, quantity in (
            LocalBarcode.objects.for_store(store).values_list("code", "store_product_id", "quantity").order_by("pk")
        ):
            if item_id in by_id:
                codes[code] = (item_id, quantity)
            else:
                codes.pop(code, None)  # the store's code names a product it no longer sells: not this one either
        scale = _scale_keys(merchant=merchant, store=store, master=master, by_id=by_id)
    content: dict[str, Any] = {
        "store": store.pk,
        "currency": store.currency,
        "locale": LOCALE,
        "prices_include_tax": store.prices_include_tax,
        "products": [
            [
                item.pk,
                item.name,
                item.price,
                taxes.rate(country=store.country, tax_class=item.tax_class),
                item.is_age_restricted,
                item.deposit,
            ]
            for item in items
        ],
        "codes": sorted([code, item_id, units] for code, (item_id, units) in codes.items()),
        "scale": sorted([key, item_id, gtin.VARIABLE_KINDS[key[:2]]] for key, item_id in scale.items()),
    }
    digest = hashlib.sha256(json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    version = f'"{digest[:32]}"'
    body = json.dumps({"version": version, **content}, separators=(",", ":"), ensure_ascii=False)
    return PriceList(body=body, version=version)
