"""The figures the pages show, read from the rollups, against the same figures summed from the raw rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from analytics.models import ProductDay, SalesHour
from analytics.selectors.sales import sales_by_hour, sales_by_product, sales_ranges, sales_summary
from analytics.services.facts import facts_sweep
from checkout.models import Order, OrderLine, Refund
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import phone_order, stocked
from tests.analytics.history import History, history_make

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
FIRST, LAST = date(2026, 6, 10), date(2026, 6, 11)


@pytest.fixture
def history(store: Store, clerk: Any) -> History:
    made = history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    return made


def _raw_lines(store: Store, first: date, last: date) -> list[tuple[Order, OrderLine]]:
    """Paid order lines of the local days, straight from checkout's tables, days taken in Python."""
    with merchant_context(store.merchant_id):
        lines = OrderLine.objects.filter(order__store=store, order__paid_at__isnull=False).select_related("order")
        return [(line.order, line) for line in lines if first <= line.order.paid_at.astimezone(BERLIN).date() <= last]


def _net(order: Order, line: OrderLine) -> int:
    return line.line_total - (line.tax_amount if order.prices_include_tax else 0)


def test_the_summary_matches_the_raw_orders_and_refunds(history: History) -> None:
    lines = _raw_lines(history.store, FIRST, LAST)
    with merchant_context(history.store.merchant_id):
        refunds = [
            r.amount
            for r in Refund.objects.filter(order__store=history.store)
            if FIRST <= r.created_at.astimezone(BERLIN).date() <= LAST
        ]
    summary = sales_summary(merchant=history.store.merchant, stores=[history.store], first=FIRST, last=LAST)
    known = [(order, line) for order, line in lines if line.unit_cost is not None]
    assert summary.net_sales == sum(_net(o, line) for o, line in lines) == 604 + (209 + 186) + 558
    assert summary.tax == sum(line.tax_amount for _, line in lines)
    assert summary.units == sum(line.quantity for _, line in lines) == 3 + 2 + 3
    assert summary.transactions == len({o.pk for o, _ in lines}) == 3
    assert summary.refunds == sum(refunds) == 100
    assert summary.cost == sum(line.unit_cost * line.quantity for _, line in known) == 240 + 270  # type: ignore[operator]
    assert summary.net_sales_known_cost == sum(_net(o, line) for o, line in known) == 418 + 558
    assert summary.gross_margin == 976 - 510
    assert summary.margin_rate == Decimal("0.4775")  # 466 / 976
    assert summary.average_basket == 519  # 1557 / 3
    breakdown = sales_ranges(merchant=history.store.merchant, stores=[history.store], ranges=[(FIRST, LAST)])[
        0
    ].breakdown("payment_method")
    assert {method: (s.net_sales, s.transactions) for method, s in breakdown.items()} == {
        "online_card": (604 + 558, 2),
        "cash": (209 + 186, 1),
    }


def test_sales_by_hour_match_the_raw_orders_hour_by_hour(history: History) -> None:
    expected: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0, set()])  # type: ignore[list-item]
    for order, line in _raw_lines(history.store, FIRST, date(2026, 6, 12)):
        local = order.paid_at.astimezone(BERLIN)  # type: ignore[union-attr]
        cell = expected[(local.date(), local.hour)]
        cell[0] += _net(order, line)
        cell[1] += line.quantity
        cell[2].add(order.pk)  # type: ignore[attr-defined]
    rows = sales_by_hour(merchant=history.store.merchant, stores=[history.store], first=FIRST, last=date(2026, 6, 12))
    sold = {(r.local_date, r.hour): (r.net_sales, r.units, r.transactions) for r in rows if r.transactions}
    assert sold == {key: (net, units, len(orders)) for key, (net, units, orders) in expected.items()}
    assert [(r.local_date, r.hour) for r in rows] == sorted((r.local_date, r.hour) for r in rows)
    assert sum(r.refunds for r in rows) == 100 + 597 + 50


