"""The Products report: classes, best sellers, dead stock at cost and price changes, against the raw rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from analytics.selectors.products import abc_classes
from analytics.services.facts import facts_sweep
from catalog.models import PriceChange, StoreProduct
from catalog.services.prices import price_set
from core.money import format_amount
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import stocked
from tests.analytics.history import History, history_make

pytestmark = pytest.mark.django_db
JUNE = {"period": "custom", "start": "2026-06-10", "end": "2026-06-12", "compare": "none"}


def test_abc_classes_split_net_sales_at_80_and_95_percent() -> None:
    # 50 + 30 = 80 % start before 80 %: A; 10 starts at 80 %: B; 5 at 90 %: B; 5 at 95 %: C; nothing sold: no class.
    assert abc_classes({1: 50, 2: 30, 3: 10, 4: 5, 5: 5, 6: 0}) == {1: "A", 2: "A", 3: "B", 4: "B", 5: "C"}
    assert abc_classes({}) == {}


@pytest.fixture
def history(store: Store, clerk: Any) -> History:
    made = history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    return made


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _section(body: str, table: str) -> str:
    return body.split(f'id="{table}"')[1].split("</table>")[0]


def test_best_sellers_dead_stock_and_price_changes(
    merchant: Merchant, store: Store, owner: Any, history: History
) -> None:
    # A product on the shelf since before June that never sold: 12 on hand at 0,80 € cost.
    idle = stocked(store, 12, price=149, product__name="Rare Tonic")
    with merchant_context(store.merchant_id):
        StoreProduct.objects.filter(pk=idle.pk).update(average_cost=80)
    # The cola's price went up on 11 June (Berlin): units a day in the 14 days before and the days since.
    price_set(merchant=merchant, store_product_id=history.cola.pk, price=259)
    with merchant_context(store.merchant_id):
        PriceChange.objects.filter(store_product=history.cola, old_price__isnull=False).update(
            changed_at=dt.datetime(2026, 6, 11, 10, tzinfo=dt.UTC)
        )
    body = _client(owner).get(reverse("analytics:products", kwargs={"slug": merchant.slug}), JUNE).content.decode()

    best = _section(body, "best-table")
    # Crisps sold more net than cola on 10-12 June; both are on the list, best first.
    assert best.index(history.crisps.name) < best.index(history.cola.name)
    # Dead stock is reckoned from today: the tonic never sold, cola and crisps last sold in June.
    dead = _section(body, "dead-table")
    assert 'Rare Tonic</td><td class="num">12</td><td class="num">9,60\xa0€</td><td>never</td>' in dead
    assert f'{history.cola.name}</td><td class="num">48</td>' in dead
    assert "12 Jun 2026" in dead
    assert format_amount(12 * 80, "EUR") in body.split('id="dead-value"')[1][:40]
    assert "(and 2 whose cost is unknown)" in body
    prices = _section(body, "price-table")
    assert f"{format_amount(249, 'EUR')} → {format_amount(259, 'EUR')}" in prices
    # 3 colas sold in the 14 days before 11 June (all on the 10th); the days since (12 June...) sold 1.
    assert f'<td class="num">{Decimal(3) / 14:.1f}</td>' in prices


def test_a_refused_period_and_other_merchants(
    merchant: Merchant, store: Store, other_store: Store, owner: Any, clerk: Any
) -> None:
    del store
    url = reverse("analytics:products", kwargs={"slug": merchant.slug})
    response = _client(owner).get(url, {"period": "custom", "start": "2026-06-12", "end": "2026-06-01"})
    assert response.status_code == 400
    assert "best-table" not in response.content.decode()
    assert _client(owner).get(url, {"store": other_store.pk}).status_code == 404
    assert _client(clerk).get(url).status_code == 403
