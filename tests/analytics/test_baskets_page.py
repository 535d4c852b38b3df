"""Baskets: sizes, values and pairs bought together with exact support, confidence and lift."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from analytics.selectors.baskets import baskets_of
from merchants.models import Merchant, Store
from tests.analytics.conftest import paid_at_set, phone_order, stocked

pytestmark = pytest.mark.django_db
DAY = dt.datetime(2026, 6, 3, 10, tzinfo=dt.UTC)


@pytest.fixture
def shop(store: Store) -> dict[str, Any]:
    """Ten baskets on 3 June: cola+crisps ×4, cola alone ×2, crisps+water ×2 (below the minimum), water ×2."""
    cola, crisps, water = (stocked(store, 100, price=price, product__name=name) for name, price in (
        ("Quellwerk Cola", 249), ("Knusper Chips", 199), ("Still Water", 99)
    ))  # fmt: skip
    for quantities in (
        [[(cola, 1), (crisps, 1)]] * 4 + [[(cola, 3)]] * 2 + [[(crisps, 1), (water, 1)]] * 2 + [[(water, 2)]] * 2
    ):
        paid_at_set(phone_order(store, quantities), DAY)
    return {"cola": cola, "crisps": crisps, "water": water}


def test_pairs_need_three_baskets_and_carry_support_confidence_and_lift(
    merchant: Merchant, store: Store, shop: dict[str, Any]
) -> None:
    del shop
    found = baskets_of(merchant=merchant, stores=[store], first=dt.date(2026, 6, 3), last=dt.date(2026, 6, 3))
    assert found.count == 10
    # Items are units: three colas make a basket of 3, two waters one of 2.
    assert dict(found.sizes) == {
        "1 item": 0,
        "2 items": 8,
        "3 items": 2,
        "4–5 items": 0,
        "6–9 items": 0,
        "10 or more": 0,
    }
    # 3 colas at 2,49 € = 7,47 € twice; cola + crisps 4,48 € ×4; crisps + water 2,98 € ×2; 2 waters 1,98 € ×2.
    assert dict(found.values) == {
        "under 2,00\xa0€": 2,
        "2,00\xa0€ – 5,00\xa0€": 6,
        "5,00\xa0€ – 10,00\xa0€": 2,
        "10,00\xa0€ – 20,00\xa0€": 0,
        "20,00\xa0€ or more": 0,
    }
    [pair] = found.pairs  # crisps + water is in 2 baskets only: not shown
    assert {pair.first, pair.second} == {"Quellwerk Cola", "Knusper Chips"}
    # 4 of 10 baskets; cola is in 6, crisps in 6: confidence 4/6, lift 4·10 / (6·6).
    assert (pair.baskets, pair.support, pair.confidence, pair.lift) == (
        4,
        Decimal("0.400"),
        Decimal("0.667"),
        Decimal("1.11"),
    )


def test_the_page_shows_them_and_stays_within_the_merchant(
    merchant: Merchant, store: Store, other_store: Store, owner: Any, clerk: Any, shop: dict[str, Any]
) -> None:
    del store, shop
    client = Client()
    client.force_login(owner)
    url = reverse("analytics:baskets", kwargs={"slug": merchant.slug})
    body = client.get(url, {"period": "custom", "start": "2026-06-03", "end": "2026-06-03"}).content.decode()
    table = body.split('id="pair-table"')[1].split("</table>")[0]
    assert (
        '<td class="num">4</td><td class="num">40,0\xa0%</td><td class="num">66,7\xa0%</td><td class="num">1.11</td>'
        in table
    )
    assert client.get(url, {"store": other_store.pk}).status_code == 404
    clerks = Client()
    clerks.force_login(clerk)
    assert clerks.get(url).status_code == 403


def test_basket_values_are_bucketed_in_the_stores_currency() -> None:
    from analytics.selectors.baskets import value_buckets

    assert value_buckets("JPY")[0] == (0, 1, "under 2\xa0¥")
    assert value_buckets("GBP")[-1] == (2000, None, "20,00\xa0£ or more")
    assert [low for low, _high, _label in value_buckets("KWD")] == [0, 2000, 5000, 10000, 20000]