def test_sales_by_product_match_the_raw_lines(history: History) -> None:
    expected: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for order, line in _raw_lines(history.store, FIRST, LAST):
        expected[line.store_product_id][0] += line.quantity
        expected[line.store_product_id][1] += _net(order, line)
    rows = sales_by_product(merchant=history.store.merchant, stores=[history.store], first=FIRST, last=LAST)
    assert {r.store_product_id: [r.units, r.net_sales] for r in rows} == dict(expected)
    by_id = {r.store_product_id: r for r in rows}
    assert [r.name for r in rows] == ["Knusper Chips", "Quellwerk Cola"]  # 930 of net sales before 627
    assert (by_id[history.cola.pk].units_known_cost, by_id[history.cola.pk].gross_margin) == (2, 418 - 240)
    assert by_id[history.crisps.pk].minutes_out_of_stock == 840 + 630
    assert (by_id[history.cola.pk].minutes_shelf_empty, by_id[history.cola.pk].price_lookups) == (120, 1)


def test_another_merchants_rollups_are_invisible(
    history: History, other_merchant: Merchant, other_store: Store
) -> None:
    item = stocked(other_store, 5, price=999)
    phone_order(other_store, [(item, 1)])
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    today = date(2100, 1, 1)  # any day after the order, whatever the clock says
    # Asking for the other merchant's store in our merchant's name finds nothing.
    for merchant, stores in ((history.store.merchant, [other_store]), (other_merchant, [history.store])):
        assert sales_summary(merchant=merchant, stores=stores, first=date(2026, 1, 1), last=today).transactions == 0
        assert sales_by_hour(merchant=merchant, stores=stores, first=date(2026, 1, 1), last=today) == []
        assert sales_by_product(merchant=merchant, stores=stores, first=date(2026, 1, 1), last=today) == []
    # And row-level security hides the rows even without the merchant filter.
    with merchant_context(history.store.merchant_id):
        assert set(SalesHour.objects.values_list("store_id", flat=True)) == {history.store.pk}
        assert set(ProductDay.objects.values_list("merchant_id", flat=True)) == {history.store.merchant_id}
    with merchant_context(other_merchant.pk):
        assert SalesHour.objects.get().net_sales == 839  # 9,99 with 1,60 of 19 % inside
    assert sales_summary(merchant=other_merchant, stores=[other_store], first=date(2026, 1, 1), last=today).units == 1


def test_the_sales_pages_one_read_agrees_with_the_summaries_for_every_cut(
    merchant: Merchant, store: Store, history: History
) -> None:
    """The Sales page derives each period's figures from one grouped read; the Overview sums them in the database.
    Both agree for two periods read at once, and for a running day cut after each hour."""
    from analytics.selectors.sales import sales_ranges, sales_summaries

    del history
    ranges = [(date(2026, 6, 11), date(2026, 6, 12)), (date(2026, 6, 9), date(2026, 6, 10))]
    read = sales_ranges(merchant=merchant, stores=[store], ranges=ranges)
    for cells, (first, last) in zip(read, ranges, strict=True):
        windows = [(first, last, None), *((first, last, hour) for hour in range(24))]
        expected = sales_summaries(merchant=merchant, stores=[store], windows=windows)
        assert cells.summary() == expected[0]
        assert [cells.summary(last_hour=hour) for hour in range(24)] == expected[1:]
        assert cells.summary().net_sales > 0
        assert cells.hours() == sales_by_hour(merchant=merchant, stores=[store], first=first, last=last)
        by_channel = cells.breakdown("channel")
        assert sum(row.net_sales for row in by_channel.values()) == cells.summary().net_sales
    # The two periods are kept apart: 11-12 June has no counter sale, 9-10 June has the one.
    assert set(read[0].breakdown("payment_method")) == {"online_card"}
    assert set(read[1].breakdown("payment_method")) == {"online_card", "cash"}
