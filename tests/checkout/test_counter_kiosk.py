"""What a German kiosk sells at the counter: PLUs, scale labels, deposits and return slips, items without a
barcode, and discounts within the clerk's limit."""

from __future__ import annotations

from typing import Any

import pytest

from catalog import gtin
from catalog.models import Barcode, BarcodeKind, MovementKind, StockMovement, StoreProduct
from catalog.services.stock import stock_move
from checkout.errors import CheckoutError
from checkout.models import CounterSale, Order, OrderLine, OrderStatus, Shift
from checkout.services import counter, shifts
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import BarcodeFactory, StoreProductFactory

pytestmark = pytest.mark.django_db


def _stocked(store: Store, units: int, **kwargs: Any) -> StoreProduct:
    item = StoreProductFactory(store=store, **kwargs)
    if units:
        stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=units)
    return item


def _code(item: StoreProduct) -> str:
    return item.product.gtin[1:]  # type: ignore[union-attr]


def _order(order: Order) -> Order:
    with merchant_context(order.merchant_id):
        return Order.objects.get(pk=order.pk)


def _lines(order: Order) -> list[tuple[str, int | None, int, int, int, int]]:
    """(kind, store product, quantity, unit price, line total, tax) of each line, in the order added."""
    with merchant_context(order.merchant_id):
        return list(
            OrderLine.objects.filter(order=order)
            .order_by("pk")
            .values_list("kind", "store_product_id", "quantity", "unit_price", "line_total", "tax_amount")
        )


def _line(order: Order, **filters: Any) -> OrderLine:
    with merchant_context(order.merchant_id):
        return OrderLine.objects.get(order=order, **filters)


def _on_hand(item: StoreProduct) -> int:
    with merchant_context(item.merchant_id):
        return StoreProduct.objects.get(pk=item.pk).on_hand


def _slip(number: int, value: int, prefix: str = "98") -> str:
    """A return slip as a bottle machine prints it: prefix, slip number, the deposit in cents, check digit."""
    return gtin.make(f"{prefix}{number:05d}{value:05d}")


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    # Einweg: 0,25 € deposit a can, taxed like the cola at 19 %.
    return _stocked(store, 20, price=249, deposit=25, product__tax_class="standard", product__name="Quellwerk Cola")


@pytest.fixture
def cheese(store: Store) -> StoreProduct:
    """Bergkäse at 19,90 €/kg, stock in grams, weighed on the scale that prints labels 23 12345 ..."""
    item = _stocked(
        store,
        5000,
        price=1990,
        product__name="Bergkäse",
        product__tax_class="reduced",
        product__is_sold_by_weight=True,
        product__content_unit="kg",
    )
    Barcode.objects.create(
        wholesaler=item.product.wholesaler, product=item.product, code="2312345", kind=BarcodeKind.VARIABLE
    )
    return item


@pytest.fixture
def cake(store: Store) -> StoreProduct:
    """Cake by the piece, priced on the scale: labels 21 12345 ... carry the price."""
    item = _stocked(store, 10, price=300, product__name="Apfelkuchen", product__tax_class="reduced")
    Barcode.objects.create(
        wholesaler=item.product.wholesaler, product=item.product, code="2112345", kind=BarcodeKind.VARIABLE
    )
    return item


@pytest.fixture
def rolls(store: Store) -> StoreProduct:
    return _stocked(store, 100, product=None, local_name="Brötchen", local_tax_class="reduced", price=45, plu="12")


@pytest.fixture
def shift(store: Store, clerk: Any) -> Shift:
    return shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)


@pytest.fixture
def sale(shift: Shift, clerk: Any) -> Order:
    return counter.counter_sale_start(shift=shift, clerk=clerk)


# PLUs and scale labels ----------------------------------------------------------------------------


def test_a_plu_typed_at_the_counter_adds_its_product(sale: Order, rolls: StoreProduct) -> None:
    outcomes = counter.counter_lines_scan(order=sale, codes=["12", "12", "77"])
    assert [(o.store_product_id, o.added, o.problem) for o in outcomes] == [
        (rolls.pk, 1, ""),
        (rolls.pk, 1, ""),
        (None, 0, "No product of this shop has the PLU 77."),
    ]
    # 2 × 0,45 with 7 % inside (0,06).
    assert _lines(sale) == [("product", rolls.pk, 2, 45, 90, 6)]


