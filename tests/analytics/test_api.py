"""The analytics API: the pages' figures as JSON, equal to the raw orders, scoped, with the API's error shape."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.services.facts import facts_sweep
from merchants.models import Merchant, Store
from merchants.services import api_token_create
from tests.analytics.history import History, history_make

pytestmark = pytest.mark.django_db
JUNE = {"period": "custom", "start": "2026-06-11", "end": "2026-06-12", "compare": "previous"}


@pytest.fixture
def history(store: Store, clerk: Any) -> History:
    made = history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    return made


def _api(user: Any) -> APIClient:
    _token, raw = api_token_create(user=user, name="analytics")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _url(name: str, merchant: Merchant) -> str:
    return reverse(f"analytics:{name}", kwargs={"merchant_id": merchant.pk})


def test_the_summary_is_the_pages_figures(merchant: Merchant, store: Store, owner: Any, history: History) -> None:
    del history
    body = _api(owner).get(_url("api_sales_summary", merchant), JUNE).json()
    assert body["stores"] == [store.pk]
    assert body["period"] == {"start": "2026-06-11", "end": "2026-06-12"}
    assert body["comparison"] == {"start": "2026-06-09", "end": "2026-06-10"}
    # The same orders the Sales page test sums from checkout's rows: 5,58 € + 2,09 € net, 1 cola and 3 crisps.
    assert (body["current"]["net_sales"], body["current"]["transactions"]) == (767, 2)
    assert (body["previous"]["net_sales"], body["previous"]["transactions"]) == (999, 2)
    assert body["currency"] == "EUR"


def test_hours_and_products_list_what_sold(merchant: Merchant, owner: Any, history: History) -> None:
    hours = _api(owner).get(_url("api_sales_hours", merchant), JUNE).json()
    assert sum(row["net_sales"] for row in hours) == 767
    assert all(0 <= row["hour"] <= 23 for row in hours)
    products = _api(owner).get(_url("api_sales_products", merchant), JUNE).json()
    assert {row["name"] for row in products} >= {history.cola.name}
    assert sum(row["net_sales"] for row in products) == 767


def test_a_bad_period_gets_the_error_shape_and_another_merchant_is_not_found(
    merchant: Merchant, other_merchant: Merchant, other_store: Store, owner: Any, clerk: Any, store: Store
) -> None:
    del store
    response = _api(owner).get(
        _url("api_sales_summary", merchant), {"period": "custom", "start": "2026-06-12", "end": "2026-06-01"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "swap the two dates" in error["fields"]["end"][0]
    assert _api(owner).get(_url("api_sales_summary", other_merchant)).status_code == 404
    assert _api(owner).get(_url("api_sales_summary", merchant), {"store": other_store.pk}).status_code == 404
    assert _api(clerk).get(_url("api_sales_summary", merchant)).status_code == 403
