"""Query counts of the merchants' list pages and list endpoints, pinned for 1 row and for 20 rows.

Each test warms the session first, then counts one request: the same exact number for one row
and for twenty, so a query per row (an N+1) fails here.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from merchants.models import Merchant, Role, Store
from merchants.services import api_token_create, invitation_create
from tests.factories import DeviceFactory, MembershipFactory, MerchantFactory, StoreFactory

pytestmark = pytest.mark.django_db

ROWS = [1, 20]


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _bearer(user) -> APIClient:  # type: ignore[no-untyped-def]
    _token, raw = api_token_create(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _stores(merchant: Merchant, rows: int) -> list[Store]:
    return [StoreFactory(merchant=merchant, name=f"Filiale {n}") for n in range(rows)]


def _members(merchant: Merchant, rows: int) -> None:
    """The owner and rows - 1 more members."""
    for n in range(rows - 1):
        MembershipFactory(merchant=merchant, role=Role.CLERK, user__username=f"clerk{n}@example.com")


def _page(client: Client, url: str, queries: int, django_assert_num_queries) -> str:  # type: ignore[no-untyped-def]
    client.get(url)  # the session, the sign-in and the content types warm up
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _api_count(client: APIClient, url: str, queries: int, django_assert_num_queries) -> int:  # type: ignore[no-untyped-def]
    client.get(url)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200, url
    return int(response.json()["count"])


# Pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_dashboard_page(rows: int, merchant: Merchant, owner, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    stores = _stores(merchant, rows)
    body = _page(
        _client(owner),
        reverse("dashboard", kwargs={"slug": merchant.slug}),
        QUERIES_DASHBOARD_PAGE,
        django_assert_num_queries,
    )
    assert all(store.name in body for store in stores)


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_stores_page(rows: int, merchant: Merchant, owner, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    stores = _stores(merchant, rows)
    body = _page(
        _client(owner),
        reverse("stores", kwargs={"slug": merchant.slug}),
        QUERIES_STORES_PAGE,
        django_assert_num_queries,
    )
    assert all(store.name in body for store in stores)


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_staff_page(rows: int, merchant: Merchant, owner, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    _members(merchant, rows)
    _page(
        _client(owner), reverse("staff", kwargs={"slug": merchant.slug}), QUERIES_STAFF_PAGE, django_assert_num_queries
    )


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_staff_page_with_pending_invitations(
    rows: int, merchant: Merchant, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for n in range(rows):
        invitation_create(merchant=merchant, invited_by=owner, email=f"new{n}@example.com", role=Role.CLERK)
    url = reverse("staff", kwargs={"slug": merchant.slug})
    body = _page(_client(owner), url, QUERIES_STAFF_PAGE, django_assert_num_queries)
    assert f"new{rows - 1}@example.com" in body


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_devices_page(
    rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    devices = [DeviceFactory(store=store) for _ in range(rows)]
    body = _page(
        _client(owner),
        reverse("devices", kwargs={"slug": merchant.slug}),
        QUERIES_DEVICES_PAGE,
        django_assert_num_queries,
    )
    assert all(device.name in body for device in devices)


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_api_tokens_page(rows: int, owner, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(rows):
        api_token_create(user=owner, name=f"Script {n}")
    body = _page(_client(owner), reverse("api_tokens"), QUERIES_API_TOKENS_PAGE, django_assert_num_queries)
    assert f"Script {rows - 1}" in body


# API --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_merchant_list_api(rows: int, owner, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rows - 1):
        MembershipFactory(merchant=MerchantFactory(), user=owner, role=Role.OWNER)
    count = _api_count(
        _bearer(owner), reverse("api_merchant_list"), QUERIES_MERCHANT_LIST_API, django_assert_num_queries
    )
    assert count == rows


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_store_list_api(rows: int, merchant: Merchant, owner, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    _stores(merchant, rows)
    url = reverse("api_store_list", kwargs={"merchant_id": merchant.pk})
    assert _api_count(_bearer(owner), url, QUERIES_STORE_LIST_API, django_assert_num_queries) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_member_list_api(rows: int, merchant: Merchant, owner, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    _members(merchant, rows)
    url = reverse("api_member_list", kwargs={"merchant_id": merchant.pk})
    assert _api_count(_bearer(owner), url, QUERIES_MEMBER_LIST_API, django_assert_num_queries) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_device_list_api(
    rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rows):
        DeviceFactory(store=store)
    url = reverse("api_device_list", kwargs={"merchant_id": merchant.pk})
    assert _api_count(_bearer(owner), url, QUERIES_DEVICE_LIST_API, django_assert_num_queries) == rows


# Measured; a merchant's page pays about a dozen for the session, sign-in, merchant, tenancy,
# membership and navigation; the tokens page is the user's own (session, user, tokens).
QUERIES_DASHBOARD_PAGE = 16
QUERIES_STORES_PAGE = 15
QUERIES_STAFF_PAGE = 16
QUERIES_DEVICES_PAGE = 16
QUERIES_API_TOKENS_PAGE = 3
QUERIES_MERCHANT_LIST_API = 7
QUERIES_STORE_LIST_API = 10
QUERIES_MEMBER_LIST_API = 10
QUERIES_DEVICE_LIST_API = 10
