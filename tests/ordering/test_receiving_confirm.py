"""Receiving files no claim by accident: everything as shipped in one tap, lines not counted are asked about
first with the claim each answer files, an answer books exactly the claim it was shown, and the phone labels
the ordered quantity."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from catalog.models import Product, StockMovement, StoreProduct
from merchants.models import Store
from merchants.tenancy import merchant_context, platform_access
from ordering.models import Claim, OrderState, PurchaseOrder, PurchaseOrderLine, StoreSupply
from ordering.services import drafting, editing, fulfilment
from tests.ordering.conftest import MONDAY_NOON, item_for

pytestmark = pytest.mark.django_db

Shipment = tuple[PurchaseOrder, PurchaseOrderLine, PurchaseOrderLine, StoreProduct, StoreProduct]


@pytest.fixture
def delivery(store: Store, supply: StoreSupply, cola: Product, chips: Product) -> Shipment:
    """A shipped order: 24 colas and 12 chips (the store had neither)."""
    del supply  # asked for so that the store is supplied; not used here
    cola_item, chips_item = item_for(store, cola), item_for(store, chips)
    order = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert order is not None
    cola_line = editing.purchase_order_line_add(
        merchant=store.merchant, order_id=order.pk, store_product_id=cola_item.pk, quantity=24
    )
    chips_line = editing.purchase_order_line_add(
        merchant=store.merchant, order_id=order.pk, store_product_id=chips_item.pk, quantity=12
    )
    editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_ship(merchant=store.merchant, order_id=order.pk, by=None)
    return order, cola_line, chips_line, cola_item, chips_item


def _url(order: PurchaseOrder) -> str:
    return f"/m/{order.merchant.slug}/restock/orders/{order.pk}/receive/"


def _booked(order: PurchaseOrder) -> tuple[str, int, list[tuple[str, int, int, int]]]:
    """The order's state, its stock movements and its claim lines (product, shipped, received, damaged)."""
    with platform_access(reason="test", actor="test"):
        claim = Claim.objects.filter(order=order).first()
        lines = (
            [
                (c.line.product.name, c.shipped, c.received, c.damaged)
                for c in claim.lines.order_by("line__product__name")
            ]
            if claim
            else []
        )
        return (
            PurchaseOrder.objects.get(pk=order.pk).state,
            StockMovement.objects.filter(reference=f"ordering.purchaseorder:{order.pk}").count(),
            lines,
        )


def _on_hand(*items: StoreProduct) -> list[int]:
    with platform_access(reason="test", actor="test"):
        return [StoreProduct.objects.get(pk=item.pk).on_hand for item in items]


def _token(text: str, mode: str) -> str:
    """The value of the answer button for ``mode`` ("shipped" or "missing") on the page."""
    found = re.search(rf'name="confirm" value="({mode}\|[^"]*)"', text)
    assert found is not None, text
    return html.unescape(found.group(1))


NOTHING_BOOKED = (OrderState.SHIPPED, 0, [])


def test_everything_arrived_as_shipped_books_every_line_in_one_tap_without_a_claim(
    owner_client: Client, delivery: Shipment
) -> None:
    order, _, _, cola_item, chips_item = delivery
    response = owner_client.post(_url(order), {"action": "all_shipped"}, follow=True)
    assert f"Order {order.number} received: everything is in stock." in response.content.decode()
    assert _booked(order) == (OrderState.RECEIVED, 2, [])
    assert _on_hand(cola_item, chips_item) == [24, 12]


def test_everything_arrived_is_refused_once_a_difference_is_counted_and_books_nothing(
    owner_client: Client, delivery: Shipment
) -> None:
    order, cola_line, chips_line, cola_item, chips_item = delivery
    response = owner_client.post(
        _url(order),
        {
            "action": "all_shipped",
            f"received-{cola_line.pk}": "20",
            f"ok-{chips_line.pk}": "on",
            f"damaged-{chips_line.pk}": "1",
        },
    )
    assert response.status_code == 400
    assert (
        f"You counted a difference for {chips_line.product}, {cola_line.product}: book with “Book into stock”"
        in html.unescape(response.content.decode())
    )
    # What was typed is still there.
    assert f'name="received-{cola_line.pk}" value="20"' in response.content.decode()
    assert _booked(order) == NOTHING_BOOKED
    assert _on_hand(cola_item, chips_item) == [0, 0]


def test_booking_with_a_line_not_counted_asks_first_and_says_which_claim_each_answer_files(
    owner_client: Client, delivery: Shipment
) -> None:
    order, cola_line, chips_line, _, _ = delivery
    response = owner_client.post(
        _url(order), {"action": "receive", f"received-{cola_line.pk}": "24", f"damaged-{cola_line.pk}": "2"}
    )
    text = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "1 line not counted yet" in text
    assert "<strong>Knusper Chips</strong> (12 shipped)" in text
    preview = re.findall(r'<ul class="small claim-preview">(.*?)</ul>', text, flags=re.DOTALL)
    # "It arrived as shipped": only the damaged colas; "Book it as missing": the chips too.
    assert preview == [
        "<li>Quellwerk Cola: 2 damaged</li>",
        "<li>Knusper Chips: 12 missing</li><li>Quellwerk Cola: 2 damaged</li>",
    ]
    assert _token(text, "shipped") == f"shipped|{cola_line.pk}:24:2"
    assert _token(text, "missing") == f"missing|{chips_line.pk}:0:0;{cola_line.pk}:24:2"
    assert '<tr class="row-invalid">\n        <td class="cell-product">Knusper Chips' in text
    assert _booked(order) == NOTHING_BOOKED


