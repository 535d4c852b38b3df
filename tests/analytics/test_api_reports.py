"""The Stock and losses, Baskets and Forecast against actual reports as JSON: the pages' selectors' figures, checked
against the raw rows they come from."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.baskets import baskets_of
from analytics.selectors.forecasts import forecast_accuracy
from analytics.selectors.losses import out_of_stock, unexplained_takes
from analytics.services.facts import facts_sweep
from catalog.models import ProductLookup, StoreProduct
from catalog.services.signals import product_lookup_record
from checkout.models import Order
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import DemandForecast
from sensing.models import EventKind, ReviewStatus, ShelfEvent, Slot
from sensing.services.cameras import camera_register
from tests.analytics.conftest import code, paid_at_set, phone_order, stocked
from tests.analytics.history import History, history_make
from tests.query_counts import bearer

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def history(store: Store, clerk: Any) -> History:
    made = history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    return made


def _url(name: str, merchant: Merchant) -> str:
    return reverse(f"analytics:{name}", kwargs={"merchant_id": merchant.pk})


def _berlin(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, tzinfo=BERLIN)


def _shelf_events(store: Store, item: StoreProduct, events: list[tuple[str, int, dt.datetime, str]]) -> None:
    """A camera whose one slot holds ``item``, and its events (kind, quantity, when, review)."""
    camera, _token = camera_register(merchant=store.merchant, store_id=store.pk, name="Drinks shelf")
    with merchant_context(store.merchant_id):
        slot = Slot.objects.create(
            merchant=store.merchant, camera=camera, key="s1", store_product=item, polygon=[[0, 0], [9, 0], [9, 9]],
            capacity=20,
        )  # fmt: skip
        for sequence, (kind, quantity, at, review) in enumerate(events, start=1):
            ShelfEvent.objects.create(
                merchant=store.merchant, camera=camera, slot=slot, sequence=sequence, kind=kind, quantity=quantity,
                confidence=0.9, occurred_at=at, review=review,
            )  # fmt: skip


def test_losses_are_the_pages_figures_and_the_raw_stock(
    merchant: Merchant, store: Store, owner: Any, history: History
) -> None:
    with merchant_context(store.merchant_id):
        DemandForecast.objects.create(
            merchant_id=store.merchant_id, store=store, store_product=history.crisps, day=dt.date(2026, 6, 10),
            units=2.4, sigma=1.0, made_on=dt.date(2026, 6, 9),
        )  # fmt: skip
        StoreProduct.objects.filter(pk=history.cola.pk).update(average_cost=120)
    take, back = EventKind.TAKE, EventKind.PUT_BACK
    events = [
        (take, 3, _berlin(11, 12), ReviewStatus.ACCEPTED),
        (back, 1, _berlin(11, 13), ReviewStatus.ACCEPTED),
        (take, 2, _berlin(12, 10), ReviewStatus.CONFIRMED),
        (take, 5, _berlin(12, 11), ReviewStatus.REJECTED),
    ]
    _shelf_events(store, history.cola, events)
    params = {"period": "custom", "start": "2026-06-09", "end": "2026-06-12"}
    body = bearer(owner).get(_url("api_losses", merchant), params).json()
    with merchant_context(store.merchant_id):
        on_hand = list(StoreProduct.objects.filter(store=store, on_hand__gt=0).values_list("on_hand", "average_cost"))
    assert body["stock_value"] == {
        "value": sum(units * cost for units, cost in on_hand if cost is not None),
        "products": len(on_hand),
        "unknown_cost": sum(1 for _units, cost in on_hand if cost is None),
    }
    assert body["stock_value"]["unknown_cost"] == 1  # the crisps
    # The crisps were out from 10 June 10:00 to 11 June 10:30 (Berlin): 24.5 hours; the 2.4 forecast for the 10th
    # × 840/1440 of that day = 1.4 units at 1,99 €. The cola's shelf was empty 22:00-04:00 on 11-12 June.
    outs = {row["store_product_id"]: row for row in body["out_of_stock"]}
    assert outs[history.crisps.pk] == {
        "store_id": store.pk, "store_product_id": history.crisps.pk, "name": history.crisps.name, "hours": "24.5",
        "lost_units": "1.4", "lost_sales": 279,
    }  # fmt: skip
    assert outs[history.cola.pk]["hours"] == "6.0"
    assert [row["store_product_id"] for row in body["out_of_stock"]] == [
        row.item.pk
        for row in out_of_stock(merchant=merchant, stores=[store], first=dt.date(2026, 6, 9), last=dt.date(2026, 6, 12))
    ]
    # The crisps left after the sales were written off as damaged: 46 units whose cost is unknown.
    assert body["shrinkage"] == [{"reason": "Damaged", "movements": 1, "units": -46, "value": 0}]
    # Cola taken: 3 - 1 put back on 11 June, when none sold; 2 on 12 June, when 1 sold; the rejected take is no take.
    assert body["unexplained_takes"] == [
        {
            "store_id": store.pk,
            "store_product_id": history.cola.pk,
            "name": history.cola.name,
            "taken": 4,
            "sold": 1,
            "unexplained": 3,
        }
    ]
    [row] = unexplained_takes(merchant=merchant, stores=[store], first=dt.date(2026, 6, 9), last=dt.date(2026, 6, 12))
    assert (row.taken, row.sold, row.unexplained) == (4, 1, 3)


def test_baskets_pairs_and_look_to_buy_are_the_raw_orders(merchant: Merchant, store: Store, owner: Any) -> None:
    """Eight baskets on 3 June: cola + crisps ×5, cola alone, two waters ×2; the cola looked up three times."""
    cola, crisps, water = (stocked(store, 100, price=price, product__name=name) for name, price in (
        ("Quellwerk Cola", 249), ("Knusper Chips", 199), ("Still Water", 99)
    ))  # fmt: skip
    noon = dt.datetime(2026, 6, 3, 10, tzinfo=dt.UTC)
    for quantities in [[(cola, 1), (crisps, 1)]] * 5 + [[(cola, 1)]] + [[(water, 2)]] * 2:
        paid_at_set(phone_order(store, quantities), noon)
    for _ in range(3):
        product_lookup_record(store=store, code=code(cola), store_product=cola)
    with merchant_context(store.merchant_id):
        ProductLookup.objects.filter(store=store).update(looked_up_at=noon)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)

    params = {"period": "custom", "start": "2026-06-03", "end": "2026-06-03"}
    body = bearer(owner).get(_url("api_baskets", merchant), params).json()
    with merchant_context(store.merchant_id):
        paid = [(sum(line.quantity for line in order.lines.all()), order.total) for order in Order.objects.sold()]
    assert body["baskets"] == len(paid) == 8

    def counted(buckets: list[dict[str, Any]], measure: int) -> dict[str, int]:
        """How many of the raw baskets fall within each bucket's bounds, as the answer gives them."""
        return {
            bucket["name"]: sum(
                1
                for basket in paid
                if bucket["low"] <= basket[measure] and (bucket["high"] is None or basket[measure] <= bucket["high"])
            )
            for bucket in buckets
        }

    assert {bucket["name"]: bucket["baskets"] for bucket in body["sizes"]} == counted(body["sizes"], 0)
    assert {bucket["name"]: bucket["baskets"] for bucket in body["values"]} == counted(body["values"], 1)
    assert body["sizes"][:2] == [
        {"name": "1 item", "low": 1, "high": 1, "baskets": 1},
        {"name": "2 items", "low": 2, "high": 2, "baskets": 7},
    ]
    assert body["values"][-1] == {"name": "20,00\xa0€ or more", "low": 2000, "high": None, "baskets": 0}
    # Cola + crisps in 5 of 8 baskets; cola is in 6, crisps in 5: confidence 5/6, lift 5·8 / (6·5).
    assert body["pairs"] == [
        {
            "first": "Quellwerk Cola",
            "second": "Knusper Chips",
            "baskets": 5,
            "support": "0.625",
            "confidence": "0.833",
            "lift": "1.33",
        }
    ]
    found = baskets_of(merchant=merchant, stores=[store], first=dt.date(2026, 6, 3), last=dt.date(2026, 6, 3))
    assert [(pair.baskets, str(pair.lift)) for pair in found.pairs] == [(5, "1.33")]
    assert body["min_pair_baskets"] == 3
    assert body["look_to_buy"] == [{"name": "Quellwerk Cola", "lookups": 3, "units": 6}]


