"""The demo's sales loader writes the rows checkout's services write: the same baskets booked both ways.

Store A books each basket through the services (cart, order_place, the payment webhook; the
counter's shift, scans and payments; order_refunded; price_set); store B of the same merchant,
with the same products, prices, costs and stock, books them through ``SalesLoader``. Every row
is then compared field by field, except ids, tokens and the times the loader sets on purpose.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from catalog.models import MovementKind, Product, StockMovement, StoreProduct
from catalog.selectors import ledger_violations
from catalog.services.prices import price_set
from catalog.services.stock import stock_move
from checkout.models import (
    CartLine,
    CounterMethod,
    CounterPayment,
    CounterSale,
    ExitPass,
    Order,
    OrderLine,
    Refund,
    Shift,
    Visit,
)
from checkout.selectors.counter import shift_totals
from checkout.services import counter, shifts
from checkout.services.carts import cart_add, visit_start
from checkout.services.orders import age_check_confirm, order_place, order_refunded
from checkout.services.payments import webhook_event_process
from demo.seed.sales_loader import PHONE, Sale, SalesLoader
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import ProductFactory, StoreProductFactory
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

CASH, CARD = CounterMethod.CASH, CounterMethod.EXTERNAL_CARD
# (product, price, average cost, tax class, age restricted): a cost unknown, a reduced rate, beer.
PRODUCTS = [
    ("Quellwerk Cola 0.5 l", 189, 79, "standard", False),
    ("Sonnenfeld Milk 1 l", 129, 88, "reduced", False),
    ("Harzer Chips 175 g", 249, None, "standard", False),
    ("Roggenbrot 500 g", 315, 140, "reduced", False),
    ("Kieler Pils 0.33 l", 119, 52, "standard", True),
]
# (method, [(product index, units)] in the order rung up, cash tender); a price change before #5.
BASKETS: list[tuple[str, list[tuple[int, int]], int]] = [
    (PHONE, [(3, 1), (0, 2)], 0),
    (CASH, [(2, 1), (0, 1), (1, 3)], 0),
    (CASH, [(4, 2), (1, 1)], 2),
    (CARD, [(3, 2), (4, 1)], 0),
    (PHONE, [(4, 6), (2, 1), (0, 1)], 0),
    (PHONE, [(1, 2), (0, 1)], 0),
    (CASH, [(0, 1), (0, 1), (2, 1)], 1),
    (PHONE, [(2, 3)], 0),
]
PRICE_CHANGE_BEFORE = 4
FULL_REFUND, PARTIAL_REFUND = 5, 7
OPENING_CASH, SHORT_AT_CLOSE = 15_000, -50


def _stocked(store: Store, products: list[Product]) -> list[StoreProduct]:
    items = []
    for product, (_name, price, cost, _tax, _age) in zip(products, PRODUCTS, strict=True):
        item = StoreProductFactory(store=store, product=product, price=price, average_cost=cost)
        stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=40)
        items.append(item)
    return items


def _paid_by_webhook(order: Order) -> None:
    event = {
        "id": f"evt_demo_{order.pk}",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": f"pi_demo{order.pk:010d}",
                "amount_received": order.total,
                "currency": order.currency.lower(),
                "metadata": {"merchant_id": str(order.merchant_id), "order_id": str(order.pk)},
            }
        },
    }
    assert webhook_event_process(event=event) is True


def _through_services(store: Store, items: list[StoreProduct], clerk: Any, owner: Any) -> None:
    shift = shifts.shift_open(store=store, opened_by=clerk, opening_cash=OPENING_CASH)
    orders = []
    for number, (method, lines, tender) in enumerate(BASKETS):
        if number == PRICE_CHANGE_BEFORE:
            price_set(merchant=store.merchant, store_product_id=items[0].pk, price=199, changed_by=owner)
        if method == PHONE:
            visit = visit_start(store=store)
            for index, units in lines:
                cart_add(visit=visit, store_product_id=items[index].pk, quantity=units)
            order = order_place(visit=visit)
            _paid_by_webhook(order)
            with merchant_context(store.merchant_id):
                order.refresh_from_db()
            if order.requires_age_check:
                age_check_confirm(order=order, clerk=clerk)  # at the door
        else:
            order = counter.counter_sale_start(shift=shift, clerk=clerk)
            codes = [items[index].product.gtin[1:] for index, units in lines for _ in range(units)]  # type: ignore[union-attr]
            counter.counter_lines_scan(order=order, codes=codes)
            with merchant_context(store.merchant_id):
                order.refresh_from_db()
            if order.requires_age_check:
                age_check_confirm(order=order, clerk=clerk)  # at the till, before paying
            if method == CASH:
                offers = counter.cash_suggestions(total=order.total, currency=order.currency)
                given = offers[tender - 1] if tender else order.total
                counter.counter_pay_cash(order=order, tendered=given, recorded_by=clerk)
            else:
                counter.counter_pay_external_card(order=order, recorded_by=clerk)
            with merchant_context(store.merchant_id):
                order.refresh_from_db()
        orders.append(order)
    expected = shift_totals(shift=shift).expected_cash
    shifts.shift_close(shift=shift, closed_by=clerk, counted_cash=expected + SHORT_AT_CLOSE)
    full, partial = orders[FULL_REFUND], orders[PARTIAL_REFUND]
    order_refunded(
        merchant=store.merchant,
        payment_intent=full.payment_intent,
        amount_refunded=full.total,
        refund_reference="re_full",
        refunded_by=owner,
    )
    with merchant_context(store.merchant_id):
        first_line = OrderLine.objects.filter(order=partial).order_by("pk").first()
    assert first_line is not None
    order_refunded(
        merchant=store.merchant,
        payment_intent=partial.payment_intent,
        amount_refunded=first_line.unit_price,  # one of its units
        refund_reference="re_part",
        refunded_by=None,  # refunded in Stripe's dashboard: reported by the webhook
    )


def _through_loader(store: Store, items: list[StoreProduct], clerk: Any, owner: Any) -> None:
    now = timezone.now()
    loader = SalesLoader(store=store, clerk=clerk)
    loader.shift_open(at=now, opening_cash=OPENING_CASH)
    orders = []
    for number, (method, lines, tender) in enumerate(BASKETS):
        if number == PRICE_CHANGE_BEFORE:
            price_set(merchant=store.merchant, store_product_id=items[0].pk, price=199, changed_by=owner)
            loader.reload()
        # The loader is given each product once per basket, as the cart and the scans add up repeats.
        units: dict[int, int] = {}
        for index, count in lines:
            units[items[index].pk] = units.get(items[index].pk, 0) + count
        sale = Sale(at=now + dt.timedelta(minutes=number), method=method, lines=tuple(units.items()), tender=tender)
        orders.append(loader.sell(sale))
    loader.shift_close(at=now + dt.timedelta(hours=1), difference=SHORT_AT_CLOSE)
    loader.flush()  # the refunds below find their orders already written, like the late webhook
    full, partial = orders[FULL_REFUND], orders[PARTIAL_REFUND]
    later = now + dt.timedelta(hours=2)
    loader.refund(order=full, amount_refunded=full.total, reference="re_full", at=later, by=owner)
    loader.refund(order=partial, amount_refunded=_first_unit_price(partial), reference="re_part", at=later, by=None)
    loader.flush()


def _first_unit_price(order: Order) -> int:
    with merchant_context(order.merchant_id):
        line = OrderLine.objects.filter(order=order).order_by("pk").first()
    assert line is not None
    return line.unit_price


# Set on purpose by the loader (times), drawn at random (tokens), or the row's own id.
SKIPPED = {
    "id", "token", "jti", "created_at", "paid_at", "reserved_until", "age_checked_at", "issued_at", "expires_at",
    "started_at", "last_seen_at", "opened_at", "closed_at", "at", "added_at",
}  # fmt: skip


def _order_name(digits: str, order_numbers: dict[int, int]) -> str:
    number = order_numbers.get(int(digits))
    return digits if number is None else f"<order {number}>"


def _rows(model: type[models.Model], store: Store, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of the model for the store (by id), its fields made comparable across the two stores."""
    order_numbers: dict[int, int] = {}
    shifts_seen: dict[int, int] = {}
    with merchant_context(store.merchant_id):
        order_numbers = {
            pk: n for n, pk in enumerate(Order.objects.filter(store=store).order_by("pk").values_list("pk", flat=True))
        }
        shifts_seen = {
            pk: n for n, pk in enumerate(Shift.objects.filter(store=store).order_by("pk").values_list("pk", flat=True))
        }
        products = dict(StoreProduct.objects.filter(store=store).values_list("pk", "product_id"))
        rows = list(model.objects.filter(**filters).order_by("pk"))  # type: ignore[attr-defined]
    comparable: list[dict[str, Any]] = []
    for row in rows:
        values: dict[str, Any] = {}
        for field in row._meta.concrete_fields:
            name, value = field.name, getattr(row, field.attname)
            if name in SKIPPED:
                continue
            if name == "store":
                value = "the store"
            elif name == "store_product":
                value = products[value]
            elif name == "order":
                value = order_numbers[value]
            elif name == "shift":
                value = None if value is None else shifts_seen[value]  # a refund's shift: cash ones only
            elif name == "visit":
                value = value is not None
            elif name in {"reference", "payment_intent"}:
                # Every run of digits that is an order's id (zero-padded in a payment intent) names it by position.
                value = re.sub(r"\d+", lambda m: _order_name(m.group(), order_numbers), value)
            values[name] = value
        comparable.append(values)
    return comparable


