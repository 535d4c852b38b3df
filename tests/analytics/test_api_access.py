"""Every analytics endpoint refuses the same things the same way: a period the pages refuse (400, the API's error
shape), a store or merchant that is not the caller's (404), a clerk (403), a manager the owner keeps out (403)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from merchants.models import Merchant, Store
from tests.query_counts import bearer

pytestmark = pytest.mark.django_db
PERIOD_ENDPOINTS = [
    "api_sales_summary",
    "api_sales_hours",
    "api_sales_products",
    "api_sales_breakdown",
    "api_products",
    "api_stores",
    "api_losses",
    "api_baskets",
    "api_forecasts",
]
EVERY_ENDPOINT = [*PERIOD_ENDPOINTS, "api_day_report"]


def _url(name: str, merchant: Merchant) -> str:
    return reverse(f"analytics:{name}", kwargs={"merchant_id": merchant.pk})


@pytest.mark.parametrize("name", PERIOD_ENDPOINTS)
@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period": "custom", "start": "2026-06-12", "end": "2026-06-01"}, "end", "swap the two dates"),
        ({"period": "custom", "start": "2025-01-01", "end": "2026-06-01"}, "start", "at most 400"),
        ({"period": "custom", "start": "2999-01-01", "end": "2999-01-02"}, "end", "already happened"),
        ({"period": "custom", "start": "12/06/2026", "end": "2026-06-01"}, "start", "YYYY-MM-DD"),
        ({"period": "custom", "start": "1999-12-01", "end": "1999-12-31"}, "start", "no figures before"),
        ({"period": "fortnight"}, "period", "Unknown period"),
        ({"period": "7d", "compare": "lastweek"}, "compare", "Unknown comparison"),
    ],
)
def test_a_period_the_pages_refuse_is_a_400_naming_the_field(
    name: str, params: dict[str, str], field: str, message: str, merchant: Merchant, store: Store, owner: Any
) -> None:
    del store
    response = bearer(owner).get(_url(name, merchant), params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert message in error["fields"][field][0]


@pytest.mark.parametrize("name", EVERY_ENDPOINT)
def test_only_the_merchants_own_stores_and_staff_who_may(
    name: str,
    merchant: Merchant,
    store: Store,
    other_merchant: Merchant,
    other_store: Store,
    owner: Any,
    manager: Any,
    clerk: Any,
    outsider: Any,
) -> None:
    url = _url(name, merchant)
    assert bearer(owner).get(url).status_code == 200
    for wrong in (other_store.pk, 999_999_999, "abc"):
        response = bearer(owner).get(url, {"store": wrong})
        assert response.status_code == 404, wrong
        assert response.json()["error"]["code"] == "not_found"
    # Another merchant's analytics: the same answer as no such merchant, for its own store too.
    assert bearer(owner).get(_url(name, other_merchant)).status_code == 404
    assert bearer(owner).get(_url(name, other_merchant), {"store": other_store.pk}).status_code == 404
    assert bearer(outsider).get(url).status_code == 404
    refused = bearer(clerk).get(url)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert bearer(manager).get(url, {"store": store.pk}).status_code == 200
    Merchant.objects.filter(pk=merchant.pk).update(managers_see_analytics=False)
    kept_out = bearer(manager).get(url, {"store": store.pk})
    assert kept_out.status_code == 403
    assert "when the owner lets them see it" in kept_out.json()["error"]["message"]
    assert bearer(owner).get(url).status_code == 200


@pytest.mark.parametrize("name", EVERY_ENDPOINT)
def test_a_merchant_without_a_store_has_no_figures(name: str, merchant: Merchant, owner: Any) -> None:
    response = bearer(owner).get(_url(name, merchant))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_schema_describes_every_analytics_endpoint(owner: Any) -> None:
    schema = bearer(owner).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = {path: schema["paths"][path] for path in schema["paths"] if "/analytics/" in path}
    prefix = "/api/v1/merchants/{merchant_id}/analytics/"
    assert sorted(path.removeprefix(prefix) for path in paths) == [
        "baskets/",
        "day/",
        "forecasts/",
        "losses/",
        "products/",
        "sales/breakdown/",
        "sales/hours/",
        "sales/products/",
        "sales/summary/",
        "stores/",
    ]
    components = schema["components"]["schemas"]
    for path, operations in paths.items():
        answer = operations["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        reference = answer.get("$ref") or answer["items"]["$ref"]
        # Each answer is a documented object, not a free-form one.
        assert components[reference.rsplit("/", 1)[1]]["properties"], path
    day = {parameter["name"] for parameter in paths[f"{prefix}day/"]["get"]["parameters"]}
    assert {"store", "day"} <= day
    assert components["PairOutput"]["properties"]["lift"]["format"] == "decimal"
    assert "minor units" in components["ProductReportOutput"]["properties"]["currency"]["description"]


@pytest.mark.parametrize("name", PERIOD_ENDPOINTS)
def test_stores_of_different_currencies_are_not_added_up(
    name: str, merchant: Merchant, store: Store, owner: Any
) -> None:
    from tests.factories import StoreFactory

    StoreFactory(merchant=merchant, name="London", currency="GBP")
    response = bearer(owner).get(_url(name, merchant), {"period": "7d"})
    assert response.status_code == 400
    assert "different currencies" in response.json()["error"]["fields"]["store"][0]
    assert bearer(owner).get(_url(name, merchant), {"period": "7d", "store": store.pk}).status_code == 200
