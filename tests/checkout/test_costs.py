"""Sale lines keep the cost of a unit when they are written, phone orders and counter sales alike, so a cost
that changes later never changes the margin of what was sold."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import MovementKind, StoreProduct
from catalog.services.costs import Receipt, stock_receive
from catalog.services.stock import stock_move
from checkout.models import Order, OrderLine
from checkout.services import counter, shifts
from checkout.services.carts import cart_set, visit_start
from checkout.services.orders import order_place
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory

pytestmark = pytest.mark.django_db


def _stocked(store: Store, *, average_cost: int | None, **kwargs: Any) -> StoreProduct:
    item = StoreProductFactory(store=store, **kwargs)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=24)
    with merchant_context(store.merchant_id):
        StoreProduct.objects.filter(pk=item.pk).update(average_cost=average_cost)
    return item


def _costs(order: Order) -> dict[int, int | None]:
    with merchant_context(order.merchant_id):
        return dict(OrderLine.objects.filter(order=order).values_list("store_product_id", "unit_cost"))


def _code(item: StoreProduct) -> str:
    return item.product.gtin[1:]  # type: ignore[union-attr] # the EAN-13 on the can


def test_a_phone_orders_lines_keep_the_cost_then_and_a_later_delivery_does_not_change_them(store: Store) -> None:
    cola = _stocked(store, average_cost=50, price=249)
    unknown = _stocked(store, average_cost=None, price=199)
    visit = visit_start(store=store)
    cart_set(visit=visit, store_product_id=cola.pk, quantity=2)
    cart_set(visit=visit, store_product_id=unknown.pk, quantity=1)
    order = order_place(visit=visit)
    assert _costs(order) == {cola.pk: 50, unknown.pk: None}
    # 24 more at 0,62 € on the 24 at 0,50 €: the product now costs 0,56 €, the sold line still 0,50 €.
    stock_receive(merchant=store.merchant, receipts=[Receipt(cola.pk, 24, 62)], currency="EUR")
    with merchant_context(store.merchant_id):
        assert StoreProduct.objects.get(pk=cola.pk).average_cost == 56
    assert _costs(order) == {cola.pk: 50, unknown.pk: None}
    # The next order is costed at the new average.
    visit = visit_start(store=store)
    cart_set(visit=visit, store_product_id=cola.pk, quantity=1)
    assert _costs(order_place(visit=visit)) == {cola.pk: 56}


def test_a_counter_sales_lines_keep_the_cost_of_their_first_scan(store: Store, clerk: Any) -> None:
    cola = _stocked(store, average_cost=50, price=249)
    crisps = _stocked(store, average_cost=None, price=199)
    sale = counter.counter_sale_start(
        shift=shifts.shift_open(store=store, opened_by=clerk, opening_cash=0), clerk=clerk
    )
    counter.counter_lines_scan(order=sale, codes=[_code(cola), _code(crisps)])
    assert _costs(sale) == {cola.pk: 50, crisps.pk: None}
    with merchant_context(store.merchant_id):
        StoreProduct.objects.filter(pk=cola.pk).update(average_cost=70)
    # Another scan adds a unit to the line written at the first scan: the line's cost stays.
    counter.counter_line_scan(order=sale, code=_code(cola))
    counter.counter_pay_cash(order=sale, tendered=1000, recorded_by=clerk)
    with merchant_context(store.merchant_id):
        line = OrderLine.objects.get(order=sale, store_product=cola)
    assert (line.quantity, line.unit_cost) == (2, 50)
    assert _costs(sale) == {cola.pk: 50, crisps.pk: None}
