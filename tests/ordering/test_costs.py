"""Receiving moves each product's moving-average cost with its stock, at the order's unit cost; a delivery in
another currency than the store's leaves the cost as it was and the order says so (no exchange rates)."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import MovementKind, Product, StoreProduct
from catalog.services.stock import stock_move
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import DepotStock, PurchaseOrder, PurchaseOrderLine, StoreSupply
from ordering.services import receiving
from tests.catalog.factories import ProductFactory
from tests.ordering.conftest import substituted

pytestmark = pytest.mark.django_db


@pytest.fixture
def costed(store: Store, shipped) -> tuple[PurchaseOrder, PurchaseOrderLine, StoreProduct]:  # type: ignore[no-untyped-def]
    """24 colas on hand at 0,50 €; a shipped order of 24 more at 0,62 €."""
    order, line, item = shipped
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=24)
    with merchant_context(store.merchant_id):
        StoreProduct.objects.filter(pk=item.pk).update(average_cost=50)
        PurchaseOrderLine.objects.filter(pk=line.pk).update(unit_cost=62)
    return order, line, item


def _item(item: StoreProduct) -> StoreProduct:
    with merchant_context(item.merchant_id):
        return StoreProduct.objects.get(pk=item.pk)


def _receive_url(merchant: Merchant, order: PurchaseOrder) -> str:
    return f"/m/{merchant.slug}/restock/orders/{order.pk}/receive/"


def test_a_received_delivery_moves_the_average_cost(owner_client: Client, merchant: Merchant, costed) -> None:  # type: ignore[no-untyped-def]
    order, line, item = costed
    response = owner_client.post(
        _receive_url(merchant, order), {"action": "receive", f"ok-{line.pk}": "on"}, follow=True
    )
    assert f"Order {order.number} received: everything is in stock." in response.content.decode()
    # 24 on hand at 0,50 € + 24 received at 0,62 € -> 0,56 €.
    assert (_item(item).on_hand, _item(item).average_cost) == (48, 56)
    assert "Costs left as they were" not in response.content.decode()


def test_damaged_units_are_not_averaged_in(costed) -> None:  # type: ignore[no-untyped-def]
    order, line, item = costed
    receiving.purchase_order_receive(
        merchant=order.merchant, order_id=order.pk, counts={line.pk: receiving.Count(received=24, damaged=4)}, by=None
    )
    # 20 good units: (24 × 50 + 20 × 62) / 44 = 55,45 -> 55.
    assert (_item(item).on_hand, _item(item).average_cost) == (44, 55)


def test_a_delivery_in_another_currency_is_booked_but_its_cost_refused_and_the_order_says_so(
    owner_client: Client, merchant: Merchant, costed
) -> None:  # type: ignore[no-untyped-def]
    order, line, item = costed
    with merchant_context(merchant.pk):
        PurchaseOrder.objects.filter(pk=order.pk).update(currency="CHF")
    response = owner_client.post(
        _receive_url(merchant, order), {"action": "receive", f"ok-{line.pk}": "on"}, follow=True
    )
    note = (
        "Costs left as they were: this delivery is priced in CHF and the store counts in EUR; "
        "Lingshou has no exchange rates to convert them."
    )
    body = response.content.decode()
    assert f'<p class="message message-info">{note}</p>' in body
    assert (_item(item).on_hand, _item(item).average_cost) == (48, 50)
    with merchant_context(merchant.pk):
        received = PurchaseOrder.objects.get(pk=order.pk)
        assert received.notes[-1] == note
        assert note in received.transitions.latest("at").note


def test_a_substitute_new_to_the_store_is_costed_at_the_lines_cost(
    store: Store,
    supply: StoreSupply,
    cola: Product,
    wholesaler,
    depot,  # type: ignore[no-untyped-def]
) -> None:
    del supply  # asked for so that the store is supplied; not used here
    zero = ProductFactory(wholesaler=wholesaler, name="Quellwerk Cola Zero", case_pack=12, wholesale_cost=90)
    DepotStock.objects.create(depot=depot, product=zero, on_hand=24)
    order, line = substituted(store, cola, zero, quantity=12)
    receiving.purchase_order_receive(merchant=store.merchant, order_id=order.pk, counts={}, by=None)
    with merchant_context(store.merchant_id):
        substitute = StoreProduct.objects.get(store=store, product=zero)
        billed = PurchaseOrderLine.objects.get(pk=line.pk).unit_cost
    # Listed at its wholesale cost (0,90 €), then 12 arrive with nothing on hand at the line's 0,80 €.
    assert (billed, substitute.on_hand, substitute.average_cost) == (80, 12, 80)
