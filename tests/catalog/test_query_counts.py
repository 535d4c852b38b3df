"""Query counts of the catalog's list pages and list endpoints, pinned for 1 row and for 20 rows.

Each test warms the session first, then counts one request: the same exact number for one row
and for twenty, so a query per row (an N+1) fails here.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import MovementKind, StoreProduct
from catalog.services import count_line_set, count_session_start, stock_move
from merchants.models import Merchant, Store
from merchants.services import api_token_create
from tests.catalog.factories import ProductFactory, StoreProductFactory

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


def _items(store: Store, rows: int) -> list[StoreProduct]:
    items = [StoreProductFactory(store=store, price=100 + n) for n in range(rows)]
    for item in items:
        stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=5)
    return items


def _counted(client: Client | APIClient, url: str, queries: int, django_assert_num_queries) -> str:  # type: ignore[no-untyped-def]
    client.get(url)  # the session, the sign-in and the content types warm up
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


# Pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_catalog_page(
    rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    items = _items(store, rows)
    body = _counted(
        _client(owner),
        reverse("section_catalog", kwargs={"slug": merchant.slug}),
        QUERIES_CATALOG_PAGE,
        django_assert_num_queries,
    )
    assert all(item.product.name in body for item in items)


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_stock_page(rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    items = _items(store, rows)
    body = _counted(
        _client(owner),
        reverse("section_stock", kwargs={"slug": merchant.slug}),
        QUERIES_STOCK_PAGE,
        django_assert_num_queries,
    )
    assert all(item.product.name in body for item in items)


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_item_stock_movements_page(
    rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    [item] = _items(store, 1)
    for _ in range(rows - 1):
        stock_move(
            merchant=merchant, store_product_id=item.pk, kind=MovementKind.ADJUSTMENT, quantity=1, reason="found"
        )
    url = reverse("item_stock", kwargs={"slug": merchant.slug, "item_id": item.pk})
    _counted(_client(owner), url, QUERIES_ITEM_STOCK_PAGE, django_assert_num_queries)


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_counts_page(
    rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for n in range(rows):
        count_session_start(merchant=merchant, store=store, started_by=owner, note=f"Count {n}")
    _counted(
        _client(owner),
        reverse("counts", kwargs={"slug": merchant.slug}),
        QUERIES_COUNTS_PAGE,
        django_assert_num_queries,
    )


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_count_detail_page(
    rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    session = count_session_start(merchant=merchant, store=store, started_by=owner)
    for item in _items(store, rows):
        count_line_set(merchant=merchant, session_id=session.pk, store_product_id=item.pk, counted=4)
    url = reverse("count_detail", kwargs={"slug": merchant.slug, "session_id": session.pk})
    _counted(_client(owner), url, QUERIES_COUNT_DETAIL_PAGE, django_assert_num_queries)


# API --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_product_list_api(rows: int, merchant: Merchant, owner, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rows):
        ProductFactory(wholesaler=merchant.wholesaler)
    url = reverse("api_product_list", kwargs={"merchant_id": merchant.pk})
    client = _bearer(owner)
    client.get(url)
    with django_assert_num_queries(QUERIES_PRODUCT_LIST_API):
        response = client.get(url)
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_assortment_list_api(
    rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _items(store, rows)
    url = reverse("api_assortment_list", kwargs={"merchant_id": merchant.pk, "store_id": store.pk})
    client = _bearer(owner)
    client.get(url)
    with django_assert_num_queries(QUERIES_ASSORTMENT_LIST_API):
        response = client.get(url)
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_stock_list_api(
    rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _items(store, rows)
    url = reverse("api_stock_list", kwargs={"merchant_id": merchant.pk, "store_id": store.pk})
    client = _bearer(owner)
    client.get(url)
    with django_assert_num_queries(QUERIES_STOCK_LIST_API):
        response = client.get(url)
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_movement_list_api(
    rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    [item] = _items(store, 1)
    for _ in range(rows - 1):
        stock_move(
            merchant=merchant, store_product_id=item.pk, kind=MovementKind.ADJUSTMENT, quantity=1, reason="found"
        )
    url = reverse("api_movement_list", kwargs={"merchant_id": merchant.pk, "store_id": store.pk, "item_id": item.pk})
    client = _bearer(owner)
    client.get(url)
    with django_assert_num_queries(QUERIES_MOVEMENT_LIST_API):
        response = client.get(url)
    assert response.json()["count"] == rows


# Measured; a page pays about a dozen for the session, sign-in, merchant, tenancy, membership and
# navigation, an API call about half as many for the token, the merchant and the store.
QUERIES_CATALOG_PAGE = 18
QUERIES_STOCK_PAGE = 18
QUERIES_ITEM_STOCK_PAGE = 17
QUERIES_COUNTS_PAGE = 17
QUERIES_COUNT_DETAIL_PAGE = 16
QUERIES_PRODUCT_LIST_API = 10
QUERIES_ASSORTMENT_LIST_API = 11
QUERIES_STOCK_LIST_API = 11
QUERIES_MOVEMENT_LIST_API = 12
