"""The receiving page: scanning (a case barcode counts its case), ticking, over-delivery flagged, roles."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import Product, StockMovement, StoreProduct
from merchants.models import Store
from merchants.tenancy import merchant_context
from ordering.models import Claim, OrderState, PurchaseOrder, PurchaseOrderLine
from ordering.services import drafting, editing
from tests.catalog.factories import BarcodeFactory
from tests.ordering.conftest import MONDAY_NOON, item_for

pytestmark = pytest.mark.django_db


def _url(merchant, order: PurchaseOrder) -> str:  # type: ignore[no-untyped-def]
    return f"/m/{merchant.slug}/restock/orders/{order.pk}/receive/"


def test_a_case_barcode_counts_a_whole_case(owner_client: Client, merchant, shipped, cola: Product) -> None:  # type: ignore[no-untyped-def]
    order, line, _ = shipped
    case = BarcodeFactory(product=cola, kind="case", quantity=12)
    response = owner_client.post(
        _url(merchant, order),
        {"action": "scan", "code": case.code, f"received-{line.pk}": "1"},
        HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert text.lstrip().startswith('<form method="post" id="receiving"')
    assert f'name="received-{line.pk}" value="13"' in text


def test_scanning_a_product_not_on_the_delivery_says_so(
    owner_client: Client,
    merchant,
    shipped,
    store: Store,
    chips: Product,  # type: ignore[no-untyped-def]
) -> None:
    order, _, _ = shipped
    item_for(store, chips)
    response = owner_client.post(_url(merchant, order), {"action": "scan", "code": chips.gtin}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Knusper Chips is not on this delivery." in response.content.decode()


def test_receiving_more_than_shipped_is_booked_and_flagged(owner_client: Client, merchant, shipped) -> None:  # type: ignore[no-untyped-def]
    order, line, item = shipped
    response = owner_client.post(_url(merchant, order), {"action": "receive", f"received-{line.pk}": "30"}, follow=True)
    text = response.content.decode()
    assert "the differences went to the wholesaler as a claim" in text
    assert "more than shipped" in text
    with merchant_context(merchant.pk):
        assert StoreProduct.objects.get(pk=item.pk).on_hand == 30
        claim = Claim.objects.get(order=order)
        assert [(c.shipped, c.received, c.extra) for c in claim.lines.all()] == [(24, 30, 6)]
        assert PurchaseOrderLine.objects.get(pk=line.pk).is_over_received


def test_ticking_every_line_receives_as_shipped_without_a_claim(owner_client: Client, merchant, shipped) -> None:  # type: ignore[no-untyped-def]
    order, line, item = shipped
    response = owner_client.post(_url(merchant, order), {"action": "receive", f"ok-{line.pk}": "on"}, follow=True)
    assert f"Order {order.number} received: everything is in stock." in response.content.decode()
    with merchant_context(merchant.pk):
        assert StoreProduct.objects.get(pk=item.pk).on_hand == 24
        assert not Claim.objects.exists()
        assert PurchaseOrder.objects.get(pk=order.pk).state == OrderState.RECEIVED


def test_clerks_cannot_receive(client: Client, clerk, merchant, shipped) -> None:  # type: ignore[no-untyped-def]
    order, line, _ = shipped
    client.force_login(clerk)
    with merchant_context(merchant.pk):
        movements = StockMovement.objects.count()
    assert client.post(_url(merchant, order), {"action": "receive", f"ok-{line.pk}": "on"}).status_code == 403
    with merchant_context(merchant.pk):
        assert StockMovement.objects.count() == movements
        assert PurchaseOrder.objects.get(pk=order.pk).state == OrderState.SHIPPED


def test_a_bad_count_is_refused_and_nothing_is_booked(owner_client: Client, merchant, shipped) -> None:  # type: ignore[no-untyped-def]
    order, line, item = shipped
    response = owner_client.post(
        _url(merchant, order), {"action": "receive", f"received-{line.pk}": "5", f"damaged-{line.pk}": "9"}
    )
    assert response.status_code == 400
    assert "9 damaged is more than the 5 that arrived." in response.content.decode()
    with merchant_context(merchant.pk):
        assert StoreProduct.objects.get(pk=item.pk).on_hand == 0
        assert PurchaseOrder.objects.get(pk=order.pk).state == OrderState.SHIPPED


def _scan_url(merchant, order: PurchaseOrder) -> str:  # type: ignore[no-untyped-def]
    return f"/m/{merchant.slug}/restock/orders/{order.pk}/receive/scan/"


def test_a_scan_answers_its_line_and_units_and_books_nothing(
    owner_client: Client, merchant, shipped, cola: Product
) -> None:  # type: ignore[no-untyped-def]
    order, line, _ = shipped
    case = BarcodeFactory(product=cola, kind="case", quantity=12)
    with merchant_context(merchant.pk):
        before = StockMovement.objects.count()
    response = owner_client.post(_scan_url(merchant, order), {"code": case.code})
    assert response.status_code == 200
    assert response.json() == {"line": line.pk, "units": 12, "product": str(cola)}
    assert owner_client.post(_scan_url(merchant, order), {"code": cola.gtin}).json()["units"] == 1
    with merchant_context(merchant.pk):
        assert StockMovement.objects.count() == before
        assert PurchaseOrderLine.objects.get(pk=line.pk).received_quantity is None


@pytest.mark.parametrize(
    ("code", "error"),
    [("", "no_code"), ("12345", "unknown_code"), ("chips", "not_on_delivery"), ("9" * 40, "unknown_code")],
)
def test_a_scan_that_counts_for_no_line_is_a_json_error_with_a_code(
    owner_client: Client, merchant, shipped, store: Store, chips: Product, code: str, error: str
) -> None:  # type: ignore[no-untyped-def]
    order, _, _ = shipped
    item_for(store, chips)
    response = owner_client.post(_scan_url(merchant, order), {"code": chips.gtin if code == "chips" else code})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == error
    assert response.json()["error"]["message"]


@pytest.mark.usefixtures("supply")
def test_scanning_is_for_shipped_orders_and_for_those_who_receive(
    client: Client, owner_client: Client, clerk, merchant, store: Store, cola: Product
) -> None:  # type: ignore[no-untyped-def]
    item = item_for(store, cola)
    order = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert order is not None
    editing.purchase_order_line_add(merchant=store.merchant, order_id=order.pk, store_product_id=item.pk, quantity=24)
    response = owner_client.post(_scan_url(merchant, order), {"code": cola.gtin})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_receivable"
    assert owner_client.get(_scan_url(merchant, order)).status_code == 405
    client.force_login(clerk)
    assert client.post(_scan_url(merchant, order), {"code": cola.gtin}).status_code == 403
