"""The shopper's whole path over HTTP, paid through localstripe, marked paid by its signed webhook."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout import gateway
from checkout.models import ExitPass, Order, OrderStatus, WebhookEvent
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(merchant: Merchant, localstripe_webhook: str) -> tuple[Store, StoreProduct]:
    del localstripe_webhook  # requested for its effect: localstripe posts its events to the live server
    # localstripe signs its events with our secret and posts them to the live server.
    store = StoreFactory(merchant=merchant)
    item = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola")
    stock_move(merchant=merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=5)
    return store, item


def _wait_paid(order_id: int, merchant: Merchant, timeout: float = 40) -> Order:
    deadline = time.monotonic() + timeout
    while True:
        with merchant_context(merchant.pk):
            order = Order.objects.get(pk=order_id)
        if order.status == OrderStatus.PAID or time.monotonic() > deadline:
            return order
        time.sleep(0.2)


def _buy(client: Client, store: Store, item: StoreProduct, card: str) -> Any:
    assert client.get(f"/s/{store.code}/p/{item.product.gtin}/").status_code == 200
    client.post(f"/s/{store.code}/cart/add/", {"item": item.pk, "quantity": 2})
    pay_page = client.post(f"/s/{store.code}/checkout/", {"email": "shopper@example.com"})
    assert pay_page.status_code == 302, pay_page.content[:500]
    return client.post(pay_page["Location"], {"card": card})


@pytest.mark.usefixtures("clerk")
def test_scan_add_pay_webhook_receipt_and_exit_pass(merchant: Merchant, shop: tuple[Store, StoreProduct]) -> None:
    store, item = shop
    shopper = Client()
    paid = _buy(shopper, store, item, "4242424242424242")
    assert paid.status_code == 302
    assert "/orders/" in paid["Location"]
    with merchant_context(merchant.pk):
        order = Order.objects.get()
    order = _wait_paid(order.pk, merchant)
    assert order.status == OrderStatus.PAID  # set by localstripe's signed webhook, not by the browser
    assert (order.total, order.email) == (498, "shopper@example.com")
    # Exactly one event paid this order (localstripe also posts other tests' events here; they pay nothing).
    assert WebhookEvent.objects.filter(type="payment_intent.succeeded", summary=f"order {order.pk} paid").count() == 1
    with merchant_context(merchant.pk):
        assert StoreProduct.objects.get(pk=item.pk).on_hand == 3
        assert ExitPass.objects.filter(order=order).exists()
    receipt = shopper.get(paid["Location"]).content.decode()
    assert "Thank you" in receipt
    assert "<svg" in receipt  # the exit pass QR code
    assert "4,98\xa0€" in receipt
    assert "incl. 19 % VAT" in receipt
    # Another browser cannot open the order without its token; a made-up token is 404.
    assert Client().get(f"/s/{store.code}/orders/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_a_declined_card_charges_nothing_keeps_the_cart_and_the_stock(
    merchant: Merchant, shop: tuple[Store, StoreProduct]
) -> None:
    store, item = shop
    shopper = Client()
    declined = _buy(shopper, store, item, "4000000000000002")
    assert declined.status_code == 302
    assert declined["Location"] == f"/s/{store.code}/cart/"
    cart = shopper.get(declined["Location"]).content.decode()
    assert "declined" in cart.lower()
    assert "Quellwerk Cola" in cart  # still in the cart
    time.sleep(1.5)  # a failure webhook may still arrive; it must not pay anything
    with merchant_context(merchant.pk):
        order = Order.objects.get()
        assert order.status == OrderStatus.CANCELLED
        assert StoreProduct.objects.get(pk=item.pk).on_hand == 5


@pytest.mark.usefixtures("merchant")
def test_a_webhook_with_a_bad_signature_is_400_and_changes_nothing(shop: tuple[Store, StoreProduct]) -> None:
    _store, _item = shop
    body = b'{"id": "evt_forged", "type": "payment_intent.succeeded", "data": {"object": {}}}'
    response = Client().post(
        "/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=deadbeef"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert not WebhookEvent.objects.exists()


def test_a_tampered_price_cannot_reach_the_order(merchant: Merchant, shop: tuple[Store, StoreProduct]) -> None:
    store, item = shop
    shopper = Client()
    shopper.post(f"/s/{store.code}/cart/add/", {"item": item.pk, "quantity": 1, "price": "0.01", "unit_price": "1"})
    shopper.post(f"/s/{store.code}/checkout/", {"total": "1"})
    with merchant_context(merchant.pk):
        order = Order.objects.get()
    assert order.total == 249
    intent = gateway.intent_retrieve(intent_id=order.payment_intent, connected_account=None)
    assert intent.amount == 249


def test_the_last_unit_in_two_carts_one_is_told_before_paying(
    merchant: Merchant, shop: tuple[Store, StoreProduct]
) -> None:
    store, item = shop
    with merchant_context(merchant.pk):
        StoreProduct.objects.filter(pk=item.pk).update(on_hand=1)
    first, second = Client(), Client()
    for shopper in (first, second):
        shopper.post(f"/s/{store.code}/cart/add/", {"item": item.pk})
    assert first.post(f"/s/{store.code}/checkout/").status_code == 302
    late = second.post(f"/s/{store.code}/checkout/")
    assert late.status_code == 409
    assert "sold out" in late.content.decode()
    with merchant_context(merchant.pk):
        assert Order.objects.count() == 1


def test_an_order_is_found_only_under_its_own_store(
    merchant: Merchant, shop: tuple[Store, StoreProduct], other_store: Store
) -> None:
    store, item = shop
    shopper = Client()
    shopper.post(f"/s/{store.code}/cart/add/", {"item": item.pk})
    pay = shopper.post(f"/s/{store.code}/checkout/")["Location"]
    token = pay.rstrip("/").split("/")[-2]
    assert shopper.get(f"/s/{other_store.code}/orders/{token}/").status_code == 404
    assert shopper.post(f"/s/{other_store.code}/orders/{token}/pay/", {"card": "4242424242424242"}).status_code == 404
    with merchant_context(merchant.pk):
        assert Order.objects.get().status == OrderStatus.PENDING
