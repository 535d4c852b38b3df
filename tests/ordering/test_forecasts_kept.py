"""Drafting keeps its forecasts day by day: each future day holds the newest forecast made before it."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.models import StoreProduct
from merchants.models import Store
from merchants.tenancy import merchant_context
from ordering.models import DemandForecast
from ordering.services import drafting
from tests.ordering.conftest import MONDAY_NOON

pytestmark = pytest.mark.django_db


def _kept(store: Store) -> dict[tuple[str, dt.date], DemandForecast]:
    with merchant_context(store.merchant_id):
        return {
            (row.store_product.name, row.day): row
            for row in DemandForecast.objects.filter(store=store).select_related("store_product__product")
        }


def test_a_draft_keeps_each_products_forecast_for_every_day_it_covers(
    store: Store, selling_store: dict[str, StoreProduct]
) -> None:
    drafting.purchase_order_draft(store=store, now=MONDAY_NOON)
    kept = _kept(store)
    # Monday 23 November, before Tuesday's cut-off: today, the lead day to Tuesday and three days to Friday.
    days = [dt.date(2026, 11, 23) + dt.timedelta(days=j) for j in range(4)]
    assert sorted(kept) == sorted((name, day) for name in ("Quellwerk Cola", "Knusper Chips") for day in days)
    assert {row.made_on for row in kept.values()} == {dt.date(2026, 11, 23)}
    cola = [kept["Quellwerk Cola", day].units for day in days]
    chips = [kept["Knusper Chips", day].units for day in days]
    # About six colas and one bag of chips a day: the kept forecast is the one the order was built on.
    assert all(4.0 < units < 8.5 for units in cola), cola
    assert all(0.3 < units < 2.0 for units in chips), chips
    assert kept["Quellwerk Cola", days[0]].sigma > 0
    assert selling_store["cola"].pk == kept["Quellwerk Cola", days[0]].store_product_id


def test_a_later_draft_replaces_the_forecast_of_days_still_ahead(
    store: Store, selling_store: dict[str, StoreProduct]
) -> None:
    del selling_store  # asked for so that the store sells and is supplied
    drafting.purchase_order_draft(store=store, now=MONDAY_NOON)
    first = _kept(store)
    # Wednesday: the draft for Friday forecasts from Wednesday on; Monday and Tuesday keep Monday's forecast.
    drafting.purchase_order_draft(store=store, now=MONDAY_NOON + dt.timedelta(days=2))
    later = _kept(store)
    monday, tuesday, wednesday = dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 25)
    assert later["Quellwerk Cola", monday].made_on == monday
    assert later["Quellwerk Cola", tuesday].units == first["Quellwerk Cola", tuesday].units
    assert later["Quellwerk Cola", wednesday].made_on == wednesday
    assert max(day for _name, day in later) > max(day for _name, day in first)


def test_another_merchant_sees_no_forecast(
    store: Store, other_store: Store, selling_store: dict[str, StoreProduct]
) -> None:
    del selling_store
    drafting.purchase_order_draft(store=store, now=MONDAY_NOON)
    with merchant_context(other_store.merchant_id):
        assert DemandForecast.objects.count() == 0
    with merchant_context(store.merchant_id):
        assert DemandForecast.objects.count() == 8
