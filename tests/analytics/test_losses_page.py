"""Stock and losses: stock value at cost, hours out and the sales they lost, shrinkage by reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from analytics.selectors.losses import out_of_stock, shrinkage, stock_value
from analytics.services.facts import facts_sweep
from catalog.models import StoreProduct
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import DemandForecast
from tests.analytics.history import History, history_make

pytestmark = pytest.mark.django_db
FIRST, LAST = dt.date(2026, 6, 9), dt.date(2026, 6, 12)


@pytest.fixture
def history(store: Store, clerk: Any) -> History:
    made = history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    return made


def test_hours_out_and_the_sales_they_lost(merchant: Merchant, store: Store, history: History) -> None:
    # The crisps were written off on 10 June 10:00 Berlin and delivered again on 11 June 10:30: 840 + 630 minutes.
    # The cola's shelf was empty from 22:00 on 11 June to 04:00 on the 12th: 120 + 240 minutes.
    with merchant_context(store.merchant_id):
        DemandForecast.objects.create(
            merchant_id=store.merchant_id, store=store, store_product=history.crisps, day=dt.date(2026, 6, 10),
            units=2.4, sigma=1.0, made_on=dt.date(2026, 6, 9),
        )  # fmt: skip
    rows = {row.item.pk: row for row in out_of_stock(merchant=merchant, stores=[store], first=FIRST, last=LAST)}
    crisps, cola = rows[history.crisps.pk], rows[history.cola.pk]
    assert (crisps.hours, cola.hours) == (Decimal("24.5"), Decimal("6.0"))
    # 10 June: 2.4 forecast × 840/1440 of the day = 1.4 units at 1,99 € = 2,79 €; 11 June had no forecast and the
    # crisps sold on no whole day in stock in the period, so no rate to lose.
    assert (crisps.lost_units, crisps.lost_sales) == (Decimal("1.4"), 279)


def test_shrinkage_and_stock_value(merchant: Merchant, store: Store, history: History) -> None:
    [damaged] = shrinkage(merchant=merchant, stores=[store], first=FIRST, last=LAST)
    assert (damaged.reason, damaged.movements, damaged.units) == ("Damaged", 1, -46)
    with merchant_context(store.merchant_id):
        StoreProduct.objects.filter(pk=history.cola.pk).update(average_cost=120)
        on_hand = {item.pk: item.on_hand for item in StoreProduct.objects.filter(store=store)}
    value = stock_value(merchant=merchant, stores=[store])
    assert (value.value, value.unknown) == (on_hand[history.cola.pk] * 120, 1)


def test_the_page(
    merchant: Merchant, store: Store, other_store: Store, owner: Any, clerk: Any, history: History
) -> None:
    del history
    client = Client()
    client.force_login(owner)
    url = reverse("analytics:losses", kwargs={"slug": merchant.slug})
    body = client.get(url, {"period": "custom", "start": "2026-06-09", "end": "2026-06-12"}).content.decode()
    assert "24.5" in body.split('id="out-table"')[1].split("</table>")[0]
    assert "Damaged" in body.split('id="shrink-table"')[1]
    assert client.get(url, {"store": other_store.pk}).status_code == 404
    clerks = Client()
    clerks.force_login(clerk)
    assert clerks.get(url).status_code == 403
    assert store.pk


def test_the_longest_outs_are_shown_and_all_of_them_downloaded(
    merchant: Merchant, owner: Any, history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analytics.views import losses

    monkeypatch.setattr(losses, "OUTS_SHOWN", 1)
    client = Client()
    client.force_login(owner)
    url = reverse("analytics:losses", kwargs={"slug": merchant.slug})
    june = {"period": "custom", "start": "2026-06-09", "end": "2026-06-12"}
    table = client.get(url, june).content.decode().split('id="out-table"')[1].split("</table>")[0]
    assert history.crisps.name in table  # 24.5 hours: the longest
    assert history.cola.name not in table
    assert "Show 1 more" in client.get(url, june).content.decode()
    rows = client.get(url, {**june, "export": "out-table"}).content.decode().splitlines()
    assert [row.split(",")[0] for row in rows] == ["Product", history.crisps.name, history.cola.name]
