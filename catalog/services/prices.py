"""Writes of store prices: one price, or many by a percentage; every change is kept (who, when, old, new)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from catalog.models import (
    Category,
    PriceChange,
    StoreProduct,
)
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# The price column is a PostgreSQL integer (minor units).
PRICE_MAX = 2_147_483_647


def price_validate(price: int) -> None:
    """Refuse a price that is not a whole, non-negative number of minor units."""
    if not isinstance(price, int) or price < 0:
        raise ValidationError({"price": "A price cannot be negative."})
    if price > PRICE_MAX:
        raise ValidationError({"price": "This price is too large for Lingshou to keep."})


def price_set(*, merchant: Merchant, store_product_id: int, price: int, changed_by: User | None = None) -> StoreProduct:
    """Change a store price and keep the change (who, when, old, new); atomic, row-locked."""
    price_validate(price)
    with merchant_context(merchant.pk):
        item = StoreProduct.objects.for_merchant(merchant).select_for_update().filter(pk=store_product_id).first()
        if item is None:
            raise ValidationError({"store_product": "No such product in this shop."})
        if item.price != price:
            PriceChange.objects.create(
                merchant=merchant, store_product=item, old_price=item.price, new_price=price, changed_by=changed_by
            )
            item.price = price
            item.save(update_fields=["price"])
    return item


def prices_bulk_change(
    *,
    merchant: Merchant,
    store: Store,
    percent: Decimal,
    category: Category | None = None,
    changed_by: User | None = None,
) -> int:
    """Raise or lower the prices of a store (or one category, with its sub-categories) by a percentage.

    Rounded half up to the minor unit; every change is kept. Atomic: all prices or none.
    Returns how many prices changed.
    """
    if store.merchant_id != merchant.pk:
        raise ValidationError({"store": "No such store."})
    if not Decimal("-90") <= percent <= Decimal("500"):
        raise ValidationError({"percent": "Give a change between -90 % and +500 %."})
    factor = 1 + percent / 100
    changed = 0
    with merchant_context(merchant.pk):
        items = StoreProduct.objects.for_store(store).select_for_update().order_by("pk")
        if category is not None:
            items = items.filter(product__category__path__startswith=category.path).filter(
                product__category__wholesaler=merchant.wholesaler_id
            )
        changes = []
        for item in items:
            new = int((Decimal(item.price) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            if new != item.price:
                changes.append(
                    PriceChange(
                        merchant=merchant,
                        store_product=item,
                        old_price=item.price,
                        new_price=new,
                        changed_by=changed_by,
                    )
                )
                item.price = new
                changed += 1
        StoreProduct.objects.bulk_update([c.store_product for c in changes], ["price"], batch_size=1000)
        PriceChange.objects.bulk_create(changes, batch_size=1000)
    return changed
