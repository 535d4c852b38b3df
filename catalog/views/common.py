"""What the catalog's owner pages share: the store and product a request is about, and amounts in form fields."""

from __future__ import annotations

from django.http import Http404

from catalog import selectors
from catalog.models import StoreProduct
from core.http import MerchantRequest
from core.money import to_decimal
from merchants.models import Store
from merchants.selectors import store_list, store_pick


def store_of(request: MerchantRequest) -> Store:
    """The store of ?store= (or the form's store), else the merchant's first; 404 for another merchant's."""
    return store_pick(merchant=request.merchant, wanted=request.GET.get("store") or request.POST.get("store"))


def item_of(request: MerchantRequest, item_id: int) -> StoreProduct:
    """One of the merchant's store products, or 404 (also for another merchant's id)."""
    item = selectors.store_product_get(merchant=request.merchant, store_product_id=item_id)
    if item is None:
        raise Http404("No such product in this shop.")
    return item


def store_context(request: MerchantRequest, store: Store) -> dict[str, object]:
    return {"store": store, "stores": list(store_list(merchant=request.merchant))}


def amount_input(amount: int | None, currency: str) -> str:
    """An amount as a form field shows it ('2.49'); '' for none."""
    return "" if amount is None else f"{to_decimal(amount, currency):f}"
