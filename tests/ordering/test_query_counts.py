"""Query counts of the restock list pages, pinned for 1 row and for 20 rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import Claim, Depot, PurchaseOrder, PurchaseOrderLine, StoreSupply
from tests.catalog.factories import ProductFactory
from tests.factories import StoreFactory
from tests.ordering.conftest import item_for
from tests.query_counts import Case, Request, Shop, case_counted, query_cases, signed_in

pytestmark = pytest.mark.django_db


def _depot(shop: Shop) -> Depot:
    with merchant_context(shop.merchant.pk):
        return StoreSupply.objects.select_related("depot").get(store=shop.store).depot


def _order(shop: Shop, number: str, *, lines: int, state: str, claimed: bool = False) -> PurchaseOrder:
    """An order of the shop's store with lines products of a case of 12 each."""
    products = [ProductFactory(wholesaler=shop.merchant.wholesaler, name=f"{number} Brause {n}") for n in range(lines)]
    items = [item_for(shop.store, product) for product in products]
    now = timezone.now()
    with merchant_context(shop.merchant.pk):
        order = PurchaseOrder.objects.create(
            merchant=shop.merchant, store=shop.store, depot=_depot(shop), number=number, state=state,
            delivery_date=timezone.localdate(), submitted_at=now,
            received_at=now if state == "received" else None,
        )  # fmt: skip
        for item, product in zip(items, products, strict=True):
            PurchaseOrderLine.objects.create(
                merchant=shop.merchant, order=order, store_product=item, product=product, case_pack=12,
                unit_cost=80, quantity=12, explanation="12 a week",
                received_quantity=12 if state == "received" else None,
            )  # fmt: skip
        if claimed:
            Claim.objects.create(merchant=shop.merchant, order=order, note=f"short on {number}")
    return order


def _page(shop: Shop, name: str, shown: list[str], **kwargs: object) -> Request:
    url = reverse(f"ordering:{name}", kwargs={"slug": shop.merchant.slug, **kwargs})
    return Request(signed_in(shop.owner), url, shown)


def restock_page(rows: int, shop: Shop) -> Request:
    orders = [_order(shop, f"PO-{n:03d}", lines=1, state="received") for n in range(rows)]
    return _page(shop, "section_restock", [order.number for order in orders])


def restock_page_other_drafts(rows: int, shop: Shop) -> Request:
    depot = _depot(shop)
    stores = [StoreFactory(merchant=shop.merchant, name=f"Filiale {n:02d}") for n in range(rows)]
    with merchant_context(shop.merchant.pk):
        for n, other in enumerate(stores):
            PurchaseOrder.objects.create(
                merchant=shop.merchant, store=other, depot=depot, number=f"PO-D{n:03d}", state="draft",
                delivery_date=timezone.localdate() + timedelta(days=1),
            )  # fmt: skip
    request = _page(shop, "section_restock", [other.name for other in stores])
    return Request(request.client, f"{request.url}?store={shop.store.pk}", request.shown)


def restock_claims_page(rows: int, shop: Shop) -> Request:
    orders = [_order(shop, f"PO-{n:03d}", lines=1, state="received", claimed=True) for n in range(rows)]
    return _page(shop, "restock_claims", [order.number for order in orders])


def restock_order_lines_page(rows: int, shop: Shop) -> Request:
    order = _order(shop, "PO-LINES", lines=rows, state="submitted")
    with merchant_context(shop.merchant.pk):
        names = [line.product.name for line in order.lines.select_related("product")]
    return _page(shop, "restock_order", names, order_id=order.pk)


# Measured; about a dozen are the session, sign-in, merchant, tenancy, membership and navigation.
CASES = query_cases(
    # The pager counts the orders or claims; a store with none reads no page after the count.
    Case("restock page", restock_page, 16),
    Case("restock page other stores drafts", restock_page_other_drafts, 15),
    Case("restock claims page", restock_claims_page, 12),
    Case("restock order lines page", restock_order_lines_page, 15),
)


@pytest.mark.parametrize(("case", "rows"), CASES)
@pytest.mark.usefixtures("supply")  # the store is supplied by its depot, as the restock pages expect
def test_query_counts(
    case: Case, rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    case_counted(case, rows, Shop(merchant, store, owner), django_assert_num_queries)
