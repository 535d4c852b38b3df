"""With the broker down, what was committed still answers: a paid order and a shopper's price lookup send
their analytics tasks robustly (logged, and applied later by analytics' facts_sweep) instead of turning a
committed payment or a product page into a server error after the commit."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from kombu.exceptions import OperationalError

from analytics.models import AppliedFact
from analytics.services.facts import facts_sweep
from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import Order, OrderStatus
from checkout.services.carts import cart_add, visit_start
from checkout.services.orders import order_mark_paid, order_place
from config.celery import app
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every publish fails as kombu fails when Redis does not answer; returns the tasks tried."""
    tried: list[str] = []

    def refuse(name: str, *_: Any, **__: Any) -> None:
        tried.append(name)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(app, "send_task", refuse)
    return tried


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    item = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola")
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=10)
    return item


def test_a_payment_is_booked_and_answered_while_the_broker_is_down_and_its_fact_is_swept_in(
    store: Store, cola: StoreProduct, broker_down: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=cola.pk, quantity=2)
    order = order_place(visit=visit)
    with django_capture_on_commit_callbacks(execute=True):
        paid = order_mark_paid(
            merchant=store.merchant, order_id=order.pk, payment_intent=f"pi_test_{order.pk}", amount_received=498,
            currency="EUR",
        )  # fmt: skip
    assert paid
    assert "analytics.tasks.order_paid_apply" in broker_down
    with merchant_context(store.merchant_id):
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
        assert not AppliedFact.objects.filter(kind="order", key=order.pk).exists()
    # The lost enqueue is what the beat's sweep heals.
    assert facts_sweep(settle_seconds=0) >= 1
    with merchant_context(store.merchant_id):
        assert AppliedFact.objects.filter(kind="order", key=order.pk).exists()


def test_a_shoppers_product_page_answers_while_the_broker_is_down(
    store: Store, cola: StoreProduct, broker_down: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        page = Client().get(f"/s/{store.code}/p/{cola.product.gtin}/")  # type: ignore[union-attr]
    assert page.status_code == 200
    assert "Quellwerk Cola" in page.content.decode()
    assert broker_down == ["analytics.tasks.lookup_apply"]
