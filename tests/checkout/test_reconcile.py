"""No paid order is lost when the webhook never comes; abandoned orders let go of their stock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout import gateway
from checkout.models import Order, OrderStatus
from checkout.services.carts import cart_add, visit_start
from checkout.services.orders import order_place, orders_expire
from checkout.services.payments import payment_start, payments_reconcile
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory

pytestmark = pytest.mark.django_db


def _placed(store: Store) -> tuple[Order, StoreProduct]:
    item = StoreProductFactory(store=store, price=150)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=2)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=item.pk)
    return order_place(visit=visit), item


@pytest.mark.usefixtures("stripe_settings")
def test_a_payment_whose_webhook_never_came_is_found_and_booked_once(store: Store) -> None:
    order, item = _placed(store)
    order = payment_start(order=order)
    # The shopper paid, but the webhook endpoint was down: nobody told us.
    gateway.intent_confirm_with_test_card(
        intent_id=order.payment_intent, card_number="4242424242424242", connected_account=None
    )
    with merchant_context(store.merchant.pk):
        Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert payments_reconcile() == 1
    assert payments_reconcile() == 0  # the next run finds nothing more to do
    with merchant_context(store.merchant.pk):
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
        assert StoreProduct.objects.get(pk=item.pk).on_hand == 1
    # Orders stuck waiting for payment: none.
    assert not Order.objects.filter(status=OrderStatus.PENDING).exclude(payment_intent="").exists()


@pytest.mark.usefixtures("stripe_settings")
def test_an_unpaid_intent_stays_pending_through_reconciliation(store: Store) -> None:
    order, _item = _placed(store)
    order = payment_start(order=order)
    with merchant_context(store.merchant.pk):
        Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert payments_reconcile() == 0
    with merchant_context(store.merchant.pk):
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING


def test_an_abandoned_order_releases_its_units_at_expiry(store: Store) -> None:
    order, item = _placed(store)
    other = visit_start(store=store)
    cart_add(visit=other, store_product_id=item.pk)
    cart_add(visit=other, store_product_id=item.pk)
    with pytest.raises(Exception, match="only 1 left"):
        order_place(visit=other)
    with merchant_context(store.merchant.pk):
        Order.objects.filter(pk=order.pk).update(reserved_until=timezone.now() - timedelta(seconds=1))
    assert orders_expire() == 1
    assert orders_expire() == 0
    assert order_place(visit=other).total == 300