def test_a_weight_label_is_priced_from_its_weight_and_each_label_is_its_own_line(
    sale: Order, clerk: Any, cheese: StoreProduct
) -> None:
    quarter = gtin.variable_code("2312345", 250)
    outcomes = counter.counter_lines_scan(order=sale, codes=[quarter, gtin.variable_code("2312345", 300), quarter])
    assert [(o.store_product_id, o.problem) for o in outcomes] == [(cheese.pk, "")] * 3
    # 250 g × 19,90 €/kg = 4,975 -> 4,98 (7 % inside: 0,33); 300 g = 5,97. The same label twice: two pieces.
    assert _lines(sale) == [("product", cheese.pk, 2, 498, 996, 65), ("product", cheese.pk, 1, 597, 597, 39)]
    first = _line(sale, code=quarter)
    assert (first.weight_grams, first.code) == (250, quarter)
    assert _order(sale).total == 1593
    counter.counter_pay_cash(order=sale, tendered=2000, recorded_by=clerk)
    # The ledger counts grams: 2 × 250 + 300.
    assert _on_hand(cheese) == 5000 - 800


def test_a_price_label_sells_at_its_price_and_moves_one_piece(sale: Order, clerk: Any, cake: StoreProduct) -> None:
    label = gtin.variable_code("2112345", 349)
    assert counter.counter_line_scan(order=sale, code=label).problem == ""
    assert _lines(sale) == [("product", cake.pk, 1, 349, 349, 23)]
    assert _line(sale, code=label).weight_grams is None  # sold by the piece
    counter.counter_pay_cash(order=sale, tendered=349, recorded_by=clerk)
    assert _on_hand(cake) == 9


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        # A label with one digit wrong: the check digit catches it.
        (gtin.variable_code("2312345", 250)[:-1] + "0", "Wrong check digit"),
        (gtin.variable_code("2312345", 0), "Bergkäse: the scale label shows no weight (0 g). Weigh it again."),
        # The product's plain barcode: its price is per kilogram, only a label says what this piece costs.
        ("plain", "Bergkäse is sold by weight: weigh it and scan the scale label."),
    ],
)
def test_a_bad_scale_label_adds_nothing_and_says_why(
    sale: Order, cheese: StoreProduct, label: str, problem: str
) -> None:
    code = _code(cheese) if label == "plain" else label
    outcome = counter.counter_line_scan(order=sale, code=code)
    assert problem in outcome.problem
    assert outcome.added == 0
    assert _lines(sale) == []
    assert _order(sale).total == 0


# Deposits -----------------------------------------------------------------------------------------


def test_a_product_with_a_deposit_brings_its_deposit_line_which_follows_it(sale: Order, cola: StoreProduct) -> None:
    counter.counter_lines_scan(order=sale, codes=[_code(cola), _code(cola)])
    product = _line(sale, kind="product")
    deposit = _line(sale, kind="deposit")
    # 2 × 2,49 (19 % inside: 0,80) and 2 × 0,25 deposit, taxed at the cola's 19 % (0,08).
    assert _lines(sale) == [("product", cola.pk, 2, 249, 498, 80), ("deposit", None, 2, 25, 50, 8)]
    assert (deposit.deposit_for_id, deposit.name, deposit.tax_rate) == (product.pk, "Deposit Quellwerk Cola", 1900)
    order = _order(sale)
    assert (order.total, order.tax_total, order.deposit_total) == (548, 88, 50)
    # A six-pack adds six cans and six deposits.
    six = BarcodeFactory(product=cola.product, quantity=6)
    counter.counter_line_scan(order=sale, code=six.code)
    assert _lines(sale) == [("product", cola.pk, 8, 249, 1992, 318), ("deposit", None, 8, 25, 200, 32)]
    counter.counter_line_set_quantity(order=sale, line_id=product.pk, quantity=3)
    assert _lines(sale) == [("product", cola.pk, 3, 249, 747, 119), ("deposit", None, 3, 25, 75, 12)]
    assert _order(sale).deposit_total == 75
    # The deposit follows its product: it cannot be changed or voided on its own.
    with pytest.raises(CheckoutError, match="The deposit follows its product"):
        counter.counter_line_set_quantity(order=sale, line_id=deposit.pk, quantity=1)
    with pytest.raises(CheckoutError, match="The deposit goes with its product"):
        counter.counter_line_void(order=sale, line_id=deposit.pk)
    # Voiding the cola takes its deposit with it; one void is counted.
    counter.counter_line_void(order=sale, line_id=product.pk)
    assert _lines(sale) == []
    assert (_order(sale).total, _order(sale).deposit_total) == (0, 0)
    with merchant_context(sale.merchant_id):
        assert CounterSale.objects.get(order=sale).lines_voided == 1


