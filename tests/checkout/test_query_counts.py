"""Query counts of the orders page and the shopper's receipts, pinned for 1 row and for 20 rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import MovementKind
from catalog.services.stock import stock_move
from checkout.models import Order, OrderLine, OrderStatus, Shopper
from checkout.services.carts import cart_set, visit_start
from checkout.services.shoppers import SESSION_KEY
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.query_counts import Case, Request, Shop, case_counted, query_cases, signed_in

pytestmark = pytest.mark.django_db


def _orders(shop: Shop, rows: int, *, shopper: Shopper | None = None) -> list[Order]:
    """Rows paid orders of two lines each (4,48 € in all), a minute apart."""
    store = shop.store
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
                    merchant=store.merchant, order=order, store_product=item, name=item.name, quantity=1,
                    unit_price=item.price, tax_class="standard", tax_rate=1900, line_total=item.price,
                    tax_amount=item.price * 19 // 119,
                )  # fmt: skip
            orders.append(order)
    return orders


def orders_page(rows: int, shop: Shop) -> Request:
    orders = _orders(shop, rows)
    url = reverse("checkout:section_orders", kwargs={"slug": shop.merchant.slug})
    return Request(signed_in(shop.owner), url, [order.number for order in orders])


def shopper_account_receipts_page(rows: int, shop: Shop) -> Request:
    shopper = Shopper.objects.create(email="mia@example.com")
    _orders(shop, rows, shopper=shopper)
    client = Client()
    session = client.session
    session[SESSION_KEY] = shopper.pk
    session.save()
    return Request(client, reverse("checkout:shopper_account"), [shop.store.name])


def shopper_cart_page(rows: int, shop: Shop) -> Request:
    store = shop.store
    visit = visit_start(store=store)
    items = [StoreProductFactory(store=store, price=100 + n) for n in range(rows)]
    for item in items:
        stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=5)
        cart_set(visit=visit, store_product_id=item.pk, quantity=2)
    client = Client()
    session = client.session
    session[f"visit:{store.pk}"] = str(visit.token)
    session.save()
    return Request(client, reverse("checkout:cart", kwargs={"store_code": store.code}), [item.name for item in items])


# Measured. The orders page pays about a dozen for the session, sign-in, merchant, tenancy,
# membership and navigation; the receipts page five per shop the shopper bought at (the shop's
# tenancy context around one query for its stores; one shop here), not per receipt.
CASES = query_cases(
    Case("orders page", orders_page, 12),
    Case("shopper account receipts page", shopper_account_receipts_page, 17),
    # The cart: the store by its public key, the session, then in one merchant's context the visit, the
    # lines with their products and the units pending orders hold, one query each.
    Case("shopper cart page", shopper_cart_page, 13),
)


@pytest.mark.parametrize(("case", "rows"), CASES)
def test_query_counts(
    case: Case, rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    case_counted(case, rows, Shop(merchant, store, owner), django_assert_num_queries)
