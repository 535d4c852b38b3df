"""Bottles a kiosk takes back by hand at the counter (no slip from the machine), and a sale whose deposits
returned exceed its goods, settled by paying the difference out of the drawer: the line, the payment, the
shift's cash and the refusals."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import MovementKind, StockMovement, StoreProduct
from catalog.services.stock import stock_move
from checkout.errors import CheckoutError
from checkout.models import CounterPayment, CounterSale, Order, OrderLine, OrderStatus, Shift
from checkout.selectors import counter as counter_selectors
from checkout.services import counter, shifts
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory

pytestmark = pytest.mark.django_db


def _stocked(store: Store, **kwargs: Any) -> StoreProduct:
    item = StoreProductFactory(store=store, **kwargs)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=20)
    return item


def _code(item: StoreProduct) -> str:
    return item.product.gtin[1:]  # type: ignore[union-attr]


def _order(order: Order) -> Order:
    with merchant_context(order.merchant_id):
        return Order.objects.get(pk=order.pk)


def _lines(order: Order) -> list[tuple[str, str, int, int, int, int]]:
    """(kind, name, quantity, unit price, line total, tax) of each line, in the order added."""
    with merchant_context(order.merchant_id):
        return list(
            OrderLine.objects.filter(order=order)
            .order_by("pk")
            .values_list("kind", "name", "quantity", "unit_price", "line_total", "tax_amount")
        )


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    # Einweg: 0,25 € a can.
    return _stocked(store, price=249, deposit=25, product__tax_class="standard", product__name="Quellwerk Cola")


@pytest.fixture
def deposits(store: Store, cola: StoreProduct) -> list[int]:
    """The store's products carry 0,08 (beer, Mehrweg), 0,15 (water, Mehrweg) and 0,25 (cola, Einweg)."""
    _stocked(store, price=99, deposit=8, product__tax_class="standard", product__name="Linden Pils")
    _stocked(store, price=69, deposit=15, product__tax_class="standard", product__name="Quelle Still")
    _stocked(store, price=89, deposit=15, product__tax_class="standard", product__name="Quelle Medium")
    return [8, 15, cola.deposit]


@pytest.fixture
def shift(store: Store, clerk: Any) -> Shift:
    return shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)


@pytest.fixture
def sale(shift: Shift, clerk: Any) -> Order:
    return counter.counter_sale_start(shift=shift, clerk=clerk)


@pytest.mark.usefixtures("deposits")
def test_the_deposits_offered_are_those_the_stores_products_carry(store: Store, other_store: Store) -> None:
    # Another merchant's 0,33 and a product without deposit are not offered.
    _stocked(other_store, price=100, deposit=33, product__name="Fremdes Bier")
    _stocked(store, price=100, deposit=0, product__name="Kaugummi")
    assert counter_selectors.deposit_amounts(store=store) == [8, 15, 25]


@pytest.mark.usefixtures("deposits")
def test_six_bottles_alone_are_paid_out_in_cash_and_the_drawer_expects_that_much_less(
    sale: Order, shift: Shift, clerk: Any
) -> None:
    line = counter.counter_bottles_return(order=sale, bottles=6, deposit=25)
    # 6 × 0,25 back at the standard rate (19 % inside): −0,24 tax.
    assert _lines(sale) == [("deposit_return", "Deposit returned: 6 x 0,25\xa0€", 6, -25, -150, -24)]
    assert (line.code, line.store_product_id) == ("", None)
    assert (_order(sale).total, _order(sale).deposit_total) == (-150, -150)

    payment = counter.counter_pay_out(order=sale, recorded_by=clerk)
    assert (payment.method, payment.amount, payment.amount_tendered, payment.change_given) == ("cash", -150, 0, 150)
    assert payment.recorded_by_id == clerk.pk
    assert _order(sale).status == OrderStatus.PAID
    # A replay (double click) pays out nothing more.
    assert counter.counter_pay_out(order=sale, recorded_by=clerk).pk == payment.pk
    with merchant_context(sale.merchant_id):
        assert CounterPayment.objects.count() == 1
        assert not StockMovement.objects.filter(kind=MovementKind.SALE).exists()

    totals = counter_selectors.shift_totals(shift=shift)
    assert totals == counter_selectors.ShiftTotals(
        sales=0,
        cash_sales=0,
        cash_tendered=0,
        change_given=0,
        card_sales=0,
        reader_sales=0,
        cancelled=0,
        lines_voided=0,
        cash_refunds=0,
        expected_cash=10000 - 150,
        cash_paid_out=150,
        payouts=1,
    )
    closed = shifts.shift_close(shift=shift, closed_by=clerk, counted_cash=9850)
    assert (closed.expected_cash, closed.difference) == (9850, 0)