def test_a_return_slip_gives_its_deposit_back_once(
    shift: Shift, sale: Order, clerk: Any, manager: Any, cola: StoreProduct
) -> None:
    slip = _slip(4711, 125)
    counter.counter_lines_scan(order=sale, codes=[_code(cola), slip])
    # 1,25 back, at the standard rate: −0,20 tax.
    assert _lines(sale)[-1] == ("deposit_return", None, 1, -125, -125, -20)
    assert _line(sale, kind="deposit_return").code == slip
    order = _order(sale)
    # 2,49 + 0,25 − 1,25.
    assert (order.total, order.deposit_total, order.tax_total) == (149, -100, 40 + 4 - 20)
    assert counter.counter_line_scan(order=sale, code=slip).problem == (
        "This return slip is already on this sale; a slip counts once."
    )
    # Another till cannot take the same slip while this sale holds it, nor after it was paid back.
    other = counter.counter_sale_start(shift=shift, clerk=manager)
    assert counter.counter_line_scan(order=other, code=slip).problem == (
        f"This return slip was already on another sale that is not finished (sale {sale.number}); it counts once."
    )
    counter.counter_pay_cash(order=sale, tendered=200, recorded_by=clerk)
    assert counter.counter_line_scan(order=other, code=slip).problem == (
        f"This return slip was already paid back (sale {sale.number}); it counts once."
    )
    assert _lines(other) == []
    # Stock moved for the cola only.
    with merchant_context(sale.merchant_id):
        assert list(StockMovement.objects.filter(kind="sale").values_list("store_product_id", "quantity")) == [
            (cola.pk, -1)
        ]


@pytest.mark.usefixtures("cola")
def test_a_misread_slip_or_a_shop_without_slips_adds_no_deposit(sale: Order, merchant: Merchant) -> None:
    slip = _slip(4711, 125)
    misread = slip[:-1] + str((int(slip[-1]) + 1) % 10)
    assert counter.counter_line_scan(order=sale, code=misread).problem == (
        "This return slip's barcode does not read right (wrong check digit); type it again."
    )
    assert counter.counter_line_scan(order=sale, code=_slip(1, 0)).problem == (
        "This return slip is worth nothing (0); it adds nothing."
    )
    Merchant.objects.filter(pk=merchant.pk).update(deposit_slip_prefix="")
    assert counter.counter_line_scan(order=sale, code=slip).problem == (
        "This shop does not sell a product with this barcode."
    )
    assert _lines(sale) == []


def test_slips_worth_more_than_the_goods_are_paid_out_not_taken(sale: Order, clerk: Any, cola: StoreProduct) -> None:
    counter.counter_lines_scan(order=sale, codes=[_slip(1, 300)])
    assert _order(sale).total == -300
    with pytest.raises(CheckoutError) as refused:
        counter.counter_pay_cash(order=sale, tendered=0, recorded_by=clerk)
    assert refused.value.messages[0] == (
        "The deposit returned is 3,00\xa0€ more than the goods: pay 3,00\xa0€ out of the drawer."
    )
    assert _order(sale).status == OrderStatus.PENDING
    # With the shopper's goods the slip is paid back against them: 4 × (2,49 + 0,25) − 3,00 = 7,96.
    counter.counter_lines_scan(order=sale, codes=[_code(cola)] * 4)
    payment = counter.counter_pay_cash(order=sale, tendered=1000, recorded_by=clerk)
    assert (payment.amount, payment.change_given) == (796, 204)