def test_the_loader_writes_the_rows_the_services_write(merchant: Merchant, clerk: Any, owner: Any) -> None:
    by_services, by_loader = StoreFactory(merchant=merchant, name="A"), StoreFactory(merchant=merchant, name="B")
    products = [
        ProductFactory(
            wholesaler=merchant.wholesaler,
            name=name,
            tax_class=tax,
            is_age_restricted=age,
            minimum_age=16 if age else None,
        )
        for name, _price, _cost, tax, age in PRODUCTS
    ]
    _through_services(by_services, _stocked(by_services, products), clerk, owner)
    _through_loader(by_loader, _stocked(by_loader, products), clerk, owner)

    tables: list[tuple[type[models.Model], Callable[[Store], dict[str, Any]]]] = [
        (Order, lambda s: {"store": s}),
        (OrderLine, lambda s: {"order__store": s}),
        (StockMovement, lambda s: {"store": s}),
        (ExitPass, lambda s: {"order__store": s}),
        (CounterSale, lambda s: {"order__store": s}),
        (CounterPayment, lambda s: {"order__store": s}),
        (Refund, lambda s: {"order__store": s}),
        (Shift, lambda s: {"store": s}),
        (Visit, lambda s: {"store": s}),
        (CartLine, lambda s: {"visit__store": s}),
    ]
    for model, filters in tables:
        expected, loaded = (
            _rows(model, by_services, filters(by_services)),
            _rows(model, by_loader, filters(by_loader)),
        )
        if model is OrderLine and all(row["unit_cost"] is None for row in expected):
            # Checkout does not record the cost of a sale yet (the cost capture is being built); the
            # loader records the store product's average cost as it will. Compared strictly once it does.
            for row in expected:
                row["unit_cost"] = PRODUCTS[[p.pk for p in products].index(row["store_product"])][2]
        assert loaded == expected, model.__name__

    # The figures behind the rows: what was sold and refunded, the till's cash, the ledger.
    with merchant_context(merchant.pk):
        orders = list(Order.objects.filter(store=by_loader).order_by("pk"))
        assert [o.status for o in orders] == ["paid"] * 5 + ["refunded", "paid", "partially_refunded"]
        assert [o.total for o in orders] == [693, 825, 367, 749, 1162, 457, 647, 747]
        assert orders[4].requires_age_check
        assert orders[4].age_checked_by_id == clerk.pk
        shift = Shift.objects.get(store=by_loader)
        assert (shift.expected_cash, shift.counted_cash) == (OPENING_CASH + 825 + 367 + 647, OPENING_CASH + 1839 - 50)
        on_hand = {
            (item.store_id, item.product_id): item.on_hand
            for item in StoreProduct.objects.filter(store__in=[by_services, by_loader])
        }
        assert ledger_violations(merchant=merchant) == []
    assert {p for (_s, p), _n in on_hand.items()} == {p.pk for p in products}
    for product in products:
        assert on_hand[(by_loader.pk, product.pk)] == on_hand[(by_services.pk, product.pk)]
    assert [on_hand[(by_loader.pk, p.pk)] for p in products] == [40 - 7 + 1, 40 - 6 + 2, 40 - 6, 40 - 3, 40 - 9]
