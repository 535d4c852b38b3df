"""One order from draft to received, through the owner's dashboard and the wholesaler's admin."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Product, StockMovement, StoreProduct
from merchants.models import Store
from merchants.tenancy import merchant_context
from ordering.models import Claim, DepotStock, OrderState, PurchaseOrder, PurchaseOrderLine
from tests.ordering.conftest import item_for, selling
from tests.ordering.test_admin import pdf_text

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("supply")
def test_an_order_from_draft_to_received(
    owner_client: Client,
    depot_client: Client,
    merchant,  # type: ignore[no-untyped-def]
    store: Store,
    cola: Product,
    chips: Product,
) -> None:
    cola_item = selling(store, cola, daily=[6, 5, 7, 6, 8, 4, 6] * 6, left=3, end=timezone.now())
    base = f"/m/{merchant.slug}/restock/"

    # 1. The owner drafts the suggestion with the button and sees why each line is there.
    response = owner_client.post(f"{base}draft/", {"store": store.pk})
    assert response.status_code == 302
    order_url = response["Location"]
    order_id = int(re.search(r"/orders/(\d+)/$", order_url).group(1))  # type: ignore[union-attr]
    page = owner_client.get(order_url).content.decode()
    with merchant_context(merchant.pk):
        order = PurchaseOrder.objects.get(pk=order_id)
        line = PurchaseOrderLine.objects.get(order=order, product=cola)
    assert order.state == OrderState.DRAFT
    assert line.quantity % 12 == 0
    assert line.quantity > 0
    assert line.explanation in page

    # 2. Edit: one more case of cola (htmx answers the row); add 6 chips by barcode.
    wanted = line.quantity + 12
    row = owner_client.post(f"{order_url}lines/{line.pk}/", {"quantity": wanted}, HTTP_HX_REQUEST="true")
    assert row.status_code == 200
    assert f'value="{wanted}"' in row.content.decode()
    chips_item = item_for(store, chips)
    added = owner_client.post(f"{order_url}lines/", {"code": chips.gtin, "quantity": 6}, follow=True)
    assert "Knusper Chips 0.5 l: 6 units on the order." in added.content.decode()

    # 3. Submit (after today's cut-off it moves to the next delivery and says so).
    submitted = owner_client.post(f"{order_url}submit/", follow=True).content.decode()
    assert f"order {order.number} moved to the next delivery" in submitted or "is submitted for delivery" in submitted
    with merchant_context(merchant.pk):
        assert PurchaseOrder.objects.get(pk=order_id).state == OrderState.SUBMITTED

    # 4. The wholesaler confirms, prints the pick list (picking starts), ships and delivers.
    changelist = "/admin/ordering/purchaseorder/"
    assert order.number in depot_client.get(changelist, {"state": "submitted"}).content.decode()
    confirmed = depot_client.post(changelist, {"action": "confirm", "_selected_action": [order_id]}, follow=True)
    assert "Confirmed 1 order." in confirmed.content.decode()
    pick = depot_client.post(changelist, {"action": "pick_list", "_selected_action": [order_id]})
    text = pdf_text(pick.content)
    assert "Quellwerk Cola" in text
    assert "Knusper Chips" in text
    assert store.name in text
    assert "Route A" in text
    # The owner can no longer change the confirmed order.
    refused = owner_client.post(f"{order_url}lines/{line.pk}/", {"quantity": 12}, follow=True).content.decode()
    assert "can no longer be changed here" in refused
    depot_client.post(changelist, {"action": "mark_shipped", "_selected_action": [order_id]})
    depot_client.post(changelist, {"action": "mark_delivered", "_selected_action": [order_id]})
    with merchant_context(merchant.pk):
        lines = {line.product_id: line for line in PurchaseOrderLine.objects.filter(order_id=order_id)}
        assert PurchaseOrder.objects.get(pk=order_id).state == OrderState.DELIVERED
    shipped_cola = lines[cola.pk].shipped_quantity
    assert shipped_cola == wanted
    assert lines[chips.pk].shipped_quantity == 6
    assert DepotStock.objects.get(product=cola).on_hand == 240 - wanted

    # 5. The owner receives: scans one can, counts two fewer cola than shipped, one damaged; ticks chips.
    with merchant_context(merchant.pk):
        on_hand_before = StoreProduct.objects.get(pk=cola_item.pk).on_hand
    receive_url = f"{order_url}receive/"
    assert "Book into stock" in owner_client.get(receive_url).content.decode()
    scanned = owner_client.post(
        receive_url, {"action": "scan", "code": cola.gtin, f"received-{lines[cola.pk].pk}": ""}, HTTP_HX_REQUEST="true"
    )
    assert scanned.status_code == 200
    assert "Quellwerk Cola 0.5 l: 1 counted." in scanned.content.decode()
    assert f'name="received-{lines[cola.pk].pk}" value="1"' in scanned.content.decode()
    incomplete = owner_client.post(receive_url, {"action": "receive", f"received-{lines[cola.pk].pk}": "5"})
    # A line neither counted nor ticked: the page asks before it books anything or files a claim.
    assert incomplete.status_code == 200
    assert "1 line not counted yet" in incomplete.content.decode()
    with merchant_context(merchant.pk):
        assert PurchaseOrder.objects.get(pk=order.pk).state == OrderState.DELIVERED
    counted = shipped_cola - 2  # type: ignore[operator]
    received = owner_client.post(
        receive_url,
        {
            "action": "receive",
            f"received-{lines[cola.pk].pk}": str(counted),
            f"damaged-{lines[cola.pk].pk}": "1",
            f"ok-{lines[chips.pk].pk}": "on",
            "note": "Two cans short, one dented",
        },
        follow=True,
    )
    assert "the differences went to the wholesaler as a claim" in received.content.decode()

    # 6. The claim is visible to the wholesaler in the admin.
    with merchant_context(merchant.pk):
        claim = Claim.objects.get(order_id=order_id)
        assert PurchaseOrder.objects.get(pk=order_id).state == OrderState.RECEIVED
    claims = depot_client.get("/admin/ordering/claim/").content.decode()
    assert order.number in claims
    assert "Two cans short, one dented" in claims
    assert depot_client.get(f"/admin/ordering/claim/{claim.pk}/change/").status_code == 200

    # 7. The ledger: on hand rose by the good units received, through receipt movements of this order.
    with merchant_context(merchant.pk):
        on_hand_after = StoreProduct.objects.get(pk=cola_item.pk).on_hand
        receipts = list(
            StockMovement.objects.filter(reference=f"ordering.purchaseorder:{order_id}").values_list(
                "store_product_id", "kind", "quantity"
            )
        )
    assert on_hand_after - on_hand_before == counted - 1
    assert sorted(receipts) == sorted([(cola_item.pk, "receipt", counted - 1), (chips_item.pk, "receipt", 6)])
