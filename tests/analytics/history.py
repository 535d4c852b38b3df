"""A few days of a store's life, with every kind of fact, at known instants (for rebuild, check and selectors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from catalog.models import AdjustmentReason, MovementKind, ProductLookup, ShelfEmptyPeriod, StockMovement, StoreProduct
from catalog.services.signals import product_lookup_record, shelf_empty_record
from catalog.services.stock import stock_move
from checkout.models import Order, Refund
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import code, counter_sale, paid_at_set, phone_order, refund, stocked


@dataclass
class History:
    store: Store
    cola: StoreProduct
    crisps: StoreProduct
    orders: list[Order]


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def history_make(store: Store, clerk: Any) -> History:
    """Orders on phone and counter, refunds, lookups, a shelf-empty period and the ledger at zero, June 2026."""
    cola = stocked(store, 50, price=249, product__tax_class="standard", product__name="Quellwerk Cola")
    crisps = stocked(store, 50, price=199, product__tax_class="reduced", product__name="Knusper Chips")
    a = paid_at_set(phone_order(store, [(cola, 2), (crisps, 1)], costs={cola.pk: 120}), _at(2026, 6, 10, 10, 15))
    b = paid_at_set(counter_sale(store, clerk, [code(cola), code(crisps)], tendered=500), _at(2026, 6, 10, 16, 40))
    c = paid_at_set(phone_order(store, [(crisps, 3)], costs={crisps.pk: 90}), _at(2026, 6, 11, 21, 30))
    d = paid_at_set(phone_order(store, [(cola, 1)]), _at(2026, 6, 11, 22, 30))  # 00:30 on the 12th in Berlin
    moved = [
        (refund(a, 100), _at(2026, 6, 11, 9)),
        (refund(a, 597), _at(2026, 6, 12, 9)),
        (refund(c, 50), _at(2026, 6, 12, 9, 5)),
    ]
    for lookup_at in (_at(2026, 6, 11, 8), _at(2026, 6, 11, 23)):
        product_lookup_record(store=store, code=code(cola), store_product=cola)
        with merchant_context(store.merchant_id):
            ProductLookup.objects.filter(pk=ProductLookup.objects.latest("pk").pk).update(looked_up_at=lookup_at)
    shelf_empty_record(merchant=store.merchant, store_product_id=cola.pk, at=_at(2026, 6, 11, 20), is_empty=True)
    shelf_empty_record(merchant=store.merchant, store_product_id=cola.pk, at=_at(2026, 6, 12, 2), is_empty=False)
    # The crisps left after the sales are written off (on hand 0), then a delivery comes a day later.
    with merchant_context(store.merchant_id):
        left = StoreProduct.objects.get(pk=crisps.pk).on_hand
    assert left == 50 - 1 - 1 - 3 + 1  # order a's crisps came back with its full refund
    empty = stock_move(
        merchant=store.merchant,
        store_product_id=crisps.pk,
        kind=MovementKind.WRITE_OFF,
        quantity=-left,
        reason=AdjustmentReason.DAMAGED,
    )
    delivery = stock_move(merchant=store.merchant, store_product_id=crisps.pk, kind=MovementKind.RECEIPT, quantity=10)
    assert empty.on_hand_after == 0
    with merchant_context(store.merchant_id):
        for item, at in moved:
            Refund.objects.filter(pk=item.pk).update(created_at=at)
        StockMovement.objects.filter(pk=empty.pk).update(created_at=_at(2026, 6, 10, 8))
        StockMovement.objects.filter(pk=delivery.pk).update(created_at=_at(2026, 6, 11, 8, 30))
        assert ShelfEmptyPeriod.objects.filter(store_product=cola, ended_at__isnull=False).count() == 1
    return History(store=store, cola=cola, crisps=crisps, orders=[a, b, c, d])