# Items without a barcode --------------------------------------------------------------------------


def test_an_open_price_item_sells_at_the_price_and_rate_given(sale: Order, clerk: Any) -> None:
    line = counter.counter_line_open_price(
        order=sale, name="  Apfelkuchen   vom Nachbarn ", amount=350, tax_class="reduced"
    )
    assert (line.kind, line.store_product_id, line.name, line.tax_rate) == (
        "open_price",
        None,
        "Apfelkuchen vom Nachbarn",
        700,
    )
    # 3,50 with 7 % inside: 0,23.
    assert _lines(sale) == [("open_price", None, 1, 350, 350, 23)]
    payment = counter.counter_pay_cash(order=sale, tendered=500, recorded_by=clerk)
    assert (payment.amount, payment.change_given) == (350, 150)
    with merchant_context(sale.merchant_id):
        assert not StockMovement.objects.filter(kind="sale").exists()


@pytest.mark.parametrize(
    ("name", "amount", "tax_class", "message"),
    [
        ("   ", 350, "reduced", "Say what the item is"),
        ("Kuchen", 0, "reduced", "The price must be more than zero."),
        ("Kuchen", 100_001, "reduced", "An item without a barcode costs at most 1.000,00\xa0€ here"),
        ("Kuchen", 350, "luxury", "Choose one of the VAT rates shown."),
    ],
)
def test_a_bad_open_price_item_is_refused_and_nothing_is_added(
    sale: Order, name: str, amount: int, tax_class: str, message: str
) -> None:
    with pytest.raises(CheckoutError) as refused:
        counter.counter_line_open_price(order=sale, name=name, amount=amount, tax_class=tax_class)
    assert refused.value.messages[0].startswith(message)
    assert _lines(sale) == []
    assert _order(sale).total == 0


# Discounts ----------------------------------------------------------------------------------------


def test_a_clerk_discounts_a_line_within_the_limit_and_not_beyond(sale: Order, clerk: Any, cola: StoreProduct) -> None:
    counter.counter_lines_scan(order=sale, codes=[_code(cola), _code(cola)])
    product = _line(sale, kind="product")
    deposit = _line(sale, kind="deposit")
    # The owner's limit for clerks is 10 % (the default): 20 % is refused and changes nothing.
    with pytest.raises(CheckoutError) as refused:
        counter.counter_line_discount(
            order=sale, line_id=product.pk, discount=counter.Discount(percent=2000, reason="Dented"), given_by=clerk
        )
    assert refused.value.messages == [
        "A discount of 20 % on 2 × Quellwerk Cola is more than the 10 % you may give: ask the owner or a manager."
    ]
    # 0,50 € of 4,98 is 10,04 %: also beyond.
    with pytest.raises(CheckoutError) as refused:
        counter.counter_line_discount(
            order=sale, line_id=product.pk, discount=counter.Discount(amount=50, reason="Dented"), given_by=clerk
        )
    assert refused.value.messages == [
        "A discount of 0,50\xa0€ (10,04 %) on 2 × Quellwerk Cola is more than the 10 % you may give: "
        "ask the owner or a manager."
    ]
    with pytest.raises(CheckoutError, match="Give a reason"):
        counter.counter_line_discount(
            order=sale, line_id=product.pk, discount=counter.Discount(percent=500, reason="  "), given_by=clerk
        )
    with pytest.raises(CheckoutError, match="Deposits are not discounted"):
        counter.counter_line_discount(
            order=sale, line_id=deposit.pk, discount=counter.Discount(percent=500, reason="Dented"), given_by=clerk
        )
    assert _order(sale).total == 548
    line = counter.counter_line_discount(
        order=sale, line_id=product.pk, discount=counter.Discount(percent=1000, reason="Dented can"), given_by=clerk
    )
    # 10 % of 4,98 = 0,50: the line costs 4,48 (19 % inside: 0,72); the deposit stays whole.
    assert (line.discount, line.discount_percent, line.discount_reason, line.discount_by_id) == (
        50,
        1000,
        "Dented can",
        clerk.pk,
    )
    assert _lines(sale) == [("product", cola.pk, 2, 249, 448, 72), ("deposit", None, 2, 25, 50, 8)]
    order = _order(sale)
    assert (order.total, order.discount_total, order.deposit_total) == (498, 50, 50)
    # Its quantity stays while it has a discount; scanning more of it says so.
    with pytest.raises(CheckoutError, match="Quellwerk Cola has a discount"):
        counter.counter_line_set_quantity(order=sale, line_id=product.pk, quantity=3)
    assert "its line has a discount" in counter.counter_line_scan(order=sale, code=_code(cola)).problem
    counter.counter_line_discount_remove(order=sale, line_id=product.pk)
    assert _order(sale).total == 548


