"""Query counts of the restock list pages, pinned for 1 row and for 20 rows.

Each test warms the session first, then counts one request: the same exact number for one row
and for twenty, so a query per row (an N+1) fails here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import Claim, Depot, PurchaseOrder, PurchaseOrderLine
from tests.catalog.factories import ProductFactory
from tests.factories import StoreFactory
from tests.ordering.conftest import item_for

# Every test runs with the store supplied by its depot, as the restock pages expect.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("supply")]

ROWS = [1, 20]


def _orders(store: Store, depot: Depot, product: Product, rows: int, *, claimed: bool = False) -> list[PurchaseOrder]:
    """Rows received orders of one line each (and a claim on each, if asked)."""
    item = item_for(store, product)
    orders = []
    with merchant_context(store.merchant_id):
        for n in range(rows):
            order = PurchaseOrder.objects.create(
                merchant=store.merchant, store=store, depot=depot, number=f"PO-{n:03d}", state="received",
                delivery_date=timezone.localdate(), received_at=timezone.now(),
            )  # fmt: skip
            PurchaseOrderLine.objects.create(
                merchant=store.merchant, order=order, store_product=item, product=product, case_pack=12,
                unit_cost=80, quantity=12, received_quantity=12,
            )  # fmt: skip
            if claimed:
                Claim.objects.create(merchant=store.merchant, order=order, note=f"short {n}")
            orders.append(order)
    return orders


def _page(client: Client, url: str, queries: int, django_assert_num_queries) -> str:  # type: ignore[no-untyped-def]
    client.get(url)  # the session, the sign-in and the content types warm up
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_restock_page(
    rows: int,
    owner_client: Client,
    merchant: Merchant,
    store: Store,
    depot: Depot,
    cola: Product,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    orders = _orders(store, depot, cola, rows)
    url = reverse("section_restock", kwargs={"slug": merchant.slug})
    body = _page(owner_client, url, QUERIES_RESTOCK_PAGE, django_assert_num_queries)
    assert all(order.number in body for order in orders)


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_restock_page_with_other_stores_drafts(
    rows: int,
    owner_client: Client,
    merchant: Merchant,
    store: Store,
    depot: Depot,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    stores = [StoreFactory(merchant=merchant, name=f"Filiale {n:02d}") for n in range(rows)]
    with merchant_context(merchant.pk):
        for n, other in enumerate(stores):
            PurchaseOrder.objects.create(
                merchant=merchant, store=other, depot=depot, number=f"PO-D{n:03d}", state="draft",
                delivery_date=timezone.localdate() + timedelta(days=1),
            )  # fmt: skip
    url = reverse("section_restock", kwargs={"slug": merchant.slug}) + f"?store={store.pk}"
    body = _page(owner_client, url, QUERIES_RESTOCK_PAGE, django_assert_num_queries)
    assert all(other.name in body for other in stores)


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_restock_claims_page(
    rows: int,
    owner_client: Client,
    merchant: Merchant,
    store: Store,
    depot: Depot,
    cola: Product,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    orders = _orders(store, depot, cola, rows, claimed=True)
    url = reverse("restock_claims", kwargs={"slug": merchant.slug})
    body = _page(owner_client, url, QUERIES_RESTOCK_CLAIMS_PAGE, django_assert_num_queries)
    assert all(order.number in body for order in orders)


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_restock_order_lines_page(
    rows: int,
    owner_client: Client,
    merchant: Merchant,
    store: Store,
    depot: Depot,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    products = [ProductFactory(wholesaler=merchant.wholesaler, name=f"Brause {n}") for n in range(rows)]
    items = [item_for(store, product) for product in products]
    with merchant_context(merchant.pk):
        order = PurchaseOrder.objects.create(
            merchant=merchant, store=store, depot=depot, number="PO-LINES", state="submitted",
            delivery_date=timezone.localdate(), submitted_at=timezone.now(),
        )  # fmt: skip
        for item, product in zip(items, products, strict=True):
            PurchaseOrderLine.objects.create(
                merchant=merchant, order=order, store_product=item, product=product, case_pack=12, unit_cost=80,
                quantity=12, explanation="12 a week",
            )  # fmt: skip
    url = reverse("restock_order", kwargs={"slug": merchant.slug, "order_id": order.pk})
    body = _page(owner_client, url, QUERIES_RESTOCK_ORDER_LINES_PAGE, django_assert_num_queries)
    assert all(product.name in body for product in products)


# Measured; about a dozen are the session, sign-in, merchant, tenancy, membership and navigation.
QUERIES_RESTOCK_PAGE = 20
QUERIES_RESTOCK_CLAIMS_PAGE = 16
QUERIES_RESTOCK_ORDER_LINES_PAGE = 20
