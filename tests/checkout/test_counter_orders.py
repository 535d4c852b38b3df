"""Counter sales in the owner's orders: shown as paid in cash or on the terminal, refunded at the till (cash out
of the open shift's drawer), and the list's count and total for its filters."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import Order, OrderStatus, Refund, Shift
from checkout.selectors.counter import shift_totals
from checkout.services import counter, shifts
from checkout.services.refunds import RefundError, order_refund_at_till
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response: Any) -> str:
    return re.sub(r"[ \t\r\n]+", " ", response.content.decode())  # not \s: it would take the money's no-break spaces


def _order(order: Order) -> Order:
    with merchant_context(order.merchant_id):
        return Order.objects.get(pk=order.pk)


def _on_hand(item: StoreProduct) -> int:
    with merchant_context(item.merchant_id):
        return StoreProduct.objects.get(pk=item.pk).on_hand


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    item = StoreProductFactory(store=store, price=249, product__tax_class="standard", product__name="Quellwerk Cola")
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=10)
    return item


@pytest.fixture
def shift(store: Store, clerk: Any) -> Shift:
    return shifts.shift_open(store=store, opened_by=clerk, opening_cash=1000)


def _sold(shift: Shift, clerk: Any, item: StoreProduct, units: int, *, cash: int | None) -> Order:
    order = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=order, codes=[item.product.gtin[1:]] * units)  # type: ignore[union-attr]
    if cash is None:
        counter.counter_pay_external_card(order=order, recorded_by=clerk)
    else:
        counter.counter_pay_cash(order=order, tendered=cash, recorded_by=clerk)
    return _order(order)


def test_the_orders_list_names_the_payment_and_adds_up_what_its_filters_match(
    merchant: Merchant, shift: Shift, clerk: Any, owner: Any, cola: StoreProduct
) -> None:
    cash = _sold(shift, clerk, cola, 2, cash=500)
    card = _sold(shift, clerk, cola, 1, cash=None)
    pending = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_line_scan(order=pending, code=cola.product.gtin[1:])  # type: ignore[union-attr]
    client = _client(owner)
    page = client.get(f"/m/{merchant.slug}/orders/")
    body = _text(page)
    rows = dict(re.findall(r">(\d{6})</a></td>.*?<td data-payment>([^<]*)</td>", body))
    assert rows == {cash.number: "Cash", card.number: "Card (external terminal)", f"{pending.pk:06d}": "—"}
    # 3 orders, 2 of them paid: 4,98 + 2,49.
    assert '<strong>3 orders</strong>: 2 paid, <strong id="orders-paid-total">7,47\xa0€</strong>.' in body
    only_paid = _text(client.get(f"/m/{merchant.slug}/orders/", {"status": "paid"}))
    assert '<strong>2 orders</strong> match: 2 paid, <strong id="orders-paid-total">7,47\xa0€</strong>.' in only_paid
    # The number is what one searches by; a Stripe id is no longer what the field asks for.
    assert 'placeholder="Order number"' in body
    one = _text(client.get(f"/m/{merchant.slug}/orders/", {"q": str(cash.pk)}))
    assert '<strong>1 order</strong> matches: 1 paid, <strong id="orders-paid-total">4,98\xa0€</strong>.' in one


def test_a_cash_sale_is_shown_as_cash_not_as_a_stripe_payment(
    merchant: Merchant, shift: Shift, clerk: Any, owner: Any, cola: StoreProduct
) -> None:
    cash = _sold(shift, clerk, cola, 2, cash=500)
    body = _text(_client(owner).get(f"/m/{merchant.slug}/orders/{cash.pk}/"))
    assert '<dd id="order-payment-method">Cash</dd>' in body
    assert '<dd id="order-payment">Cash, 4,98\xa0€ (5,00\xa0€ given, 0,02\xa0€ change)</dd>' in body
    assert "counter:cash" not in body
    assert "Stripe payment" not in body
    assert 'name="method"' in body
    assert '<option value="cash">Cash from the till</option>' in body


def test_a_cash_refund_comes_out_of_the_open_shifts_drawer(
    merchant: Merchant, shift: Shift, clerk: Any, owner: Any, cola: StoreProduct
) -> None:
    cash = _sold(shift, clerk, cola, 2, cash=500)
    client = _client(owner)
    answer = client.post(
        f"/m/{merchant.slug}/orders/{cash.pk}/refund/", {"amount": "4,98", "method": "cash"}, follow=True
    )
    assert "Refunded 4,98\xa0€ of order" in _text(answer)
    assert "in cash from the till (it counts in the cash count of the open shift). Every unit is back in stock." in (
        _text(answer)
    )
    order = _order(cash)
    assert (order.status, order.amount_refunded) == (OrderStatus.REFUNDED, 498)
    with merchant_context(merchant.pk):
        refund = Refund.objects.get()
    assert (refund.method, refund.shift_id, refund.amount, refund.refunded_by_id, refund.stripe_reference) == (
        "cash",
        shift.pk,
        498,
        owner.pk,
        "",
    )
    assert _on_hand(cola) == 10
    # 10,00 float + 5,00 taken − 0,02 change − 4,98 back = 10,00.
    totals = shift_totals(shift=shift)
    assert (totals.cash_refunds, totals.expected_cash) == (498, 1000)
    closed = shifts.shift_close(shift=shift, closed_by=clerk, counted_cash=1000)
    assert (closed.expected_cash, closed.difference) == (1000, 0)


def test_a_cash_refund_needs_an_open_shift_with_the_cash_and_goes_no_other_way(
    merchant: Merchant, shift: Shift, clerk: Any, owner: Any, cola: StoreProduct
) -> None:
    cash = _sold(shift, clerk, cola, 2, cash=500)
    # The Stripe way is refused before Stripe is called: Stripe never saw this money.
    refused = _text(
        _client(owner).post(
            f"/m/{merchant.slug}/orders/{cash.pk}/refund/", {"amount": "1", "method": "stripe"}, follow=True
        )
    )
    assert "This sale was paid at the counter (cash): give the money back in cash from the till." in refused
    with pytest.raises(RefundError, match="give the money back in cash from the till"):
        order_refund_at_till(merchant=merchant, order_id=cash.pk, amount=100, method="external_card", refunded_by=owner)
    shifts.shift_close(shift=shift, closed_by=clerk, counted_cash=1498)
    with pytest.raises(RefundError, match="No shift is open at this store's till"):
        order_refund_at_till(merchant=merchant, order_id=cash.pk, amount=100, method="cash", refunded_by=owner)
    shifts.shift_open(store=shift.store, opened_by=clerk, opening_cash=100)
    with pytest.raises(RefundError) as refused:
        order_refund_at_till(merchant=merchant, order_id=cash.pk, amount=498, method="cash", refunded_by=owner)
    assert refused.value.messages == ["The drawer should hold only 1,00\xa0€; 4,98\xa0€ cannot come out of it."]
    with merchant_context(merchant.pk):
        assert not Refund.objects.exists()
    assert _order(cash).amount_refunded == 0


def test_a_terminal_card_sale_is_refunded_on_the_terminal_without_touching_the_drawer(
    merchant: Merchant, shift: Shift, clerk: Any, owner: Any, cola: StoreProduct
) -> None:
    card = _sold(shift, clerk, cola, 2, cash=None)
    order = order_refund_at_till(
        merchant=merchant, order_id=card.pk, amount=249, method="external_card", refunded_by=owner
    )
    assert (order.status, order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 249)
    with merchant_context(merchant.pk):
        assert list(Refund.objects.values_list("method", "shift_id", "amount")) == [("external_card", None, 249)]
    assert shift_totals(shift=shift).expected_cash == 1000
    # A partial refund returns no units by itself.
    assert _on_hand(cola) == 8
    with pytest.raises(RefundError) as refused:
        order_refund_at_till(merchant=merchant, order_id=card.pk, amount=250, method="external_card", refunded_by=owner)
    assert refused.value.messages[0].startswith("At most 2,49\xa0€ can still be refunded")


def test_a_clerk_cannot_refund_and_another_merchants_order_is_404(
    merchant: Merchant, shift: Shift, clerk: Any, other_owner: Any, cola: StoreProduct
) -> None:
    cash = _sold(shift, clerk, cola, 1, cash=249)
    url = f"/m/{merchant.slug}/orders/{cash.pk}/refund/"
    assert _client(clerk).post(url, {"amount": "2,49", "method": "cash"}).status_code == 403
    assert _client(other_owner).post(url, {"amount": "2,49", "method": "cash"}).status_code == 404
    assert (
        _client(other_owner)
        .post(f"/m/spaeti-park/orders/{cash.pk}/refund/", {"amount": "2,49", "method": "cash"})
        .status_code
        == 404
    )
    with merchant_context(merchant.pk):
        assert not Refund.objects.exists()
    assert _order(cash).status == OrderStatus.PAID
