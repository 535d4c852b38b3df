"""Query counts of the orders page and the shopper's receipts, pinned for 1 row and for 20 rows.

Each test warms the session first, then counts one request: the same exact number for one row
and for twenty, so a query per row (an N+1) fails here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from checkout.models import Order, OrderLine, OrderStatus, Shopper
from checkout.shoppers import SESSION_KEY
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory

pytestmark = pytest.mark.django_db

ROWS = [1, 20]


def _orders(store: Store, rows: int, *, shopper: Shopper | None = None) -> list[Order]:
    """Rows paid orders of two lines each, a minute apart."""
    items = [StoreProductFactory(store=store, price=price) for price in (249, 199)]
    now = timezone.now()
    orders = []
    with merchant_context(store.merchant_id):
        for n in range(rows):
            order = Order.objects.create(
                merchant=store.merchant, store=store, currency="EUR", subtotal=448, tax_total=72, total=448,
                status=OrderStatus.PAID, created_at=now - timedelta(minutes=n), paid_at=now - timedelta(minutes=n),
                shopper=shopper,
            )  # fmt: skip
            for item in items:
                OrderLine.objects.create(
                    merchant=store.merchant, order=order, store_product=item, name=item.name, quantity=1, unit_price=item.price,
                    tax_class="standard", tax_rate=1900, line_total=item.price, tax_amount=item.price * 19 // 119,
                )  # fmt: skip
            orders.append(order)
    return orders


def _page(client: Client, url: str, queries: int, django_assert_num_queries) -> str:  # type: ignore[no-untyped-def]
    client.get(url)  # the session, the sign-in and the content types warm up
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_orders_page(
    rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _orders(store, rows)
    client = Client()
    client.force_login(owner)
    response_body = _page(
        client,
        reverse("section_orders", kwargs={"slug": merchant.slug}),
        QUERIES_ORDERS_PAGE,
        django_assert_num_queries,
    )
    assert response_body.count("4,48") >= rows


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_shopper_account_receipts_page(rows: int, store: Store, django_assert_num_queries) -> None:
    shopper = Shopper.objects.create(email="mia@example.com")
    _orders(store, rows, shopper=shopper)
    client = Client()
    session = client.session
    session[SESSION_KEY] = shopper.pk
    session.save()
    body = _page(client, reverse("shopper_account"), QUERIES_SHOPPER_ACCOUNT_PAGE, django_assert_num_queries)
    assert body.count("4,48") >= rows


# Measured; the orders page pays about a dozen for the session, sign-in, merchant, tenancy, membership
# and navigation; the receipts page five per shop the shopper bought at (the shop's tenancy context
# around one query for its stores; one shop here), not per receipt.
QUERIES_ORDERS_PAGE = 17
QUERIES_SHOPPER_ACCOUNT_PAGE = 17