def test_forecasts_against_what_sold_per_category_over_the_days_that_ended(
    merchant: Merchant, store: Store, owner: Any
) -> None:
    """A drink sold 3 and 1 on 1-2 June against forecasts of 2.0 and 2.5; the store's own bread sold 2 on 1 June
    against 1.0 (Berlin noon)."""
    cola = stocked(store, 30, price=249, product__name="Quellwerk Cola")  # the factory's products are drinks
    bread = stocked(store, 30, price=50, product__name="Bread roll", product__category=None)
    sold = {(cola, 1): 3, (cola, 2): 1, (bread, 1): 2}
    for (item, day), units in sold.items():
        paid_at_set(phone_order(store, [(item, units)]), dt.datetime(2026, 6, day, 10, tzinfo=dt.UTC))
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=100)
    with merchant_context(store.merchant_id):
        for (item, day), units in {(cola, 1): 2.0, (cola, 2): 2.5, (bread, 1): 1.0}.items():
            DemandForecast.objects.create(
                merchant_id=store.merchant_id, store=store, store_product=item, day=dt.date(2026, 6, day),
                units=units, sigma=1.0, made_on=dt.date(2026, 5, 31),
            )  # fmt: skip
    params = {"period": "custom", "start": "2026-06-01", "end": "2026-06-02"}
    body = bearer(owner).get(_url("api_forecasts", merchant), params).json()
    assert (body["stores"], body["through"]) == ([store.pk], "2026-06-02")
    # Drinks: 4.5 against 4, errors 1 + 1.5 → WAPE 2.5 / 4, bias 4.5 / 4 - 1. Bread: 1.0 against 2 → 1 / 2, -0.5.
    # All: 5.5 against 6, errors 3.5 → 0.583, bias -0.083. Largest sales first, All last.
    assert [list(row.values()) for row in body["rows"]] == [
        ["Drinks", 2, "4.5", 4, "2.500", "0.625", "0.125"],
        ["Own and uncategorised products", 1, "1.0", 2, "1.000", "0.500", "-0.500"],
        ["All", 3, "5.5", 6, "3.500", "0.583", "-0.083"],
    ]
    assert [row["actual"] for row in body["rows"][:2]] == [
        sum(units for (item, _day), units in sold.items() if item == product) for product in (cola, bread)
    ]
    selected = forecast_accuracy(merchant=merchant, stores=[store], first=dt.date(2026, 6, 1), last=dt.date(2026, 6, 2))
    assert [row["wape"] for row in body["rows"]] == [str(row.wape) for row in selected]
    # Today has not ended: a period of today alone has no day to count; the last 7 days count up to yesterday.
    today = bearer(owner).get(_url("api_forecasts", merchant), {"period": "today"}).json()
    assert (today["through"], today["rows"]) == (None, [])
    week = bearer(owner).get(_url("api_forecasts", merchant), {"period": "7d"}).json()
    yesterday = timezone.localtime(timezone=BERLIN).date() - dt.timedelta(days=1)
    assert week["through"] == yesterday.isoformat()