@pytest.mark.usefixtures("deposits")
def test_bottles_mixed_with_goods_come_off_the_sale_and_a_later_payout_leaves_the_cash_count_exact(
    shift: Shift, sale: Order, clerk: Any, cola: StoreProduct
) -> None:
    # 2 colas (2 × 2,49 + 2 × 0,25 deposit) less 6 water bottles back (6 × 0,15): 5,48 − 0,90 = 4,58.
    counter.counter_lines_scan(order=sale, codes=[_code(cola)] * 2)
    counter.counter_bottles_return(order=sale, bottles=6, deposit=15)
    assert _lines(sale)[-1] == ("deposit_return", "Deposit returned: 6 x 0,15\xa0€", 6, -15, -90, -14)
    assert _order(sale).total == 458
    paid = counter.counter_pay_cash(order=sale, tendered=500, recorded_by=clerk)
    assert (paid.amount, paid.change_given) == (458, 42)

    # The next shopper buys one cola (2,74 with its deposit) and brings 20 cans back (5,00): 2,26 paid out.
    second = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=second, codes=[_code(cola)])
    counter.counter_bottles_return(order=second, bottles=20, deposit=25)
    assert _order(second).total == -226
    out = counter.counter_pay_out(order=second, recorded_by=clerk)
    assert (out.amount, out.amount_tendered, out.change_given) == (-226, 0, 226)

    totals = counter_selectors.shift_totals(shift=shift)
    assert (totals.sales, totals.cash_sales, totals.cash_tendered, totals.change_given) == (1, 458, 500, 42)
    assert (totals.cash_paid_out, totals.payouts) == (226, 1)
    # 100,00 + 5,00 − 0,42 − 2,26.
    assert totals.expected_cash == 10232
    # The cola went out of stock all the same: 3 cans sold.
    with merchant_context(sale.merchant_id):
        assert sum(StockMovement.objects.filter(kind=MovementKind.SALE).values_list("quantity", flat=True)) == -3
    closed = shifts.shift_close(shift=shift, closed_by=clerk, counted_cash=10232)
    assert closed.difference == 0


@pytest.mark.usefixtures("deposits")
@pytest.mark.parametrize(
    ("bottles", "deposit", "message"),
    [
        (0, 25, "Enter how many bottles were returned: 1 or more."),
        (-6, 25, "Enter how many bottles were returned: 1 or more."),
        (201, 25, "At most 200 bottles at once; count the rest as another return."),
        (6, 30, "Choose one of the deposits this store's products carry (0,08\xa0€, 0,15\xa0€, 0,25\xa0€)."),
        (6, -25, "Choose one of the deposits this store's products carry (0,08\xa0€, 0,15\xa0€, 0,25\xa0€)."),
    ],
)
def test_a_bad_return_is_refused_with_its_reason_and_nothing_changes(
    sale: Order, cola: StoreProduct, bottles: int, deposit: int, message: str
) -> None:
    counter.counter_lines_scan(order=sale, codes=[_code(cola)])
    before = _lines(sale)
    with pytest.raises(CheckoutError) as refused:
        counter.counter_bottles_return(order=sale, bottles=bottles, deposit=deposit)
    assert refused.value.messages == [message]
    assert _lines(sale) == before
    assert _order(sale).total == 274


def test_a_store_without_deposit_products_takes_no_bottles_back(sale: Order) -> None:
    with pytest.raises(CheckoutError) as refused:
        counter.counter_bottles_return(order=sale, bottles=1, deposit=25)
    assert refused.value.messages == ["Choose one of the deposits this store's products carry (none)."]
    assert _lines(sale) == []


@pytest.mark.usefixtures("deposits")
def test_a_return_is_voided_like_a_slip_and_its_quantity_is_not_changed(sale: Order, cola: StoreProduct) -> None:
    counter.counter_lines_scan(order=sale, codes=[_code(cola)])
    line = counter.counter_bottles_return(order=sale, bottles=4, deposit=8)
    assert _order(sale).total == 274 - 32
    with pytest.raises(CheckoutError) as refused:
        counter.counter_line_set_quantity(order=sale, line_id=line.pk, quantity=5)
    assert refused.value.messages == ["A deposit returned counts once; void it to take it off."]
    counter.counter_line_void(order=sale, line_id=line.pk)
    assert [kind for kind, *_ in _lines(sale)] == ["product", "deposit"]
    assert _order(sale).total == 274
    with merchant_context(sale.merchant_id):
        assert CounterSale.objects.get(order=sale).lines_voided == 1


@pytest.mark.usefixtures("deposits")
def test_a_negative_total_is_not_taken_by_card_nor_as_cash_and_a_positive_one_is_not_paid_out(
    sale: Order, clerk: Any, cola: StoreProduct
) -> None:
    counter.counter_bottles_return(order=sale, bottles=6, deposit=25)
    with pytest.raises(CheckoutError) as by_card:
        counter.counter_pay_external_card(order=sale, recorded_by=clerk)
    assert by_card.value.messages == [
        "The deposit returned is 1,50\xa0€ more than the goods: a card cannot pay money out. "
        "Pay 1,50\xa0€ out of the drawer in cash, or add the shopper's goods."
    ]
    with pytest.raises(CheckoutError) as on_reader:
        counter.counter_card_start(order=sale)
    assert on_reader.value.code == "negative_total"
    with pytest.raises(CheckoutError) as as_cash:
        counter.counter_pay_cash(order=sale, tendered=0, recorded_by=clerk)
    assert as_cash.value.messages == [
        "The deposit returned is 1,50\xa0€ more than the goods: pay 1,50\xa0€ out of the drawer."
    ]
    assert (_order(sale).status, _order(sale).payment_intent) == (OrderStatus.PENDING, "")

    counter.counter_lines_scan(order=sale, codes=[_code(cola)])
    with pytest.raises(CheckoutError) as nothing_due:
        counter.counter_pay_out(order=sale, recorded_by=clerk)
    assert nothing_due.value.messages == ["Nothing to pay out: the sale comes to 1,24\xa0€. Take payment."]
    with merchant_context(sale.merchant_id):
        assert not CounterPayment.objects.exists()
    assert _order(sale).status == OrderStatus.PENDING
