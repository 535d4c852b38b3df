"""Query counts of the catalog's list pages and list endpoints, pinned for 1 row and for 20 rows."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import MovementKind, StoreProduct
from catalog.services.counts import count_line_set, count_session_start
from catalog.services.stock import stock_move
from merchants.models import Merchant, Store
from tests.catalog.factories import ProductFactory, StoreProductFactory
from tests.query_counts import Case, Request, Shop, bearer, case_counted, query_cases, signed_in

pytestmark = pytest.mark.django_db


def _items(store: Store, rows: int) -> list[StoreProduct]:
    items = [StoreProductFactory(store=store, price=100 + n) for n in range(rows)]
    for item in items:
        stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=5)
    return items


def _moved(store: Store, rows: int) -> StoreProduct:
    """One item with rows movements: its receipt and rows - 1 adjustments."""
    [item] = _items(store, 1)
    for _ in range(rows - 1):
        stock_move(
            merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.ADJUSTMENT, quantity=1, reason="found"
        )
    return item


def catalog_page(rows: int, shop: Shop) -> Request:
    names = [item.product.name for item in _items(shop.store, rows)]
    return Request(
        signed_in(shop.owner), reverse("catalog:section_catalog", kwargs={"slug": shop.merchant.slug}), names
    )


def stock_page(rows: int, shop: Shop) -> Request:
    names = [item.product.name for item in _items(shop.store, rows)]
    return Request(signed_in(shop.owner), reverse("catalog:section_stock", kwargs={"slug": shop.merchant.slug}), names)


def item_stock_page(rows: int, shop: Shop) -> Request:
    item = _moved(shop.store, rows)
    return Request(
        signed_in(shop.owner), reverse("catalog:item_stock", kwargs={"slug": shop.merchant.slug, "item_id": item.pk})
    )


def counts_page(rows: int, shop: Shop) -> Request:
    for n in range(rows):
        count_session_start(merchant=shop.merchant, store=shop.store, started_by=shop.owner, note=f"Count {n}")
    return Request(signed_in(shop.owner), reverse("catalog:counts", kwargs={"slug": shop.merchant.slug}))


def count_detail_page(rows: int, shop: Shop) -> Request:
    session = count_session_start(merchant=shop.merchant, store=shop.store, started_by=shop.owner)
    items = _items(shop.store, rows)
    for item in items:
        count_line_set(merchant=shop.merchant, session_id=session.pk, store_product_id=item.pk, counted=4)
    url = reverse("catalog:count_detail", kwargs={"slug": shop.merchant.slug, "session_id": session.pk})
    return Request(signed_in(shop.owner), url, [item.product.name for item in items])


def shopper_search_page(rows: int, shop: Shop) -> Request:
    items = [
        StoreProductFactory(store=shop.store, price=100 + n, product__name=f"Almliebe Vanillemilch {n}")
        for n in range(rows)
    ]
    url = f"{reverse('catalog:product_search', kwargs={'store_code': shop.store.code})}?q=vanillemilch"
    return Request(Client(), url, [item.product.name for item in items])


def product_list_api(rows: int, shop: Shop) -> Request:
    for _ in range(rows):
        ProductFactory(wholesaler=shop.merchant.wholesaler)
    return Request(bearer(shop.owner), reverse("catalog:api_product_list", kwargs={"merchant_id": shop.merchant.pk}))


def assortment_list_api(rows: int, shop: Shop) -> Request:
    _items(shop.store, rows)
    url = reverse("catalog:api_assortment_list", kwargs={"merchant_id": shop.merchant.pk, "store_id": shop.store.pk})
    return Request(bearer(shop.owner), url)


def stock_list_api(rows: int, shop: Shop) -> Request:
    _items(shop.store, rows)
    return Request(
        bearer(shop.owner),
        reverse("catalog:api_stock_list", kwargs={"merchant_id": shop.merchant.pk, "store_id": shop.store.pk}),
    )


def movement_list_api(rows: int, shop: Shop) -> Request:
    item = _moved(shop.store, rows)
    kwargs = {"merchant_id": shop.merchant.pk, "store_id": shop.store.pk, "item_id": item.pk}
    return Request(bearer(shop.owner), reverse("catalog:api_movement_list", kwargs=kwargs))


# Measured. A page pays about a dozen for the session, sign-in, merchant, tenancy, membership and
# navigation; an API call about half as many for the token, the merchant and the store.
CASES = query_cases(
    # The catalog and counts pages count their rows for the pager ("76 products · showing 1–50").
    Case("catalog page", catalog_page, 14),
    Case("stock page", stock_page, 13),
    Case("item stock movements page", item_stock_page, 12),
    Case("counts page", counts_page, 13),
    Case("count detail page", count_detail_page, 11),
    # The shopper's search: the store by its code, then in the merchant's context one query for products of
    # the master catalog and one for the store's own.
    Case("shopper search page", shopper_search_page, 11),
    Case("product list api", product_list_api, 10),
    Case("assortment list api", assortment_list_api, 11),
    Case("stock list api", stock_list_api, 11),
    Case("movement list api", movement_list_api, 12),
)


@pytest.mark.parametrize(("case", "rows"), CASES)
def test_query_counts(
    case: Case, rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    case_counted(case, rows, Shop(merchant, store, owner), django_assert_num_queries)
