"""Stores side by side: each store's own figures over the same period, the merchant's stores only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from analytics.services.facts import facts_sweep
from core.money import format_amount
from merchants.models import Merchant, Store
from tests.analytics.conftest import phone_order, stocked
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_each_store_shows_its_own_sales(
    merchant: Merchant, store: Store, other_store: Store, owner: Any, clerk: Any
) -> None:
    bahnhof = StoreFactory(merchant=merchant, name="Bahnhof")
    cola = stocked(store, 10, price=238, product__tax_class="standard")  # 2,00 € net
    water = stocked(bahnhof, 10, price=119, product__tax_class="standard")  # 1,00 € net
    phone_order(store, [(cola, 2)])
    phone_order(bahnhof, [(water, 3)])
    phone_order(other_store, [(stocked(other_store, 5, price=2380), 1)])  # another merchant's: never shown
    facts_sweep(hours=24, settle_seconds=0, limit=100)

    url = reverse("analytics:stores", kwargs={"slug": merchant.slug})
    body = _client(owner).get(url, {"period": "today", "compare": "none"}).content.decode()
    table = body.split('id="stores-table"')[1].split("</table>")[0]
    rows = {name: table.split(f">{name}</a>")[1].split("</tr>")[0] for name in (store.name, "Bahnhof")}
    assert f'data-key="net_sales">{format_amount(400, "EUR")}' in rows[store.name]
    assert f'data-key="net_sales">{format_amount(300, "EUR")}' in rows["Bahnhof"]
    assert 'data-key="units">3' in rows["Bahnhof"]
    assert other_store.name not in body
    assert _client(clerk).get(url).status_code == 403
    assert (
        _client(owner).get(reverse("analytics:stores", kwargs={"slug": other_store.merchant.slug})).status_code == 404
    )
