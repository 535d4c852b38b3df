"""Query counts of the analytics endpoints, pinned for 1 and for 20 of everything they list (products, stores, pairs,
price changes, outs, takes, counter sales): the same number for both, so no endpoint queries once a row."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.services.facts import facts_sweep
from catalog.models import AdjustmentReason, MovementKind, StoreProduct
from catalog.services.prices import price_set
from catalog.services.signals import product_lookup_record, shelf_empty_record
from catalog.services.stock import stock_move
from checkout.services import counter, shifts
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import DemandForecast
from sensing.models import EventKind, ShelfEvent, Slot
from sensing.services.cameras import camera_register
from tests.analytics.conftest import code, phone_order, stocked
from tests.factories import StoreFactory
from tests.query_counts import ROWS, bearer

pytestmark = pytest.mark.django_db
WEEK = {"period": "7d", "compare": "previous"}
# Per endpoint, the queries of one request after a warm-up: the request's own 9 (its savepoint and tenancy settings,
# the token, the merchant, the membership, the stores), then 1 for each query of a selector, whether read in the
# request's context or in a tenancy context of its own (the merchant is already in force: nothing is set, and a
# context that only reads opens no savepoint), and 1 for each outside one (category names).
QUERIES = {
    "api_sales_summary": 10,
    "api_sales_hours": 10,
    "api_sales_products": 10,
    "api_sales_breakdown": 14,
    "api_products": 14,
    "api_stores": 11,
    "api_losses": 17,
    "api_baskets": 15,
    "api_forecasts": 12,
    "api_day_report": 16,
}


def _busy(merchant: Merchant, store: Store, owner: Any, rows: int) -> None:
    """Rows products sold together (and with a bag) in three baskets and once each at the counter, each repriced, looked up, taken
    off a watched shelf, forecast for yesterday and written off to nothing; and rows - 1 more stores."""
    items = [stocked(store, 10, price=100 + n, product__name=f"Product {n:02}") for n in range(rows)]
    # A bag in every basket: each product makes a pair with it, one row or twenty.
    bag = stocked(store, 10, price=10, product__name="Carrier bag")
    for _ in range(3):
        phone_order(store, [(item, 1) for item in [*items, bag]])
    shift = shifts.shift_open(store=store, opened_by=owner, opening_cash=1000)
    for item in items:
        sale = counter.counter_sale_start(shift=shift, clerk=owner)
        counter.counter_lines_scan(order=sale, codes=[code(item)])
        counter.counter_pay_external_card(order=sale, recorded_by=owner)
    camera, _token = camera_register(merchant=merchant, store_id=store.pk, name="Shelf")
    now = timezone.now()
    yesterday = timezone.localdate(now, timezone=ZoneInfo(store.timezone)) - dt.timedelta(days=1)
    for n, item in enumerate(items):
        price_set(merchant=merchant, store_product_id=item.pk, price=item.price + 10)
        product_lookup_record(store=store, code=code(item), store_product=item)
        for hours_ago, is_empty in ((2, True), (1, False)):
            at = now - dt.timedelta(hours=hours_ago)
            shelf_empty_record(merchant=merchant, store_product_id=item.pk, at=at, is_empty=is_empty)
        with merchant_context(merchant.pk):
            left = StoreProduct.objects.get(pk=item.pk).on_hand
            DemandForecast.objects.create(
                merchant=merchant, store=store, store_product=item, day=yesterday, units=1.5, sigma=1.0,
                made_on=yesterday - dt.timedelta(days=1),
            )  # fmt: skip
            slot = Slot.objects.create(
                merchant=merchant, camera=camera, key=f"s{n}", store_product=item, polygon=[[0, 0], [9, 0], [9, 9]],
                capacity=20,
            )  # fmt: skip
            ShelfEvent.objects.create(
                merchant=merchant, camera=camera, slot=slot, sequence=n + 1, kind=EventKind.TAKE, quantity=6,
                confidence=0.9, occurred_at=now,
            )  # fmt: skip
        stock_move(
            merchant=merchant, store_product_id=item.pk, kind=MovementKind.WRITE_OFF, quantity=-left,
            reason=AdjustmentReason.DAMAGED,
        )  # fmt: skip
    for n in range(rows - 1):
        StoreFactory(merchant=merchant, name=f"Filiale {n:02}")
    facts_sweep(hours=24, settle_seconds=0, limit=10_000)


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts(rows: int, merchant: Merchant, store: Store, owner: Any) -> None:
    _busy(merchant, store, owner, rows)
    client = bearer(owner)
    counted = {}
    for name in QUERIES:
        url = reverse(f"analytics:{name}", kwargs={"merchant_id": merchant.pk})
        params = {"store": store.pk} | (
            {"day": timezone.localdate(timezone=ZoneInfo(store.timezone)).isoformat()}
            if name == "api_day_report"
            else WEEK
        )
        client.get(url, params)  # the token's last use and the content types warm up
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        assert response.status_code == 200, (name, response.content)
        counted[name] = len(queries)
    body = client.get(reverse("analytics:api_products", kwargs={"merchant_id": merchant.pk}), WEEK).json()
    # Every list is as long as the rows made (and the bag; pairs: one per two products, at most 20).
    assert [len(body[key]) for key in ("rows", "price_effects")] == [rows + 1, rows]
    losses = client.get(reverse("analytics:api_losses", kwargs={"merchant_id": merchant.pk}), WEEK).json()
    assert [len(losses[key]) for key in ("out_of_stock", "unexplained_takes")] == [rows, rows]
    baskets = client.get(reverse("analytics:api_baskets", kwargs={"merchant_id": merchant.pk}), WEEK).json()
    assert len(baskets["pairs"]) == min((rows + 1) * rows // 2, 20)
    stores = client.get(reverse("analytics:api_stores", kwargs={"merchant_id": merchant.pk}), WEEK).json()
    assert len(stores["rows"]) == rows
    assert counted == QUERIES
