"""Scale labels and deposits on the shopper's phone: a weighed label goes in the cart as its own line priced from
the label, a deposit is charged on its own line, and the ledger moves grams for what is sold by weight."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from catalog import gtin
from catalog.models import Barcode, BarcodeKind, MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout.errors import CheckoutError
from checkout.models import CartLine, OrderLine
from checkout.services.carts import cart_add, visit_start
from checkout.services.orders import order_mark_paid, order_place
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory

pytestmark = pytest.mark.django_db


def _text(response: Any) -> str:
    return re.sub(r"[ \t\r\n]+", " ", response.content.decode())


@pytest.fixture
def cheese(store: Store) -> StoreProduct:
    item = StoreProductFactory(
        store=store, price=1990, product__name="Bergkäse", product__tax_class="reduced", product__is_sold_by_weight=True
    )
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=1000)
    Barcode.objects.create(
        wholesaler=item.product.wholesaler, product=item.product, code="2312345", kind=BarcodeKind.VARIABLE
    )
    return item


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    item = StoreProductFactory(
        store=store, price=249, deposit=25, product__name="Quellwerk Cola", product__tax_class="standard"
    )
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=10)
    return item


def test_a_weighed_label_is_bought_on_the_phone_at_its_labels_price(
    store: Store, cheese: StoreProduct, cola: StoreProduct
) -> None:
    label = gtin.variable_code("2312345", 250)
    client = Client()
    page = _text(client.get(f"/s/{store.code}/p/{label}/"))
    # 250 g at 19,90 €/kg.
    assert "4,98\xa0€" in page
    assert "250 g, as weighed" in page
    assert f'<input type="hidden" name="code" value="{label}">' in page
    assert (
        client.post(f"/s/{store.code}/cart/add/", {"item": cheese.pk, "quantity": 1, "code": label}).status_code == 302
    )
    assert client.post(f"/s/{store.code}/cart/add/", {"item": cola.pk, "quantity": 2}).status_code == 302
    cart = _text(client.get(f"/s/{store.code}/cart/"))
    assert "4,98\xa0€ as weighed · 250 g" in cart
    assert "2,49\xa0€</span> each · plus 0,50\xa0€ deposit" in cart
    assert '<dt>Deposit</dt><dd class="num">0,50\xa0€</dd>' in cart
    # 4,98 + 2 × 2,49 + 2 × 0,25.
    assert '<dt>Total</dt><dd class="num">10,46\xa0€</dd>' in cart
    with merchant_context(store.merchant_id):
        visit = CartLine.objects.get(store_product=cheese).visit
    order = order_place(visit=visit)
    with merchant_context(store.merchant_id):
        lines = list(
            OrderLine.objects.filter(order=order)
            .order_by("pk")
            .values_list("kind", "store_product_id", "code", "weight_grams", "quantity", "unit_price", "line_total")
        )
    assert sorted(lines, key=lambda line: (line[0], line[1] or 0)) == sorted(
        [
            ("product", cheese.pk, label, 250, 1, 498, 498),
            ("product", cola.pk, "", None, 2, 249, 498),
            ("deposit", None, "", None, 2, 25, 50),
        ],
        key=lambda line: (line[0], line[1] or 0),
    )
    assert (order.total, order.deposit_total) == (1046, 50)
    assert order_mark_paid(
        merchant=store.merchant,
        order_id=order.pk,
        payment_intent=f"pi_test_{order.pk}",
        amount_received=1046,
        currency="EUR",
    )
    with merchant_context(store.merchant_id):
        on_hand = dict(StoreProduct.objects.filter(pk__in=[cheese.pk, cola.pk]).values_list("pk", "on_hand"))
        # What was paid for left the cart, the label's line included.
        assert not CartLine.objects.filter(visit=visit).exists()
    assert on_hand == {cheese.pk: 1000 - 250, cola.pk: 8}


def test_a_code_that_is_not_a_label_of_the_product_stays_out_of_the_cart(
    store: Store, cheese: StoreProduct, cola: StoreProduct
) -> None:
    visit = visit_start(store=store)
    with pytest.raises(CheckoutError, match="This is not a scale label of that product"):
        cart_add(visit=visit, store_product_id=cola.pk, code=gtin.variable_code("2312345", 250))
    with pytest.raises(CheckoutError, match="scale label shows no weight"):
        cart_add(visit=visit, store_product_id=cheese.pk, code=gtin.variable_code("2312345", 0))
    with merchant_context(store.merchant_id):
        assert not CartLine.objects.exists()


def test_a_product_sold_by_weight_without_a_label_asks_to_weigh_it(store: Store, cheese: StoreProduct) -> None:
    page = _text(Client().get(f"/s/{store.code}/p/{cheese.product.gtin}/"))  # type: ignore[union-attr]
    assert "19,90\xa0€/kg" in page
    assert "Sold by weight: have it weighed, then scan the label the scale prints." in page
    assert "Add to cart" not in page
