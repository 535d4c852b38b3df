"""A kiosk's counter sale in the rollups: deposits are not sales, discounts are (and are counted as given),
items without a barcode count in the hours and categories but in no product's days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db.models import Sum

from analytics.models import CategoryDay, ProductDay, SalesHour
from analytics.selectors.consistency import rollups_mismatches
from catalog import gtin
from catalog.models import StoreProduct
from checkout.models import Order, OrderLine
from checkout.services import counter, shifts
from checkout.services.refunds import order_refund_at_till
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import apply, code, order_get, paid_at_set, stocked

pytestmark = pytest.mark.django_db

JUNE_10 = date(2026, 6, 10)


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    return stocked(store, 50, price=249, deposit=25, product__tax_class="standard", product__name="Quellwerk Cola")


def _kiosk_sale(store: Store, owner: Any, cola: StoreProduct) -> Order:
    """2 cans of cola (10 % off, 0,25 deposit each), a cake without a barcode, a return slip of 1,25; paid in cash."""
    shift = shifts.shift_open(store=store, opened_by=owner, opening_cash=5000)
    order = counter.counter_sale_start(shift=shift, clerk=owner)
    slip = gtin.make(f"98{1:05d}{125:05d}")
    counter.counter_lines_scan(order=order, codes=[code(cola), code(cola), slip])
    counter.counter_line_open_price(order=order, name="Kuchen", amount=350, tax_class="reduced")
    with merchant_context(store.merchant_id):
        line = OrderLine.objects.get(order=order, kind="product")
    counter.counter_line_discount(
        order=order, line_id=line.pk, discount=counter.Discount(percent=1000, reason="Dented"), given_by=owner
    )
    counter.counter_pay_cash(order=order, tendered=1000, recorded_by=owner)
    # 12:15 in Berlin (summer time) on 10 June.
    return paid_at_set(order_get(order), datetime(2026, 6, 10, 10, 15, tzinfo=UTC))


def test_deposits_are_not_sales_and_discounts_are(store: Store, owner: Any, cola: StoreProduct) -> None:
    order = _kiosk_sale(store, owner, cola)
    # Cola 4,98 − 0,50 = 4,48 (0,72 VAT inside); deposit 0,50; slip −1,25; cake 3,50 (0,23 VAT inside).
    assert order.total == 448 + 50 - 125 + 350
    assert apply(store.merchant, "order", order.pk) == [True]
    with merchant_context(store.merchant_id):
        hour = SalesHour.objects.get(store=store)
        product = ProductDay.objects.get(store=store)
        categories = {row.category: (row.units, row.net_sales) for row in CategoryDay.objects.filter(store=store)}
    # Net sales: 4,48 − 0,72 + 3,50 − 0,23; the deposits (0,50 charged, 1,25 back) and their VAT are left out.
    assert (hour.local_date, hour.hour, hour.payment_method) == (JUNE_10, 12, "cash")
    assert (hour.net_sales, hour.tax, hour.units, hour.transactions) == (376 + 327, 72 + 23, 3, 1)
    # 0,50 off at 19 % VAT inside is 0,42 without it.
    assert hour.discounts == 42
    assert (product.store_product_id, product.units, product.net_sales) == (cola.pk, 2, 376)
    # The cake has no product, so no product day; it counts uncategorised.
    assert categories == {cola.product.category_id: (2, 376), 0: (1, 327)}  # type: ignore[union-attr]
    assert rollups_mismatches(merchant=store.merchant, store=store) == (0, [])


def test_a_refund_of_a_sale_with_deposits_counts_only_the_goods_share(
    store: Store, owner: Any, cola: StoreProduct
) -> None:
    order = _kiosk_sale(store, owner, cola)
    # All 7,23 back in cash: the goods' share is what they cost (4,48 + 3,50), the deposits' the rest (0,50 − 1,25).
    order_refund_at_till(merchant=store.merchant, order_id=order.pk, amount=723, method="cash", refunded_by=owner)
    with merchant_context(store.merchant_id):
        refund_id = order.refunds.get().pk
    assert apply(store.merchant, "order", order.pk) == [True]
    assert apply(store.merchant, "refund", refund_id) == [True]
    # The refund counts on the day it was made (today), the sale on 10 June: summed over the days.
    with merchant_context(store.merchant_id):
        refunds = sum(SalesHour.objects.filter(store=store).values_list("refunds", flat=True))
        product = ProductDay.objects.filter(store=store, store_product=cola).aggregate(
            refunds=Sum("refunds"), units=Sum("refunded_units")
        )
        categories = dict(
            CategoryDay.objects.filter(store=store)
            .values("category")
            .annotate(back=Sum("refunds"))
            .values_list("category", "back")
        )
    assert refunds == 448 + 350
    assert (product["refunds"], product["units"]) == (448, 2)
    assert categories == {cola.product.category_id: 448, 0: 350}  # type: ignore[union-attr]
    assert rollups_mismatches(merchant=store.merchant, store=store) == (0, [])


def test_a_deposit_paid_out_is_no_sale_and_goods_beside_bottles_returned_count_alone(
    store: Store, owner: Any, cola: StoreProduct
) -> None:
    shift = shifts.shift_open(store=store, opened_by=owner, opening_cash=5000)
    # Bottles alone: 6 × 0,25 paid out of the drawer.
    payout = counter.counter_sale_start(shift=shift, clerk=owner)
    counter.counter_bottles_return(order=payout, bottles=6, deposit=25)
    counter.counter_pay_out(order=payout, recorded_by=owner)
    payout = paid_at_set(order_get(payout), datetime(2026, 6, 10, 10, 15, tzinfo=UTC))
    assert payout.total == -150
    assert apply(store.merchant, "order", payout.pk) == [True]
    with merchant_context(store.merchant_id):
        assert not SalesHour.objects.filter(store=store).exists()
        assert not ProductDay.objects.filter(store=store).exists()
        assert not CategoryDay.objects.filter(store=store).exists()
    # A cola (2,49 with 0,25 deposit) beside 20 cans back: 2,26 paid out, the cola alone a sale.
    mixed = counter.counter_sale_start(shift=shift, clerk=owner)
    counter.counter_lines_scan(order=mixed, codes=[code(cola)])
    counter.counter_bottles_return(order=mixed, bottles=20, deposit=25)
    counter.counter_pay_out(order=mixed, recorded_by=owner)
    mixed = paid_at_set(order_get(mixed), datetime(2026, 6, 10, 10, 20, tzinfo=UTC))
    assert mixed.total == -226
    assert apply(store.merchant, "order", mixed.pk) == [True]
    with merchant_context(store.merchant_id):
        hour = SalesHour.objects.get(store=store)
    # 2,49 less its 0,40 VAT (19 % inside); one transaction, one unit, paid in cash.
    assert (hour.net_sales, hour.tax, hour.units, hour.transactions, hour.payment_method) == (209, 40, 1, 1, "cash")
    assert rollups_mismatches(merchant=store.merchant, store=store) == (0, [])