def test_owners_and_managers_give_any_discount_and_a_limit_of_zero_stops_clerks(
    sale: Order, merchant: Merchant, clerk: Any, owner: Any, manager: Any, outsider: Any, cola: StoreProduct
) -> None:
    assert [counter.discount_limit(merchant=merchant, user=user) for user in (owner, manager, clerk, outsider)] == [
        100,
        100,
        10,
        0,
    ]
    counter.counter_line_scan(order=sale, code=_code(cola))
    product = _line(sale, kind="product")
    line = counter.counter_line_discount(
        order=sale, line_id=product.pk, discount=counter.Discount(amount=149, reason="Regular"), given_by=owner
    )
    assert (line.discount, line.line_total) == (149, 100)
    Merchant.objects.filter(pk=merchant.pk).update(clerk_discount_limit=0)
    with pytest.raises(CheckoutError) as refused:
        counter.counter_line_discount(
            order=sale, line_id=product.pk, discount=counter.Discount(percent=100, reason="Regular"), given_by=clerk
        )
    assert refused.value.messages == ["You may not give discounts: ask the owner or a manager."]
    assert _line(sale, kind="product").discount == 149


def test_a_discount_on_the_sale_is_shared_over_its_goods_and_freezes_the_sale(
    sale: Order, clerk: Any, owner: Any, cola: StoreProduct
) -> None:
    counter.counter_line_scan(order=sale, code=_code(cola))
    counter.counter_line_open_price(order=sale, name="Kuchen", amount=351, tax_class="reduced")
    with pytest.raises(CheckoutError) as refused:
        counter.counter_sale_discount(
            order=sale, discount=counter.Discount(amount=100, reason="Regular"), given_by=clerk
        )
    assert refused.value.messages == [
        "A discount of 1,00\xa0€ (16,66 %) on this sale is more than the 10 % you may give: ask the owner or a manager."
    ]
    order = counter.counter_sale_discount(
        order=sale, discount=counter.Discount(percent=1000, reason="Regular customer"), given_by=owner
    )
    # 10 % of the goods (2,49 + 3,51 = 6,00) is 0,60: 0,249 … of it to the cola, 0,351 to the cake, the
    # leftover cent to the larger remainder (the cola). Deposits are not discounted.
    assert (order.sale_discount, order.sale_discount_percent, order.sale_discount_reason) == (
        60,
        1000,
        "Regular customer",
    )
    assert _lines(sale) == [
        ("product", cola.pk, 1, 249, 224, 36),
        ("deposit", None, 1, 25, 25, 4),
        ("open_price", None, 1, 351, 316, 21),
    ]
    assert (_order(sale).total, _order(sale).discount_total) == (565, 60)
    # While it stands the sale does not change: it was worked out on the sale as it is.
    with pytest.raises(CheckoutError, match="take that discount off before changing the sale"):
        counter.counter_line_scan(order=sale, code=_code(cola))
    counter.counter_sale_discount_remove(order=sale)
    assert _order(sale).total == 625
    assert [line[4] for line in _lines(sale)] == [249, 25, 351]
    payment = counter.counter_pay_cash(order=sale, tendered=625, recorded_by=clerk)
    assert payment.amount == 625