@pytest.mark.parametrize(
    ("mode", "claim", "on_hand"),
    [
        ("missing", [("Knusper Chips", 12, 0, 0), ("Quellwerk Cola", 24, 24, 2)], [22, 0]),
        ("shipped", [("Quellwerk Cola", 24, 24, 2)], [22, 12]),
    ],
)
def test_an_answer_books_exactly_the_claim_it_was_shown(
    owner_client: Client, delivery: Shipment, mode: str, claim: list[tuple[str, int, int, int]], on_hand: list[int]
) -> None:
    order, cola_line, _, cola_item, chips_item = delivery
    form = {"action": "receive", f"received-{cola_line.pk}": "24", f"damaged-{cola_line.pk}": "2"}
    asked = owner_client.post(_url(order), form).content.decode()
    response = owner_client.post(_url(order), {**form, "action": "", "confirm": _token(asked, mode)}, follow=True)
    assert "the differences went to the wholesaler as a claim" in response.content.decode()
    assert _booked(order) == (OrderState.RECEIVED, 1 if mode == "missing" else 2, claim)
    assert _on_hand(cola_item, chips_item) == on_hand


def test_an_answer_to_counts_that_changed_since_asks_again_and_books_nothing(
    owner_client: Client, delivery: Shipment
) -> None:
    order, cola_line, _, _, _ = delivery
    asked = owner_client.post(_url(order), {"action": "receive", f"received-{cola_line.pk}": "24"}).content.decode()
    token = _token(asked, "missing")
    response = owner_client.post(_url(order), {f"received-{cola_line.pk}": "23", "confirm": token})
    text = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "The counts changed since you were asked: check the claim again." in text
    assert "<li>Quellwerk Cola: 1 missing</li>" in text
    assert _booked(order) == NOTHING_BOOKED


@pytest.mark.parametrize(
    ("received", "damaged", "message"),
    [
        ("abc", "", ": counts are whole numbers of units, up to 100000."),
        ("9999999", "", ": counts are whole numbers of units, up to 100000."),
        ("-3", "", ": counts are whole numbers of units, up to 100000."),
        ("", "2", ": say how many arrived, not only how many are damaged."),
    ],
)
def test_a_count_that_is_not_a_count_is_refused_with_a_message_and_books_nothing(
    owner_client: Client, delivery: Shipment, received: str, damaged: str, message: str
) -> None:
    order, cola_line, chips_line, _, _ = delivery
    for action in ("receive", "all_shipped"):
        response = owner_client.post(
            _url(order),
            {
                "action": action,
                f"received-{cola_line.pk}": received,
                f"damaged-{cola_line.pk}": damaged,
                f"ok-{chips_line.pk}": "on",
            },
        )
        assert response.status_code == 400
        assert f"{cola_line.product}{message}" in response.content.decode()
    assert _booked(order) == NOTHING_BOOKED


def test_the_receiving_page_labels_ordered_and_shipped_on_every_line(owner_client: Client, delivery: Shipment) -> None:
    order, cola_line, chips_line, _, _ = delivery
    with merchant_context(order.merchant_id):
        # The depot had only 12 chips of 18 ordered: ordered and shipped differ, and both are shown.
        PurchaseOrderLine.objects.filter(pk=chips_line.pk).update(quantity=18)
    text = owner_client.get(_url(order)).content.decode()
    assert '<td class="num" data-label="Ordered">24</td>\n        <td class="num" data-label="Shipped">24</td>' in text
    assert '<td class="num" data-label="Ordered">18</td>\n        <td class="num" data-label="Shipped">12</td>' in text
    assert "Everything arrived as shipped" in text
    assert "Books all 2 lines as shipped in one tap" in text
    # The order page, where the quantity can no longer be changed, labels it too (the phone shows the label).
    order_page = owner_client.get(f"/m/{order.merchant.slug}/restock/orders/{order.pk}/").content.decode()
    assert f'<td class="num cell-ordered is-fixed" data-label="Ordered">{cola_line.quantity}</td>' in order_page


def test_a_clerk_cannot_receive_in_one_tap(client: Client, clerk, delivery: Shipment) -> None:  # type: ignore[no-untyped-def]
    order, _, _, _, _ = delivery
    client.force_login(clerk)
    assert client.post(_url(order), {"action": "all_shipped"}).status_code == 403
    assert _booked(order) == NOTHING_BOOKED
