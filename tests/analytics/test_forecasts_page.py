"""Forecast against actual: kept forecasts against the units sold, per category, WAPE and bias exact."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from analytics.services.facts import facts_sweep
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import DemandForecast
from tests.analytics.conftest import paid_at_set, phone_order, stocked

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_forecasts_are_held_against_what_sold(merchant: Merchant, store: Store, owner: Any, other_store: Store) -> None:
    cola = stocked(store, 30, price=249, product__name="Quellwerk Cola", product__category=None)
    # 3 sold on 1 June, 1 on 2 June (Berlin noon); the forecasts expected 2.0 and 2.5.
    for day, units in ((1, 3), (2, 1)):
        paid_at_set(phone_order(store, [(cola, units)]), dt.datetime(2026, 6, day, 10, tzinfo=dt.UTC))
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=100)
    with merchant_context(store.merchant_id):
        for day, units in ((1, 2.0), (2, 2.5)):
            DemandForecast.objects.create(
                merchant_id=store.merchant_id, store=store, store_product=cola, day=dt.date(2026, 6, day),
                units=units, sigma=1.0, made_on=dt.date(2026, 5, 31),
            )  # fmt: skip

    url = reverse("analytics:forecasts", kwargs={"slug": merchant.slug})
    body = _client(owner).get(url, {"period": "custom", "start": "2026-06-01", "end": "2026-06-02"}).content.decode()
    table = body.split('id="forecast-table"')[1].split("</table>")[0]
    row = table.split("Own and uncategorised products</th>")[1].split("</tr>")[0]
    # Forecast 4.5 against 4 sold: errors 1 + 1.5 = 2.5 → WAPE 62.5 %; 4.5 / 4 - 1 → bias +12.5 %.
    assert '<td class="num">2</td><td class="num">4.5</td><td class="num">4</td>' in row
    assert '<td class="num">62,5\xa0%</td><td class="num">+12,5\xa0%</td>' in row
    assert "All</th>" in table
    assert other_store.name not in body
    assert _client(owner).get(url, {"store": other_store.pk}).status_code == 404
