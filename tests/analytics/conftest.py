"""Sales for the analytics tests, made through the services that make real ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from analytics.services.facts import fact_apply
from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import CounterPayment, Order, OrderLine, Refund
from checkout.services import counter, shifts
from checkout.services.carts import cart_set, visit_start
from checkout.services.orders import order_mark_paid, order_place, order_refunded
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory


def stocked(store: Store, units: int, **kwargs: Any) -> StoreProduct:
    item = StoreProductFactory(store=store, **kwargs)
    if units:
        stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=units)
    return item


def costs_set(order: Order, costs: dict[int, int | None]) -> None:
    """Give the order's lines their unit cost at the time of sale, per store product (what pricing will record)."""
    with merchant_context(order.merchant_id):
        for store_product_id, cost in costs.items():
            OrderLine.objects.filter(order=order, store_product_id=store_product_id).update(unit_cost=cost)


def phone_order(
    store: Store, quantities: list[tuple[StoreProduct, int]], *, costs: dict[int, int | None] | None = None
) -> Order:
    """A shopper's order from the cart, paid through the webhook's service."""
    visit = visit_start(store=store)
    for item, quantity in quantities:
        cart_set(visit=visit, store_product_id=item.pk, quantity=quantity)
    order = order_place(visit=visit)
    if costs:
        costs_set(order, costs)
    assert order_mark_paid(
        merchant=store.merchant,
        order_id=order.pk,
        payment_intent=f"pi_test_{order.pk}",
        amount_received=order.total,
        currency=order.currency,
    )
    return order_get(order)


def counter_sale(store: Store, clerk: Any, codes: list[str], *, tendered: int) -> Order:
    """A counter sale rung up by ``clerk`` in the store's open shift (opened if none) and paid in cash."""
    from checkout.models import Shift

    with merchant_context(store.merchant_id):
        shift = Shift.objects.filter(store=store, closed_at__isnull=True).first()
    if shift is None:
        shift = shifts.shift_open(store=store, opened_by=clerk, opening_cash=5000)
    order = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=order, codes=codes)
    payment = counter.counter_pay_cash(order=order, tendered=tendered, recorded_by=clerk)
    assert isinstance(payment, CounterPayment)
    return order_get(order)


def refund(order: Order, amount: int) -> Refund:
    """Refund ``amount`` more of a paid order, as the dashboard's refund or Stripe's webhook records it."""
    assert order_refunded(
        merchant=order.store.merchant,
        payment_intent=order.payment_intent,
        amount_refunded=order_get(order).amount_refunded + amount,
        refund_reference=f"re_test_{order.pk}_{amount}",
    )
    with merchant_context(order.merchant_id):
        return Refund.objects.filter(order=order).latest("pk")


def order_get(order: Order) -> Order:
    with merchant_context(order.merchant_id):
        return Order.objects.select_related("store__merchant").get(pk=order.pk)


def paid_at_set(order: Order, at: datetime) -> Order:
    """Move a paid order in time (the services stamp it with now)."""
    with merchant_context(order.merchant_id):
        Order.objects.filter(pk=order.pk).update(paid_at=at, created_at=at)
    return order_get(order)


def apply(merchant: Merchant, kind: str, *keys: int) -> list[bool]:
    return [fact_apply(merchant=merchant, kind=kind, key=key) for key in keys]


def code(item: StoreProduct) -> str:
    return item.product.gtin[1:]  # type: ignore[union-attr] # the EAN-13 on the can, as a scanner reads it


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    return stocked(store, 50, price=249, product__tax_class="standard", product__name="Quellwerk Cola")


@pytest.fixture
def crisps(store: Store) -> StoreProduct:
    return stocked(store, 50, price=199, product__tax_class="reduced", product__name="Knusper Chips")
