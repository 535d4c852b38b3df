"""Each fact lands in the right cells with exact values, once, in the store's own hours."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from analytics.contributions import HOUR_SUMS, PRODUCT_SUMS
from analytics.models import AppliedFact, ProductDay, SalesHour
from analytics.services.facts import facts_sweep
from catalog.models import StoreProduct
from catalog.services.signals import product_lookup_record, shelf_empty_record
from checkout.models import Refund
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import apply, code, counter_sale, paid_at_set, phone_order, refund, stocked

pytestmark = pytest.mark.django_db

HOUR_FIELDS = HOUR_SUMS
PRODUCT_FIELDS = PRODUCT_SUMS


def hours(store: Store) -> dict[tuple[Any, ...], tuple[int, ...]]:
    with merchant_context(store.merchant_id):
        return {
            (row.local_date, row.hour, row.channel, row.payment_method): tuple(getattr(row, f) for f in HOUR_FIELDS)
            for row in SalesHour.objects.filter(store=store)
        }


def product_days(store: Store) -> dict[tuple[Any, ...], dict[str, int]]:
    with merchant_context(store.merchant_id):
        return {
            (row.store_product_id, row.local_date): {f: getattr(row, f) for f in PRODUCT_FIELDS if getattr(row, f)}
            for row in ProductDay.objects.filter(store=store)
        }


def test_a_phone_order_adds_exact_sums_in_its_local_hour(
    store: Store, cola: StoreProduct, crisps: StoreProduct
) -> None:
    order = phone_order(store, [(cola, 2), (crisps, 1)], costs={cola.pk: 120, crisps.pk: None})
    # 12:15 in Berlin (summer time) on 10 June.
    order = paid_at_set(order, datetime(2026, 6, 10, 10, 15, tzinfo=UTC))
    assert apply(store.merchant, "order", order.pk) == [True]
    # 2 × 2,49 with 19 % inside (0,80) and 1,99 with 7 % inside (0,13): net 4,18 + 1,86.
    assert hours(store) == {(date(2026, 6, 10), 12, "shopper", "online_card"): (604, 93, 0, 0, 240, 418, 1, 3)}
    assert product_days(store) == {
        (cola.pk, date(2026, 6, 10)): {
            "units": 2, "net_sales": 418, "cost": 240, "units_known_cost": 2, "net_sales_known_cost": 418,
        },
        # Cost unknown: no cost and nothing counted as sold at known cost, never a 100 % margin.
        (crisps.pk, date(2026, 6, 10)): {"units": 1, "net_sales": 186},
    }  # fmt: skip


def test_a_counter_sale_in_cash_is_its_own_channel_and_method(
    store: Store, cola: StoreProduct, crisps: StoreProduct, clerk: Any
) -> None:
    sale = counter_sale(store, clerk, [code(cola), code(crisps), code(cola)], tendered=1000)
    sale = paid_at_set(sale, datetime(2026, 1, 5, 7, 59, tzinfo=UTC))  # 08:59 in winter
    assert apply(store.merchant, "order", sale.pk) == [True]
    assert hours(store) == {(date(2026, 1, 5), 8, "counter", "cash"): (604, 93, 0, 0, 0, 0, 1, 3)}


def test_a_fact_applied_twice_counts_once(store: Store, cola: StoreProduct) -> None:
    order = phone_order(store, [(cola, 1)])
    assert apply(store.merchant, "order", order.pk, order.pk) == [True, False]
    with merchant_context(store.merchant_id):
        assert SalesHour.objects.get(store=store).transactions == 1
        assert AppliedFact.objects.filter(kind="order", key=order.pk).count() == 1


def test_a_refund_is_split_over_its_lines_to_the_cent_and_units_return_with_the_last(
    store: Store, cola: StoreProduct, crisps: StoreProduct
) -> None:
    order = phone_order(store, [(cola, 2), (crisps, 1)])
    assert order.total == 697
    first = refund(order, 100)
    second = refund(order, 597)
    with merchant_context(store.merchant_id):
        Refund.objects.filter(pk=first.pk).update(created_at=datetime(2026, 6, 11, 9, 0, tzinfo=UTC))
        Refund.objects.filter(pk=second.pk).update(created_at=datetime(2026, 6, 12, 9, 0, tzinfo=UTC))
    assert apply(store.merchant, "refund", first.pk, second.pk) == [True, True]
    days = product_days(store)
    # 100 × 498/697 = 71.45 and 100 × 199/697 = 28.55: floors 71 + 28, the cent left goes to the larger remainder.
    assert days[(cola.pk, date(2026, 6, 11))] == {"refunds": 71}
    assert days[(crisps.pk, date(2026, 6, 11))] == {"refunds": 29}
    # 597 × 498/697 = 426.55 and 597 × 199/697 = 170.45; the last refund brings every unit back.
    assert days[(cola.pk, date(2026, 6, 12))] == {"refunds": 427, "refunded_units": 2}
    assert days[(crisps.pk, date(2026, 6, 12))] == {"refunds": 170, "refunded_units": 1}
    cells = hours(store)
    assert cells[(date(2026, 6, 11), 11, "shopper", "online_card")] == (0, 0, 0, 100, 0, 0, 0, 0)
    assert cells[(date(2026, 6, 12), 11, "shopper", "online_card")] == (0, 0, 0, 597, 0, 0, 0, 0)


def test_daylight_saving_days_land_in_the_stores_own_hours(store: Store, cola: StoreProduct) -> None:
    assert store.timezone == "Europe/Berlin"
    instants = [
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 01:30 CET
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 03:30 CEST: 02:xx does not exist that night
        datetime(2026, 10, 24, 22, 30, tzinfo=UTC),  # 00:30 CEST on the 25th (UTC still says the 24th)
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 CEST
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 CET: the same wall-clock hour, an hour later
    ]
    for at in instants:
        order = paid_at_set(phone_order(store, [(cola, 1)]), at)
        apply(store.merchant, "order", order.pk)
    assert {key[:2]: cell[6] for key, cell in hours(store).items()} == {
        (date(2026, 3, 29), 1): 1,
        (date(2026, 3, 29), 3): 1,
        (date(2026, 10, 25), 0): 1,
        (date(2026, 10, 25), 2): 2,
    }
    # A shelf empty from 22:00 on the 28th to 12:00 on the 29th (local): 2 h, then 11 real hours, not 12.
    shelf_empty_record(
        merchant=store.merchant, store_product_id=cola.pk, at=datetime(2026, 3, 28, 21, 0, tzinfo=UTC), is_empty=True
    )
    shelf_empty_record(
        merchant=store.merchant, store_product_id=cola.pk, at=datetime(2026, 3, 29, 10, 0, tzinfo=UTC), is_empty=False
    )
    with merchant_context(store.merchant_id):
        from catalog.models import ShelfEmptyPeriod

        period = ShelfEmptyPeriod.objects.get(store_product=cola)
    assert apply(store.merchant, "shelf_empty", period.pk) == [True]
    days = product_days(store)
    assert days[(cola.pk, date(2026, 3, 28))] == {"minutes_shelf_empty": 120}
    assert days[(cola.pk, date(2026, 3, 29))]["minutes_shelf_empty"] == 660


def test_a_price_lookup_of_a_known_product_counts_and_an_unknown_code_does_not(
    store: Store, cola: StoreProduct
) -> None:
    product_lookup_record(store=store, code=code(cola), store_product=cola)
    product_lookup_record(store=store, code="4000000000000", store_product=None)
    assert facts_sweep(hours=1, settle_seconds=0) == 1
    [(key, values)] = product_days(store).items()
    assert key[0] == cola.pk
    assert values == {"price_lookups": 1}


def test_the_sweep_heals_a_missed_enqueue_once(store: Store, cola: StoreProduct, crisps: StoreProduct) -> None:
    # In this test no task runs at all (nothing is committed): every fact's enqueue is "lost".
    phone_order(store, [(cola, 1)])
    order = phone_order(store, [(crisps, 2)])
    refund(order, 50)
    assert facts_sweep(hours=1, settle_seconds=0) == 3
    assert facts_sweep(hours=1, settle_seconds=0) == 0
    [cell] = hours(store).values()
    assert cell == (209 + 2 * 186, 40 + 2 * 13, 0, 50, 0, 0, 2, 3)


def test_the_sweep_is_bounded_and_leaves_young_facts_to_their_task(store: Store, cola: StoreProduct) -> None:
    for _ in range(3):
        phone_order(store, [(cola, 1)])
    assert facts_sweep(hours=1, settle_seconds=600) == 0
    assert facts_sweep(hours=1, settle_seconds=0, limit=2) == 2
    assert facts_sweep(hours=1, settle_seconds=0, limit=2) == 1


def test_a_cent_refunded_over_two_equal_lines_goes_to_one_line_only(store: Store, cola: StoreProduct) -> None:
    twin = stocked(store, 5, price=249, product__tax_class="standard")
    order = phone_order(store, [(cola, 1), (twin, 1)])
    cent = refund(order, 1)
    assert apply(store.merchant, "refund", cent.pk) == [True]
    # Half a cent each: the tie goes to the earlier line, and the parts add up to the cent refunded.
    assert {key[0]: values for key, values in product_days(store).items()} == {cola.pk: {"refunds": 1}, twin.pk: {}}
