"""The Sales and Stores reports as JSON: the breakdowns and the stores side by side equal the pages' selectors and
the raw orders; the summary compares a running period as the page does."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.categories import category_ranges
from analytics.selectors.sales import sales_ranges
from analytics.selectors.stores import sales_by_store
from analytics.services.facts import facts_sweep
from checkout.models import Order, OrderLine
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import paid_at_set, phone_order, stocked
from tests.analytics.history import History, history_make
from tests.factories import StoreFactory
from tests.query_counts import bearer

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
JUNE = {"period": "custom", "start": "2026-06-11", "end": "2026-06-12", "compare": "previous"}


@pytest.fixture
def history(store: Store, clerk: Any) -> History:
    made = history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    return made


def _url(name: str, merchant: Merchant) -> str:
    return reverse(f"analytics:{name}", kwargs={"merchant_id": merchant.pk})


def _raw(stores: list[Store], first: dt.date, last: dt.date) -> dict[str, dict[str, int]]:
    """Net sales of the orders paid in those Berlin days, by channel, payment method and store, from checkout's rows."""
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with merchant_context(stores[0].merchant_id):
        lines = OrderLine.objects.filter(order__store__in=stores, order__paid_at__isnull=False).select_related(
            "order__counter_payment"
        )
        for line in lines:
            order: Order = line.order
            if first <= order.paid_at.astimezone(BERLIN).date() <= last:  # type: ignore[union-attr]
                net = line.line_total - (line.tax_amount if order.prices_include_tax else 0)
                method = order.counter_payment.method if hasattr(order, "counter_payment") else "online_card"
                sums["channel"][order.channel] += net
                sums["method"][method] += net
                sums["store"][str(order.store_id)] += net
    return sums


def test_the_breakdown_is_the_raw_orders_by_channel_method_category_and_clerk(
    merchant: Merchant, store: Store, owner: Any, clerk: Any, history: History
) -> None:
    del history
    get_user_model().objects.filter(pk=clerk.pk).update(first_name="Carla", last_name="Clerk")
    body = bearer(owner).get(_url("api_sales_breakdown", merchant), JUNE).json()
    assert (body["stores"], body["currency"]) == ([store.pk], "EUR")
    assert (body["period"], body["comparison"]) == (
        {"start": "2026-06-11", "end": "2026-06-12"},
        {"start": "2026-06-09", "end": "2026-06-10"},
    )
    for side, first, last in (("current", 11, 12), ("previous", 9, 10)):
        raw = _raw([store], dt.date(2026, 6, first), dt.date(2026, 6, last))
        figures = body[side]
        assert {row["key"]: row["net_sales"] for row in figures["channels"]} == raw["channel"], side
        assert {row["key"]: row["net_sales"] for row in figures["payment_methods"]} == raw["method"], side
        # The factory's products are all drinks: every sale under one top-level category.
        assert figures["categories"] == [{"category": "Drinks", "net_sales": sum(raw["channel"].values())}]
        # And each row is the page's selector's, figure for figure.
        selected = sales_ranges(
            merchant=merchant, stores=[store], ranges=[(dt.date(2026, 6, first), dt.date(2026, 6, last))]
        )[0].breakdown("payment_method")
        for row in figures["payment_methods"]:
            summary = selected[row["key"]]
            assert (row["tax"], row["units"], row["transactions"], row["refunds"]) == (
                summary.tax,
                summary.units,
                summary.transactions,
                summary.refunds,
            )
            assert row["average_basket"] == summary.average_basket
    # 11-12 June: two phone orders, 5,58 € and 2,09 € net; 9-10 June: a phone order 6,04 € and a cash sale 3,95 €.
    assert [(row["key"], row["name"], row["net_sales"]) for row in body["previous"]["payment_methods"]] == [
        ("online_card", "Card (phone)", 604),
        ("cash", "Cash", 395),
    ]
    assert [row["name"] for row in body["current"]["channels"]] == ["Scan and pay"]
    # The one counter sale was on 10 June: rung up by the clerk, in the comparison only.
    assert body["current"]["clerks"] == []
    assert body["previous"]["clerks"] == [{"clerk": "Carla Clerk", "sales": 1, "net_sales": 395, "lines_voided": 0}]


