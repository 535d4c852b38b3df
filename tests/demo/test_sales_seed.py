"""The demo's sales history: every store, every open day, phone and counter, with the shapes a real shop has.

Seeded for three weeks (across the change to summer time) ending at a fixed moment, so the
history is the same on every run and its figures can be asserted exactly.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q, Sum

from catalog.models import CountSession, MovementKind, PriceChange, StockMovement, StoreProduct
from catalog.selectors import ledger_violations
from checkout.models import CounterMethod, CounterPayment, Order, OrderLine, Refund, Shift
from demo.seed import accounts, catalog, sales
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, platform_access

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

NOW = dt.datetime(2026, 4, 5, 14, 0, tzinfo=dt.UTC)  # a Sunday; Berlin went to summer time on 29 March
DAYS = 21
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def seeded() -> list[Store]:
    accounts.demo_seed()
    catalog.demo_seed()
    assert sales.sales_seed(days=DAYS, now=NOW) is True
    with platform_access(reason="test", actor="test"):
        return list(Store.objects.select_related("merchant").order_by("pk"))


def _orders(store: Store) -> list[Order]:
    with merchant_context(store.merchant_id):
        return list(Order.objects.filter(store=store).order_by("paid_at"))


def _every_store_sells_every_open_day_by_phone_and_at_the_counter(seeded: list[Store]) -> None:
    first_day = NOW.astimezone(BERLIN).date() - dt.timedelta(days=DAYS - 1)
    per_store = {}
    for store in seeded:
        orders = _orders(store)
        days = Counter(o.paid_at.astimezone(BERLIN).date() for o in orders)  # type: ignore[union-attr]
        assert sorted(days) == [first_day + dt.timedelta(days=n) for n in range(DAYS)], store.name
        assert all(o.paid_at < NOW for o in orders)  # type: ignore[operator]
        # Within opening hours (07:00-22:00), in the store's own time, summer time included.
        assert {o.paid_at.astimezone(BERLIN).hour for o in orders} <= set(range(7, 22))  # type: ignore[union-attr]
        channels = Counter(o.channel for o in orders)
        with merchant_context(store.merchant_id):
            methods = Counter(CounterPayment.objects.filter(order__store=store).values_list("method", flat=True))
        per_store[store.name] = (
            len(orders),
            channels["shopper"],
            methods[CounterMethod.CASH],
            methods["external_card"],
        )
    # Deterministic: the same seeds and moment give the same history.
    assert per_store == {
        "Lindenstraße": (4791, 1715, 1687, 1389),
        "Bahnhof": (6547, 2354, 2284, 1909),
        "Am Park": (3742, 1315, 1353, 1074),
    }


def _hours_weekdays_and_products_have_a_real_shops_shape(seeded: list[Store]) -> None:
    by_hour: Counter[int] = Counter()
    evenings: dict[bool, list[int]] = defaultdict(list)
    units: Counter[int] = Counter()
    for store in seeded:
        per_evening: Counter[dt.date] = Counter()
        for order in _orders(store):
            local = order.paid_at.astimezone(BERLIN)  # type: ignore[union-attr]
            by_hour[local.hour] += 1
            if 19 <= local.hour < 22:
                per_evening[local.date()] += 1
        for day, count in per_evening.items():
            evenings[day.weekday() in (4, 5)].append(count)
        with merchant_context(store.merchant_id):
            units.update(
                dict(
                    OrderLine.objects.filter(order__store=store)
                    .values_list("store_product_id")
                    .annotate(units=Sum("quantity"))
                    .values_list("store_product_id", "units")
                )
            )
    assert by_hour[13] > 1.4 * by_hour[10]  # the lunch bump
    assert sum(evenings[True]) / len(evenings[True]) > 1.5 * sum(evenings[False]) / len(evenings[False])
    ranked = sorted(units.values(), reverse=True)
    assert sum(ranked[: len(ranked) // 5]) > 0.5 * sum(ranked)  # a fifth of the products sells over half


def _the_ledger_is_exact_and_in_time_order_with_stock_outs_counts_and_shrinkage(seeded: list[Store]) -> None:
    stock_out_days = 0
    for store in seeded:
        with merchant_context(store.merchant_id):
            assert ledger_violations(merchant=store.merchant) == []
            running: dict[int, int] = defaultdict(int)
            last: dict[int, StockMovement] = {}
            for movement in StockMovement.objects.filter(store=store).order_by("created_at", "pk"):
                running[movement.store_product_id] += movement.quantity
                # Replayed by time, each movement leaves what it says it left: the ledger's history holds.
                assert movement.on_hand_after == running[movement.store_product_id], movement.reference
                previous = last.get(movement.store_product_id)
                if (
                    movement.kind == MovementKind.RECEIPT
                    and previous is not None
                    and previous.on_hand_after == 0
                    and movement.created_at - previous.created_at > dt.timedelta(days=1)
                ):
                    stock_out_days += (movement.created_at - previous.created_at).days
                last[movement.store_product_id] = movement
            assert dict(running) == dict(
                StoreProduct.objects.filter(store=store, pk__in=list(running)).values_list("pk", "on_hand")
            )
            sessions = CountSession.objects.filter(store=store)
            assert [s.status for s in sessions] == ["closed"]
            shrinkage = StockMovement.objects.filter(store=store, kind=MovementKind.COUNT).aggregate(
                lost=Sum("quantity", filter=Q(quantity__lt=0)), found=Sum("quantity", filter=Q(quantity__gt=0))
            )
            assert shrinkage["lost"] < 0
    assert stock_out_days >= 3  # a few products sat empty for whole days, waiting for a delivery


def _refunds_price_changes_costs_and_tills_follow_the_services_rules(seeded: list[Store]) -> None:
    refunds = 0
    for store in seeded:
        with merchant_context(store.merchant_id):
            for order in (
                Order.objects.filter(store=store).exclude(status="paid").annotate(refunded=Sum("refunds__amount"))
            ):
                refunds += 1
                assert order.refunded == order.amount_refunded
                returned = StockMovement.objects.filter(reference__startswith=f"checkout.order:{order.pk}:").count()
                if order.status == "refunded":
                    assert order.amount_refunded == order.total
                    assert returned == order.lines.values("store_product").distinct().count()
                else:
                    assert order.status == "partially_refunded"
                    assert 0 < order.amount_refunded < order.total
                    assert returned == 0
            changes = PriceChange.objects.filter(store_product__store=store, old_price__isnull=False)
            assert changes.count() >= 3
            for change in changes:
                lines = OrderLine.objects.filter(store_product=change.store_product)
                before = set(lines.filter(order__paid_at__lt=change.changed_at).values_list("unit_price", flat=True))
                after = set(lines.filter(order__paid_at__gt=change.changed_at).values_list("unit_price", flat=True))
                assert before <= {change.old_price}
                assert after <= {change.new_price}
            items = {i.pk: i for i in StoreProduct.objects.filter(store=store).select_related("product")}
            costs = set(OrderLine.objects.filter(order__store=store).values_list("store_product_id", "unit_cost"))
            for item_id, cost in costs:
                item = items[item_id]
                assert cost == (item.product.wholesale_cost if item.product else None)
                assert cost == item.average_cost
            # One till a day: opened with the float, closed with the cash it took (today's still open).
            shifts = list(Shift.objects.filter(store=store).order_by("opened_at"))
            assert len(shifts) == DAYS
            assert [s.is_open for s in shifts] == [False] * (DAYS - 1) + [True]
            for shift in shifts[:-1]:
                cash = CounterPayment.objects.filter(shift=shift, method="cash").aggregate(total=Sum("amount"))
                assert shift.expected_cash == sales.OPENING_CASH + cash["total"]
    assert refunds > 0


def _the_sales_are_seeded_once() -> None:
    with platform_access(reason="test", actor="test"):
        before = (Order.objects.count(), StockMovement.objects.count(), Refund.objects.count())
    assert sales.sales_seed(days=DAYS, now=NOW + dt.timedelta(days=1)) is False
    with platform_access(reason="test", actor="test"):
        assert (Order.objects.count(), StockMovement.objects.count(), Refund.objects.count()) == before
        merchants = list(Merchant.objects.all())
    for merchant in merchants:
        with merchant_context(merchant.pk):
            assert ledger_violations(merchant=merchant) == []


def test_the_demo_sales_history(seeded: list[Store]) -> None:
    """One seeding (the catalog's images take a while), every property of the history checked on it."""
    _every_store_sells_every_open_day_by_phone_and_at_the_counter(seeded)
    _hours_weekdays_and_products_have_a_real_shops_shape(seeded)
    _the_ledger_is_exact_and_in_time_order_with_stock_outs_counts_and_shrinkage(seeded)
    _refunds_price_changes_costs_and_tills_follow_the_services_rules(seeded)
    _the_sales_are_seeded_once()
