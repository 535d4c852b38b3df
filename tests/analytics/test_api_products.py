"""The Products report as JSON: each product's figures are the page's selector's and the raw orders'; dead stock
and price effects as the page reckons them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from analytics.selectors.products import product_rows
from analytics.services.facts import facts_sweep
from catalog.models import PriceChange, StoreProduct
from catalog.services.prices import price_set
from checkout.models import OrderLine
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import stocked
from tests.analytics.history import History, history_make
from tests.query_counts import bearer

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
JUNE = {"period": "custom", "start": "2026-06-10", "end": "2026-06-12", "compare": "none"}


@pytest.fixture
def history(store: Store, clerk: Any) -> History:
    made = history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    return made


@pytest.fixture
def idle(store: Store) -> StoreProduct:
    """On the shelf since before June and never sold: 12 on hand at 0,80 € cost."""
    item = stocked(store, 12, price=149, product__name="Rare Tonic")
    with merchant_context(store.merchant_id):
        StoreProduct.objects.filter(pk=item.pk).update(average_cost=80)
    return item


def _url(merchant: Merchant) -> str:
    return reverse("analytics:api_products", kwargs={"merchant_id": merchant.pk})


def _raw_units(store: Store, first: dt.date, last: dt.date) -> dict[int, list[int]]:
    """Per store product, units and net sales of the lines paid in those Berlin days, from checkout's rows."""
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    with merchant_context(store.merchant_id):
        for line in OrderLine.objects.filter(order__store=store, order__paid_at__isnull=False).select_related("order"):
            if first <= line.order.paid_at.astimezone(BERLIN).date() <= last:  # type: ignore[union-attr]
                sums[line.store_product_id][0] += line.quantity
                sums[line.store_product_id][1] += line.line_total - (
                    line.tax_amount if line.order.prices_include_tax else 0
                )
    return sums


def test_each_row_is_the_pages_and_the_raw_orders(
    merchant: Merchant, store: Store, owner: Any, history: History, idle: StoreProduct
) -> None:
    body = bearer(owner).get(_url(merchant), JUNE).json()
    assert (body["stores"], body["currency"], body["period"]) == (
        [store.pk],
        "EUR",
        {"start": "2026-06-10", "end": "2026-06-12"},
    )
    rows = {row["store_product_id"]: row for row in body["rows"]}
    raw = _raw_units(store, dt.date(2026, 6, 10), dt.date(2026, 6, 12))
    # Sold units here are before refunds, as the rollups count them; refunds are their own figure.
    for item in (history.cola, history.crisps):
        assert [rows[item.pk]["units"], rows[item.pk]["net_sales"]] == raw[item.pk], item.name
    assert rows[idle.pk]["units"] == rows[idle.pk]["net_sales"] == 0
    assert rows[idle.pk]["abc"] is None
    selected = product_rows(merchant=merchant, stores=[store], first=dt.date(2026, 6, 10), last=dt.date(2026, 6, 12))
    assert [row["store_product_id"] for row in body["rows"]] == [row.item.pk for row in selected]
    for row in selected:
        answer = rows[row.item.pk]
        assert answer["abc"] == (row.abc or None)
        assert answer["sell_through"] == (None if row.sell_through is None else str(row.sell_through))
        assert answer["days_of_cover"] == (None if row.days_of_cover is None else str(row.days_of_cover))
        assert answer["margin_rate"] == (None if row.margin_rate is None else str(row.margin_rate))
        assert (answer["on_hand"], answer["stock_value"]) == (row.item.on_hand, row.stock_value)
    # Crisps sold more net than cola on 10-12 June (5 × 1,86 € against 4 × 2,09 €), first; the cola's sales start at
    # 53 % of the total, before 80 %: both are A.
    assert [row["store_product_id"] for row in body["rows"][:2]] == [history.crisps.pk, history.cola.pk]
    assert (rows[history.crisps.pk]["net_sales"], rows[history.cola.pk]["net_sales"]) == (5 * 186, 4 * 209)
    assert (rows[history.crisps.pk]["abc"], rows[history.cola.pk]["abc"]) == ("A", "A")
    # The cola's cost was known on order a's two cans only (1,20 € each), of 4 sold: 2 × 2,09 € net - 2,40 €.
    cola = rows[history.cola.pk]
    assert (cola["units_known_cost"], cola["cost"], cola["gross_margin"]) == (2, 240, 2 * 209 - 240)
    assert cola["margin_rate"] == str((Decimal(2 * 209 - 240) / (2 * 209)).quantize(Decimal("0.001")))
    # Days of cover: on hand now over the period's rate of sale (3 days).
    with merchant_context(store.merchant_id):
        on_hand = StoreProduct.objects.get(pk=history.cola.pk).on_hand
    assert cola["days_of_cover"] == str((Decimal(on_hand) * 3 / cola["units"]).quantize(Decimal("0.1")))
    assert cola["last_sold"] == "2026-06-12"


