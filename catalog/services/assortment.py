"""Writes of a store's assortment: master products it starts selling, its own local products, shelf and status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.models import (
    PLU_MAX_LENGTH,
    LocalBarcode,
    PriceChange,
    Product,
    StoreProduct,
    TaxClass,
)
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

from catalog.services.costs import average_cost_initial, cost_validate
from catalog.services.prices import price_set, price_validate


class _Unchanged:
    """Marks an argument left out (None means 'no threshold', so it cannot mean 'unchanged')."""


UNCHANGED = _Unchanged()


def assortment_add(
    *,
    merchant: Merchant,
    store: Store,
    product: Product,
    price: int | None = None,
    shelf_location: str = "",
    low_stock_threshold: int | None = None,
    changed_by: User | None = None,
) -> StoreProduct:
    """Start selling a master product in a store, at the suggested price unless given, at the wholesaler's
    cost when it is in the store's currency; atomic."""
    if store.merchant_id != merchant.pk:
        raise ValidationError({"store": "No such store."})
    if product.wholesaler_id != merchant.wholesaler_id:
        raise ValidationError({"product": "This product is not in your wholesaler's catalog."})
    if price is None:
        if product.wholesaler.currency != store.currency:
            raise ValidationError(
                {"price": f"Set a price in {store.currency}: the suggested price is in {product.wholesaler.currency}."}
            )
        price = product.suggested_retail_price
    price_validate(price)
    with merchant_context(merchant.pk):
        try:
            with transaction.atomic():
                item = StoreProduct.objects.create(
                    merchant=merchant,
                    store=store,
                    product=product,
                    price=price,
                    shelf_location=shelf_location,
                    low_stock_threshold=low_stock_threshold,
                    average_cost=average_cost_initial(product=product, store=store),
                )
        except IntegrityError as error:
            raise ValidationError({"product": "This store already sells that product."}) from error
        PriceChange.objects.create(
            merchant=merchant, store_product=item, old_price=None, new_price=price, changed_by=changed_by
        )
    return item


def local_product_create(
    *,
    merchant: Merchant,
    store: Store,
    name: str,
    price: int,
    brand: str = "",
    tax_class: str = TaxClass.REDUCED,
    is_age_restricted: bool = False,
    barcodes: Sequence[str] = (),
    cost: int | None = None,
    changed_by: User | None = None,
) -> StoreProduct:
    """A product the store sells that the wholesaler does not (a neighbour's bread), at the cost the owner
    gives (None: unknown); atomic."""
    from catalog import gtin

    if store.merchant_id != merchant.pk:
        raise ValidationError({"store": "No such store."})
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the product a name."})
    if tax_class not in TaxClass.values:
        raise ValidationError({"tax_class": f"Choose one of: {', '.join(TaxClass.values)}."})
    price_validate(price)
    cost_validate(cost)
    try:
        codes = [gtin.normalize(code) for code in barcodes]
    except gtin.GtinError as error:
        raise ValidationError({"barcodes": str(error)}) from error
    with merchant_context(merchant.pk):
        try:
            with transaction.atomic():
                item = StoreProduct.objects.create(
                    merchant=merchant,
                    store=store,
                    local_name=name[:200],
                    local_brand=brand[:100],
                    local_tax_class=tax_class,
                    local_is_age_restricted=is_age_restricted,
                    price=price,
                    average_cost=cost,
                )
                LocalBarcode.objects.bulk_create(
                    LocalBarcode(merchant=merchant, store=store, store_product=item, code=code) for code in codes
                )
        except IntegrityError as error:
            raise ValidationError({"barcodes": "Another product of this store already has this barcode."}) from error
        PriceChange.objects.create(
            merchant=merchant, store_product=item, old_price=None, new_price=price, changed_by=changed_by
        )
    return item


def assortment_update(
    *,
    merchant: Merchant,
    store_product_id: int,
    shelf_location: str | None = None,
    is_active: bool | None = None,
    low_stock_threshold: int | _Unchanged | None = UNCHANGED,
    price: int | None = None,
    cost: int | _Unchanged | None = UNCHANGED,
    changed_by: User | None = None,
) -> StoreProduct:
    """Change an assortment row's shelf, status, threshold, price and (a local product's) cost; atomic."""
    if not isinstance(cost, _Unchanged):
        cost_validate(cost)
    with merchant_context(merchant.pk):
        if price is not None:
            price_set(merchant=merchant, store_product_id=store_product_id, price=price, changed_by=changed_by)
        item = StoreProduct.objects.for_merchant(merchant).select_for_update().filter(pk=store_product_id).first()
        if item is None:
            raise ValidationError({"store_product": "No such product in this shop."})
        fields = []
        if shelf_location is not None:
            item.shelf_location = shelf_location.strip()[:50]
            fields.append("shelf_location")
        if is_active is not None:
            item.is_active = is_active
            fields.append("is_active")
        if not isinstance(low_stock_threshold, _Unchanged):
            if low_stock_threshold is not None and low_stock_threshold < 0:
                raise ValidationError({"low_stock_threshold": "A threshold cannot be negative."})
            item.low_stock_threshold = low_stock_threshold
            fields.append("low_stock_threshold")
        if not isinstance(cost, _Unchanged) and cost != item.average_cost:
            if item.product_id is not None:
                # A wholesaler's product is costed by its deliveries (a moving average), not by hand.
                raise ValidationError({"cost": "The cost of a wholesaler's product comes from its deliveries."})
            item.average_cost = cost
            fields.append("average_cost")
        if fields:
            item.save(update_fields=fields)
    return item


# A deposit above this is a typing slip: German crates carry a few euros (100,00 € in cents).
DEPOSIT_MAX = 10_000


def assortment_till_set(*, merchant: Merchant, store_product_id: int, plu: str, deposit: int) -> StoreProduct:
    """Set what the counter needs of a product: its PLU (a short code to type, unique in its store; empty:
    none) and its deposit per unit (0: none); validated, atomic. ValidationError names the field, nothing changed."""
    plu = plu.strip()
    if plu and not (plu.isascii() and plu.isdigit() and len(plu) <= PLU_MAX_LENGTH):
        raise ValidationError({"plu": f"A PLU is 1 to {PLU_MAX_LENGTH} digits, such as 12 or 4011."})
    if isinstance(deposit, bool) or not isinstance(deposit, int):
        raise ValidationError({"deposit": "The deposit is an amount, such as 0.25."})
    if deposit < 0:
        raise ValidationError({"deposit": "A deposit cannot be negative."})
    if deposit > DEPOSIT_MAX:
        raise ValidationError({"deposit": "That deposit is more than any bottle or crate carries; check the amount."})
    with merchant_context(merchant.pk):
        item = StoreProduct.objects.for_merchant(merchant).select_for_update().filter(pk=store_product_id).first()
        if item is None:
            raise ValidationError({"store_product": "No such product in this shop."})
        item.plu = plu
        item.deposit = deposit
        try:
            with transaction.atomic():
                item.save(update_fields=["plu", "deposit"])
        except IntegrityError as error:
            taken = StoreProduct.objects.for_store(item.store).filter(plu=plu).exclude(pk=item.pk).first()
            raise ValidationError(
                {"plu": f"PLU {plu} is taken by {taken.name} in this store." if taken else "This PLU is taken."}
            ) from error
    return item