def test_the_breakdown_without_a_comparison(merchant: Merchant, store: Store, owner: Any, history: History) -> None:
    del history
    params = JUNE | {"compare": "none"}
    body = bearer(owner).get(_url("api_sales_breakdown", merchant), params).json()
    assert (body["comparison"], body["previous"]) == (None, None)
    categories = category_ranges(
        merchant=merchant, stores=[store], ranges=[(dt.date(2026, 6, 11), dt.date(2026, 6, 12))]
    )[0]
    assert body["current"]["categories"] == [{"category": name, "net_sales": n} for name, n in categories.items()]


def test_stores_side_by_side_are_each_stores_raw_orders(
    merchant: Merchant, store: Store, other_store: Store, owner: Any
) -> None:
    bahnhof = StoreFactory(merchant=merchant, name="Bahnhof", code="BAHNHOF")
    cola = stocked(store, 10, price=238, product__tax_class="standard")  # 2,00 € net
    water = stocked(bahnhof, 10, price=119, product__tax_class="standard")  # 1,00 € net
    phone_order(store, [(cola, 2)])
    phone_order(bahnhof, [(water, 3)])
    # Yesterday: the comparison of "today".
    paid_at_set(phone_order(store, [(cola, 1)]), timezone.now() - dt.timedelta(days=1))
    phone_order(other_store, [(stocked(other_store, 5, price=2380), 1)])  # another merchant's: never counted
    facts_sweep(hours=48, settle_seconds=0, limit=100)

    body = bearer(owner).get(_url("api_stores", merchant), {"period": "today", "compare": "previous"}).json()
    today = timezone.localtime(timezone=BERLIN).date()
    raw = _raw([store, bahnhof], today, today)["store"]
    before = _raw([store, bahnhof], today - dt.timedelta(days=1), today - dt.timedelta(days=1))["store"]
    rows = {row["name"]: row for row in body["rows"]}
    assert list(rows) == ["Bahnhof", store.name]  # by name, as the page lists them
    assert rows[store.name]["current"]["net_sales"] == raw[str(store.pk)] == 400
    assert rows["Bahnhof"]["current"]["net_sales"] == raw[str(bahnhof.pk)] == 300
    assert rows["Bahnhof"]["current"]["units"] == 3
    assert rows[store.name]["previous"]["net_sales"] == before.get(str(store.pk), 0)
    assert rows["Bahnhof"]["previous"]["transactions"] == 0
    assert (rows["Bahnhof"]["store_id"], rows["Bahnhof"]["code"]) == (bahnhof.pk, "BAHNHOF")
    selected = sales_by_store(merchant=merchant, stores=[bahnhof, store], first=today, last=today)
    for row in body["rows"]:
        summary = selected[row["store_id"]]
        assert (row["current"]["gross_margin"], row["current"]["average_basket"]) == (
            summary.gross_margin,
            summary.average_basket,
        )
    # ?store= puts only the stores asked for side by side.
    only = bearer(owner).get(_url("api_stores", merchant), {"period": "today", "store": bahnhof.pk}).json()
    assert [row["store_id"] for row in only["rows"]] == [bahnhof.pk]


def test_a_running_period_is_compared_with_the_same_hours_as_on_the_page(
    merchant: Merchant, store: Store, owner: Any
) -> None:
    cola = stocked(store, 20, price=238, product__tax_class="standard")  # 2,00 € net
    now = timezone.now()
    phone_order(store, [(cola, 1)])
    # A week ago, "today" of the comparison: a sale at this hour counts, one an hour later does not yet.
    paid_at_set(phone_order(store, [(cola, 2)]), now - dt.timedelta(days=7))
    paid_at_set(phone_order(store, [(cola, 5)]), now - dt.timedelta(days=7) + dt.timedelta(hours=1))
    facts_sweep(hours=24 * 30, settle_seconds=0, limit=100)
    body = bearer(owner).get(_url("api_sales_summary", merchant), {"period": "7d", "compare": "previous"}).json()
    assert body["previous"]["net_sales"] == 400
    assert body["previous"]["units"] == 2
    # A period that has ended is compared whole.
    today = timezone.localtime(timezone=BERLIN).date()
    ended = {"period": "custom", "start": str(today - dt.timedelta(days=13)), "end": str(today - dt.timedelta(days=7))}
    whole = bearer(owner).get(_url("api_sales_summary", merchant), ended | {"compare": "none"}).json()
    later = (now - dt.timedelta(days=7) + dt.timedelta(hours=1)).astimezone(BERLIN).date()
    assert whole["current"]["units"] == 2 + (5 if later == today - dt.timedelta(days=7) else 0)