def test_dead_stock_and_price_effects(
    merchant: Merchant, store: Store, owner: Any, history: History, idle: StoreProduct
) -> None:
    # The cola's price went up on 11 June (Berlin).
    price_set(merchant=merchant, store_product_id=history.cola.pk, price=259)
    with merchant_context(store.merchant_id):
        PriceChange.objects.filter(store_product=history.cola, old_price__isnull=False).update(
            changed_at=dt.datetime(2026, 6, 11, 10, tzinfo=dt.UTC)
        )
        on_hand = {item.pk: item.on_hand for item in StoreProduct.objects.filter(store=store)}
    body = bearer(owner).get(_url(merchant), JUNE).json()
    # Reckoned from today, months after June: everything on hand is dead, the tonic (worth most at cost) first.
    assert body["dead_days"] == 30
    dead = body["dead"]
    assert dead[0] == {
        "store_id": store.pk,
        "store_product_id": idle.pk,
        "name": "Rare Tonic",
        "on_hand": 12,
        "stock_value": 12 * 80,
        "last_sold": None,
    }
    assert {row["store_product_id"]: row["on_hand"] for row in dead} == {
        pk: units for pk, units in on_hand.items() if units > 0
    }
    assert body["dead_value"] == 12 * 80
    assert body["dead_unknown_cost"] == 2
    [effect] = body["price_effects"]
    assert (effect["store_product_id"], effect["old_price"], effect["new_price"], effect["day"]) == (
        history.cola.pk,
        249,
        259,
        "2026-06-11",
    )
    # 3 colas sold in the 14 days before 11 June (all on the 10th); the 14 days since sold 1 (on the 12th).
    assert effect["units_a_day_before"] == str((Decimal(3) / 14).quantize(Decimal("0.1")))
    assert (effect["units_a_day_after"], effect["days_after"], effect["window_days"]) == ("0.1", 14, 14)
    # In Berlin's summer time: 12:00 there.
    assert effect["changed_at"] == "2026-06-11T12:00:00+02:00"
    # Stock that sold within the days asked for is not dead; other days are refused.
    assert bearer(owner).get(_url(merchant), JUNE | {"dead": "90"}).json()["dead_days"] == 90
    refused = bearer(owner).get(_url(merchant), JUNE | {"dead": "45"})
    assert refused.status_code == 400
    assert "14, 30, 60, 90" in refused.json()["error"]["fields"]["dead"][0]


def test_dead_stock_leaves_out_what_sold_lately(merchant: Merchant, store: Store, owner: Any) -> None:
    from tests.analytics.conftest import phone_order

    fresh = stocked(store, 10, price=100, product__name="Fresh Bread")
    phone_order(store, [(fresh, 1)])
    facts_sweep(hours=24, settle_seconds=0, limit=100)
    body = bearer(owner).get(_url(merchant), {"period": "today"}).json()
    assert body["dead"] == []
    assert body["rows"][0]["last_sold"] == body["period"]["end"]
