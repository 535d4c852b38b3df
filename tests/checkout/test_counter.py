"""Counter mode: scans, lines, cash and card payments, shifts and their cash count, and who may do it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.models import MovementKind, StockMovement, StoreProduct
from catalog.services.stock import stock_move
from checkout.errors import CheckoutError
from checkout.models import (
    Channel,
    CounterPayment,
    CounterSale,
    ExitPass,
    Order,
    OrderLine,
    OrderStatus,
    Shift,
)
from checkout.selectors import counter as counter_selectors
from checkout.services import counter, shifts
from checkout.services.orders import age_check_confirm
from checkout.services.payments import webhook_event_process
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, platform_access
from tests.catalog.factories import BarcodeFactory, StoreProductFactory, next_gtin

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _stocked(store: Store, units: int, **kwargs: Any) -> StoreProduct:
    item = StoreProductFactory(store=store, **kwargs)
    if units:
        stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=units)
    return item


def _code(item: StoreProduct) -> str:
    return item.product.gtin[1:]  # type: ignore[union-attr] # the EAN-13 on the can, as a scanner reads it


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _order(order: Order) -> Order:
    with merchant_context(order.merchant_id):
        return Order.objects.get(pk=order.pk)


def _quantities(order: Order) -> dict[int, int]:
    with merchant_context(order.merchant_id):
        return dict(OrderLine.objects.filter(order=order).values_list("store_product_id", "quantity"))


def _on_hand(item: StoreProduct) -> int:
    with merchant_context(item.merchant_id):
        return StoreProduct.objects.get(pk=item.pk).on_hand


def _sales_booked(order: Order) -> int:
    with merchant_context(order.merchant_id):
        return StockMovement.objects.filter(kind="sale", reference=f"checkout.order:{order.pk}").count()


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    return _stocked(store, 10, price=249, product__tax_class="standard", product__name="Quellwerk Cola")


@pytest.fixture
def crisps(store: Store) -> StoreProduct:
    return _stocked(store, 10, price=199, product__tax_class="reduced", product__name="Knusper Chips")


@pytest.fixture
def shift(store: Store, clerk: Any) -> Shift:
    return shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)


@pytest.fixture
def sale(shift: Shift, clerk: Any) -> Order:
    return counter.counter_sale_start(shift=shift, clerk=clerk)


# Scanning -----------------------------------------------------------------------------------------


def test_each_scan_adds_one_and_the_sale_is_priced_like_a_shopper_order(
    sale: Order, cola: StoreProduct, crisps: StoreProduct
) -> None:
    outcomes = counter.counter_lines_scan(order=sale, codes=[_code(cola), _code(crisps), _code(cola)])
    assert [(o.store_product_id, o.added, o.problem) for o in outcomes] == [
        (cola.pk, 1, ""),
        (crisps.pk, 1, ""),
        (cola.pk, 1, ""),
    ]
    assert counter.counter_line_scan(order=sale, code=_code(cola)).added == 1
    assert _quantities(sale) == {cola.pk: 3, crisps.pk: 1}
    order = _order(sale)
    # 3 × 2,49 with 19 % inside (1,19) + 1,99 with 7 % inside (0,13).
    assert (order.subtotal, order.tax_total, order.total) == (946, 132, 946)
    assert (order.channel, order.status, order.reserved_until) == (Channel.COUNTER, OrderStatus.PENDING, None)


def test_a_pack_barcode_adds_the_units_it_stands_for(sale: Order, cola: StoreProduct) -> None:
    six_pack = BarcodeFactory(product=cola.product, quantity=6)
    outcome = counter.counter_line_scan(order=sale, code=six_pack.code)
    assert (outcome.added, outcome.problem) == (6, "")
    counter.counter_line_scan(order=sale, code=_code(cola))
    assert _quantities(sale) == {cola.pk: 7}
    assert _order(sale).total == 7 * 249


def test_an_unknown_barcode_says_so_and_changes_nothing(sale: Order, cola: StoreProduct) -> None:
    counter.counter_line_scan(order=sale, code=_code(cola))
    unknown = next_gtin()[1:]
    outcomes = counter.counter_lines_scan(order=sale, codes=[unknown, "12345", _code(cola)])
    assert [o.problem for o in outcomes] == [
        "This shop does not sell a product with this barcode.",
        outcomes[1].problem,
        "",
    ]
    assert outcomes[1].problem  # not a GTIN at all: says why
    # The scan after the unknown ones still counted; the unknown ones added nothing.
    assert _quantities(sale) == {cola.pk: 2}
    assert _order(sale).total == 498


@pytest.mark.usefixtures("cola")
def test_an_inactive_product_and_a_scale_label_are_refused_with_a_reason(sale: Order, store: Store) -> None:
    inactive = _stocked(store, 1, is_active=False)
    outcome = counter.counter_line_scan(order=sale, code=_code(inactive))
    assert outcome.problem == f"{inactive.name} is not for sale in this store."
    assert _quantities(sale) == {}


@pytest.mark.usefixtures("transactional_db")
def test_concurrent_scans_of_one_sale_are_all_counted(merchant: Merchant, clerk: Any) -> None:
    from tests.factories import StoreFactory

    store = StoreFactory(merchant=merchant)
    item = _stocked(store, 0, price=100)
    shift = shifts.shift_open(store=store, opened_by=clerk, opening_cash=0)
    order = counter.counter_sale_start(shift=shift, clerk=clerk)
    scanners, scans = 8, 5
    barrier = threading.Barrier(scanners)
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            barrier.wait()
            for _ in range(scans):
                counter.counter_line_scan(order=order, code=_code(item))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(scanners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _quantities(order) == {item.pk: scanners * scans}
    assert _order(order).total == scanners * scans * 100


@pytest.mark.usefixtures("transactional_db")
def test_first_scans_arriving_together_start_one_sale(store: Store, clerk: Any) -> None:
    shift = shifts.shift_open(store=store, opened_by=clerk, opening_cash=0)
    tills = 6
    barrier = threading.Barrier(tills)
    started: list[int] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            started.append(counter.counter_sale_start(shift=shift, clerk=clerk).pk)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(tills)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(started)) == 1
    with merchant_context(store.merchant.pk):
        assert CounterSale.objects.count() == 1


def test_the_clerks_sale_in_progress_is_continued_not_duplicated(shift: Shift, clerk: Any, manager: Any) -> None:
    first = counter.counter_sale_start(shift=shift, clerk=clerk)
    assert counter.counter_sale_start(shift=shift, clerk=clerk).pk == first.pk
    # A second till in the same shift rings up its own sale.
    assert counter.counter_sale_start(shift=shift, clerk=manager).pk != first.pk


# Lines --------------------------------------------------------------------------------------------


def test_void_and_quantity_change_reprice_the_sale_and_voids_are_counted(
    sale: Order, cola: StoreProduct, crisps: StoreProduct
) -> None:
    counter.counter_lines_scan(order=sale, codes=[_code(cola), _code(crisps), _code(crisps)])
    with merchant_context(sale.merchant_id):
        lines = {line.store_product_id: line for line in OrderLine.objects.filter(order=sale)}
    counter.counter_line_void(order=sale, line_id=lines[crisps.pk].pk)
    assert _quantities(sale) == {cola.pk: 1}
    assert (_order(sale).total, _order(sale).tax_total) == (249, 40)
    line = counter.counter_line_set_quantity(order=sale, line_id=lines[cola.pk].pk, quantity=4)
    assert line is not None
    assert (line.quantity, line.line_total, line.tax_amount) == (4, 996, 159)
    assert (_order(sale).total, _order(sale).tax_total) == (996, 159)
    assert counter.counter_line_set_quantity(order=sale, line_id=lines[cola.pk].pk, quantity=0) is None
    assert _quantities(sale) == {}
    assert _order(sale).total == 0
    with merchant_context(sale.merchant_id):
        assert CounterSale.objects.get(order=sale).lines_voided == 2


@pytest.mark.parametrize(("quantity", "message"), [(-1, "0 or more"), (1000, "At most 999")])
def test_bad_quantities_are_refused_and_change_nothing(
    sale: Order, cola: StoreProduct, quantity: int, message: str
) -> None:
    counter.counter_line_scan(order=sale, code=_code(cola))
    with merchant_context(sale.merchant_id):
        line = OrderLine.objects.get(order=sale)
    with pytest.raises(CheckoutError, match=message):
        counter.counter_line_set_quantity(order=sale, line_id=line.pk, quantity=quantity)
    assert _quantities(sale) == {cola.pk: 1}


# Payments -----------------------------------------------------------------------------------------


def test_cash_gives_exact_change_books_the_sale_once_and_a_replay_does_nothing(
    sale: Order, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    counter.counter_lines_scan(order=sale, codes=[_code(cola), _code(cola), _code(crisps)])
    payment = counter.counter_pay_cash(order=sale, tendered=1000, recorded_by=clerk)
    assert (payment.method, payment.amount, payment.amount_tendered, payment.change_given) == ("cash", 697, 1000, 303)
    paid = _order(sale)
    assert (paid.status, paid.payment_intent, paid.is_oversold) == (OrderStatus.PAID, f"counter:cash:{sale.pk}", False)
    assert (_on_hand(cola), _on_hand(crisps)) == (8, 9)
    assert _sales_booked(sale) == 2  # one movement per product
    # A double click or a retried request: the payment already recorded comes back, nothing moves.
    again = counter.counter_pay_cash(order=sale, tendered=2000, recorded_by=clerk)
    assert (again.pk, again.change_given) == (payment.pk, 303)
    assert (_on_hand(cola), _on_hand(crisps)) == (8, 9)
    assert _sales_booked(sale) == 2
    with merchant_context(sale.merchant_id):
        assert CounterPayment.objects.filter(order=sale).count() == 1
        assert ExitPass.objects.filter(order=sale).count() == 1
    # A paid sale takes no more scans.
    with pytest.raises(CheckoutError, match="already paid"):
        counter.counter_line_scan(order=sale, code=_code(cola))


def test_too_little_cash_is_refused_and_nothing_is_booked(sale: Order, clerk: Any, cola: StoreProduct) -> None:
    counter.counter_lines_scan(order=sale, codes=[_code(cola), _code(cola)])
    with pytest.raises(CheckoutError) as refused:
        counter.counter_pay_cash(order=sale, tendered=497, recorded_by=clerk)
    assert refused.value.messages == ["Not enough cash: 4,97\xa0€ given, 4,98\xa0€ due."]
    assert _order(sale).status == OrderStatus.PENDING
    assert _on_hand(cola) == 10
    assert _sales_booked(sale) == 0
    with merchant_context(sale.merchant_id):
        assert not CounterPayment.objects.exists()


def test_an_empty_sale_cannot_be_paid(sale: Order, clerk: Any) -> None:
    with pytest.raises(CheckoutError, match="Scan something"):
        counter.counter_pay_external_card(order=sale, recorded_by=clerk)


def test_an_external_card_payment_is_recorded_without_change(sale: Order, clerk: Any, cola: StoreProduct) -> None:
    counter.counter_line_scan(order=sale, code=_code(cola))
    payment = counter.counter_pay_external_card(order=sale, recorded_by=clerk)
    assert (payment.method, payment.amount, payment.amount_tendered, payment.change_given) == (
        "external_card",
        249,
        249,
        0,
    )
    assert _order(sale).payment_intent == f"counter:external_card:{sale.pk}"
    assert _on_hand(cola) == 9
    assert _sales_booked(sale) == 1


def test_selling_what_the_ledger_does_not_know_goes_below_zero_and_is_flagged(
    sale: Order, store: Store, clerk: Any
) -> None:
    unknown_stock = _stocked(store, 0, price=150)
    counter.counter_line_scan(order=sale, code=_code(unknown_stock))
    counter.counter_pay_cash(order=sale, tendered=150, recorded_by=clerk)
    assert _on_hand(unknown_stock) == -1
    assert _order(sale).is_oversold is True
    with merchant_context(sale.merchant_id):
        assert StockMovement.objects.get(kind="sale", store_product=unknown_stock).is_flagged_negative is True


def test_age_restricted_items_need_the_id_check_before_payment(sale: Order, store: Store, clerk: Any) -> None:
    beer = _stocked(store, 5, price=129, product__is_age_restricted=True, product__minimum_age=16)
    counter.counter_line_scan(order=sale, code=_code(beer))
    with pytest.raises(CheckoutError, match="check the shopper's ID"):
        counter.counter_pay_cash(order=sale, tendered=200, recorded_by=clerk)
    age_check_confirm(order=_order(sale), clerk=clerk)
    assert counter.counter_pay_cash(order=sale, tendered=200, recorded_by=clerk).change_given == 71


# Shifts -------------------------------------------------------------------------------------------


def test_closing_a_shift_computes_expected_cash_and_the_difference_exactly(
    shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    first = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=first, codes=[_code(cola), _code(cola), _code(crisps)])  # 6,97
    counter.counter_pay_cash(order=first, tendered=1000, recorded_by=clerk)  # change 3,03
    second = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_line_scan(order=second, code=_code(crisps))  # 1,99 by card
    counter.counter_pay_external_card(order=second, recorded_by=clerk)
    third = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_line_scan(order=third, code=_code(cola))  # 2,49, exact cash
    counter.counter_pay_cash(order=third, tendered=249, recorded_by=clerk)
    unpaid = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_line_scan(order=unpaid, code=_code(cola))

    closed = shifts.shift_close(shift=shift, closed_by=clerk, counted_cash=10900, note=" till short ")
    # 100,00 float + 10,00 + 2,49 cash taken − 3,03 change = 109,46; 109,00 counted.
    assert (closed.expected_cash, closed.counted_cash, closed.difference) == (10946, 10900, -46)
    assert closed.note == "till short"
    totals = counter_selectors.shift_totals(shift=closed)
    assert totals == counter_selectors.ShiftTotals(
        sales=3,
        cash_sales=946,
        cash_tendered=1249,
        change_given=303,
        card_sales=199,
        reader_sales=0,
        cancelled=1,
        lines_voided=0,
        cash_refunds=0,
        expected_cash=10946,
    )
    # The unpaid sale ended with the shift, and nothing of it was booked.
    assert _order(unpaid).status == OrderStatus.CANCELLED
    assert _sales_booked(unpaid) == 0
    with pytest.raises(CheckoutError, match="already closed"):
        shifts.shift_close(shift=shift, closed_by=clerk, counted_cash=10946)
    with pytest.raises(CheckoutError, match="shift is closed"):
        counter.counter_sale_start(shift=shift, clerk=clerk)


def test_a_second_open_shift_in_a_store_is_refused(shift: Shift, store: Store, owner: Any) -> None:
    with pytest.raises(CheckoutError, match="already open"):
        shifts.shift_open(store=store, opened_by=owner, opening_cash=5000)
    with merchant_context(store.merchant.pk):
        assert Shift.objects.count() == 1
    shifts.shift_close(shift=shift, closed_by=owner, counted_cash=10000)
    reopened = shifts.shift_open(store=store, opened_by=owner, opening_cash=5000)
    assert reopened.is_open


@pytest.mark.usefixtures("shift")
def test_the_database_itself_refuses_a_second_open_shift(store: Store, owner: Any) -> None:
    from django.db import IntegrityError, transaction

    with merchant_context(store.merchant.pk), pytest.raises(IntegrityError), transaction.atomic():
        Shift.objects.create(merchant=store.merchant, store=store, opened_by=owner, opening_cash=0)


# Pages --------------------------------------------------------------------------------------------


def test_a_clerk_opens_a_shift_rings_up_a_sale_pays_cash_and_closes_the_till(
    merchant: Merchant, store: Store, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    client = _client(clerk)
    base = f"/m/{merchant.slug}/counter/"
    page = client.get(base)
    assert page.status_code == 200
    assert "Open a shift" in page.content.decode()
    assert client.post(f"{base}shifts/open/", {"store": store.pk, "opening_cash": "150.00"}).status_code == 302
    with merchant_context(merchant.pk):
        shift = Shift.objects.get()
    assert shift.opening_cash == 15000

    unknown = next_gtin()[1:]
    answer = client.post(f"{base}shifts/{shift.pk}/scan/", {"code": [_code(cola), unknown, _code(cola)]}, **HTMX)
    assert answer.status_code == 200
    body = answer.content.decode()
    assert body.lstrip().startswith('<section id="counter-sale"')  # the partial, not the page
    assert f"Not added: <code>{unknown}</code>. This shop does not sell a product with this barcode." in body
    assert '<strong id="counter-total">4,98\xa0€</strong>' in body
    with merchant_context(merchant.pk):
        order = Order.objects.get(channel=Channel.COUNTER)
        cola_line = OrderLine.objects.get(order=order)
    # Without JavaScript the forms post and come back to the page.
    assert client.post(f"{base}shifts/{shift.pk}/scan/", {"code": _code(crisps)}).status_code == 302
    quantity = client.post(f"{base}sales/{order.pk}/lines/{cola_line.pk}/", {"quantity": "3"}, **HTMX)
    assert '<strong id="counter-total">9,46\xa0€</strong>' in quantity.content.decode()

    short = client.post(f"{base}sales/{order.pk}/pay/cash/", {"tendered": "9.00"}, **HTMX)
    assert short.status_code == 400
    assert "Not enough cash: 9,00\xa0€ given, 9,46\xa0€ due." in short.content.decode()
    paid = client.post(f"{base}sales/{order.pk}/pay/cash/", {"tendered": "20"}, **HTMX)
    assert paid.status_code == 200
    assert "Change due: 10,54\xa0€" in paid.content.decode()
    assert "New sale" in paid.content.decode()  # the next scan starts the next sale
    assert (_on_hand(cola), _on_hand(crisps)) == (7, 9)

    receipt = client.get(f"{base}sales/{order.pk}/receipt/")
    assert receipt.status_code == 200
    text = receipt.content.decode()
    assert '<strong id="receipt-total">9,46\xa0€</strong>' in text
    assert '<td class="num nowrap" id="receipt-change">10,54\xa0€</td>' in text
    assert "<svg" in text  # the exit pass

    form = client.get(f"{base}shifts/{shift.pk}/")
    assert "Expected in the drawer" not in form.content.decode()  # a blind count
    closed = client.post(f"{base}shifts/{shift.pk}/", {"counted_cash": "160.00"}, follow=True)
    report = closed.content.decode()
    # 150,00 + 20,00 − 10,54 = 159,46 expected; 160,00 counted: 0,54 over.
    assert '<td class="num" id="shift-expected"><strong>159,46\xa0€</strong></td>' in report
    assert '<td class="num" id="shift-counted"><strong>160,00\xa0€</strong></td>' in report
    assert '<strong>+0,54\xa0€</strong> <span class="badge badge-warning">over</span>' in report


@pytest.mark.usefixtures("shift")
def test_quick_cash_buttons_and_card_pay_through_the_page(
    merchant: Merchant, clerk: Any, sale: Order, cola: StoreProduct
) -> None:
    client = _client(clerk)
    counter.counter_line_scan(order=sale, code=_code(cola))
    page = client.get(f"/m/{merchant.slug}/counter/").content.decode()
    # 2,49 due: exact, then the next notes above it.
    assert 'name="quick" value="249">Exact 2,49\xa0€' in page
    assert [v for v in ("500", "1000", "2000") if f'name="quick" value="{v}"' in page] == ["500", "1000", "2000"]
    assert "No Stripe card reader in this store" in page
    answer = client.post(f"/m/{merchant.slug}/counter/sales/{sale.pk}/pay/cash/", {"quick": "500"}, **HTMX)
    assert "Change due: 2,51\xa0€" in answer.content.decode()


@pytest.mark.parametrize(
    ("total", "suggested"),
    [(249, [500, 1000, 2000]), (6443, [6500, 7000, 8000]), (1000, [2000, 5000, 10000]), (0, [])],
)
def test_quick_cash_amounts_are_the_notes_a_shopper_hands_over(total: int, suggested: list[int]) -> None:
    assert counter.cash_suggestions(total=total, currency="EUR") == suggested


@pytest.mark.usefixtures("shift")
def test_the_till_page_reads_the_same_number_of_rows_for_two_lines_or_twelve(
    merchant: Merchant, store: Store, clerk: Any, sale: Order
) -> None:
    client = _client(clerk)
    items = [_stocked(store, 0, price=100 + i) for i in range(12)]

    def queries(lines: int) -> int:
        counter.counter_lines_scan(order=sale, codes=[_code(item) for item in items[:lines]])
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/m/{merchant.slug}/counter/", **HTMX).status_code == 200
        return len(captured.captured_queries)

    assert queries(2) == queries(12)


def test_a_closed_shift_refuses_scans_with_a_message(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct
) -> None:
    shifts.shift_close(shift=shift, closed_by=clerk, counted_cash=10000)
    answer = _client(clerk).post(f"/m/{merchant.slug}/counter/shifts/{shift.pk}/scan/", {"code": _code(cola)}, **HTMX)
    assert answer.status_code == 409
    assert "This shift is closed; open a new one to sell." in answer.content.decode()
    with merchant_context(merchant.pk):
        assert not OrderLine.objects.exists()


# Who may do it ------------------------------------------------------------------------------------


@pytest.fixture
def theirs(other_store: Store, other_owner: Any) -> dict[str, Any]:
    """Another merchant's open shift with an unpaid sale and a paid one."""
    item = _stocked(other_store, 5, price=300)
    shift = shifts.shift_open(store=other_store, opened_by=other_owner, opening_cash=2000)
    paid = counter.counter_sale_start(shift=shift, clerk=other_owner)
    counter.counter_line_scan(order=paid, code=_code(item))
    counter.counter_pay_cash(order=paid, tendered=500, recorded_by=other_owner)
    pending = counter.counter_sale_start(shift=shift, clerk=other_owner)
    counter.counter_line_scan(order=pending, code=_code(item))
    with merchant_context(other_store.merchant_id):
        line = OrderLine.objects.get(order=pending)
    return {"shift": shift, "sale": pending, "paid": paid, "line": line, "code": _code(item), "store": other_store}


def _snapshot() -> list[Any]:
    with platform_access(reason="test: everything counter mode writes", actor="test"):
        return [
            list(model.objects.order_by("pk").values())
            for model in (Shift, Order, OrderLine, CounterSale, CounterPayment, StockMovement, ExitPass)
        ]


def _routes(
    shift: int, sale: int, line: int, paid: int, code: str, store: int
) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("get", "counter/", {}),
        ("post", "counter/shifts/open/", {"store": store, "opening_cash": "10"}),
        ("get", f"counter/shifts/{shift}/", {}),
        ("post", f"counter/shifts/{shift}/", {"counted_cash": "0"}),
        ("post", f"counter/shifts/{shift}/scan/", {"code": code}),
        ("post", f"counter/sales/{sale}/lines/{line}/", {"quantity": "5"}),
        ("post", f"counter/sales/{sale}/lines/{line}/void/", {}),
        ("post", f"counter/sales/{sale}/age-checked/", {}),
        ("post", f"counter/sales/{sale}/pay/cash/", {"tendered": "100"}),
        ("post", f"counter/sales/{sale}/pay/card/", {}),
        ("post", f"counter/sales/{sale}/pay/reader/", {}),
        ("post", f"counter/sales/{sale}/pay/reader/cancel/", {}),
        ("post", f"counter/sales/{sale}/cancel/", {}),
        ("get", f"counter/sales/{paid}/receipt/", {}),
    ]


@pytest.mark.usefixtures("store", "shift")
def test_another_merchants_ids_are_404_on_every_route_and_nothing_changes(
    merchant: Merchant, clerk: Any, theirs: dict[str, Any]
) -> None:
    client = _client(clerk)
    before = _snapshot()
    for method, path, data in _routes(
        theirs["shift"].pk, theirs["sale"].pk, theirs["line"].pk, theirs["paid"].pk, theirs["code"], theirs["store"].pk
    ):
        if path == "counter/":
            path = f"counter/?store={theirs['store'].pk}"
        response = getattr(client, method)(f"/m/{merchant.slug}/{path}", data, **HTMX)
        assert response.status_code == 404, (method, path)
    assert _snapshot() == before


@pytest.mark.parametrize("who", ["outsider", "other_owner"])
def test_non_members_get_404_on_every_route_and_nothing_changes(
    request: pytest.FixtureRequest, who: str, merchant: Merchant, store: Store, clerk: Any, cola: StoreProduct
) -> None:
    shift = shifts.shift_open(store=store, opened_by=clerk, opening_cash=1000)
    paid = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_line_scan(order=paid, code=_code(cola))
    counter.counter_pay_cash(order=paid, tendered=249, recorded_by=clerk)
    sale = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_line_scan(order=sale, code=_code(cola))
    with merchant_context(merchant.pk):
        line = OrderLine.objects.get(order=sale)
    client = _client(request.getfixturevalue(who))
    before = _snapshot()
    for method, path, data in _routes(shift.pk, sale.pk, line.pk, paid.pk, _code(cola), store.pk):
        response = getattr(client, method)(f"/m/{merchant.slug}/{path}", data)
        assert response.status_code == 404, (method, path)
    assert _snapshot() == before


def test_a_clerk_may_use_every_route(
    merchant: Merchant, store: Store, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    client = _client(clerk)
    opened = client.post(f"/m/{merchant.slug}/counter/shifts/open/", {"store": store.pk, "opening_cash": "10"})
    assert opened.status_code == 302
    with merchant_context(merchant.pk):
        shift = Shift.objects.get()
    paid = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_line_scan(order=paid, code=_code(cola))
    counter.counter_pay_external_card(order=paid, recorded_by=clerk)
    sale = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=sale, codes=[_code(cola), _code(crisps)])
    with merchant_context(merchant.pk):
        line = OrderLine.objects.get(order=sale, store_product=crisps)
    routes = _routes(shift.pk, sale.pk, line.pk, paid.pk, _code(cola), store.pk)
    closing = routes.pop(3)  # the shift closes last
    # In this order: a second shift is refused (told why, back to the till); the scan adds a
    # cola, the crisps go to 5 and are voided; 100 € pays the two colas; the card button then
    # finds the sale paid and shows that payment; a paid sale cannot be cancelled.
    # The reader buttons find the sale paid too and say so (400).
    statuses = [200, 302, 200, 200, 200, 200, 200, 200, 200, 400, 400, 409, 200]
    for (method, path, data), status in zip(routes, statuses, strict=True):
        response = getattr(client, method)(f"/m/{merchant.slug}/{path}", data, **HTMX)
        assert response.status_code == status, (method, path, response.content[:300])
    with merchant_context(merchant.pk):
        payment = CounterPayment.objects.get(order=sale)
    assert (payment.method, payment.amount, payment.change_given) == ("cash", 498, 9502)
    # 10,00 float + 100,00 − 95,02 change = 14,98 in the drawer.
    assert client.post(f"/m/{merchant.slug}/{closing[1]}", {"counted_cash": "14.98"}).status_code == 302
    with merchant_context(merchant.pk):
        assert (Shift.objects.get().expected_cash, Shift.objects.get().difference) == (1498, 0)


# Card on the Stripe Terminal reader ---------------------------------------------------------------


@pytest.fixture
def reader_store(store: Store) -> Store:
    with merchant_context(store.merchant_id):
        Store.objects.filter(pk=store.pk).update(stripe_reader="tmr_till1")
    store.stripe_reader = "tmr_till1"
    return store


def _succeeded(order: Order, intent_id: str) -> dict[str, Any]:
    return {
        "id": f"evt_reader_{order.pk}_{intent_id}",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": intent_id,
                "amount": order.total,
                "amount_received": order.total,
                "currency": order.currency.lower(),
                "metadata": {"merchant_id": str(order.merchant_id), "order_id": str(order.pk), "channel": "counter"},
            }
        },
    }


def test_a_sale_paid_on_the_stripe_reader_is_booked_by_the_webhook_once(
    merchant: Merchant,
    reader_store: Store,
    shift: Shift,
    clerk: Any,
    sale: Order,
    cola: StoreProduct,
    fake_stripe: Any,
    stripe_fixtures: dict[str, Any],
) -> None:
    intent = {**stripe_fixtures["payment_intent"], "id": "pi_till", "status": "requires_payment_method"}
    fake_stripe.answer("POST", "/v1/payment_intents", intent)
    reader = {**stripe_fixtures["terminal.reader"], "id": "tmr_till1", "action": {"status": "in_progress"}}
    fake_stripe.answer("POST", "/v1/terminal/readers/tmr_till1/process_payment_intent", reader)
    counter.counter_line_scan(order=sale, code=_code(cola))
    client = _client(clerk)
    page = client.post(f"/m/{merchant.slug}/counter/sales/{sale.pk}/pay/reader/", **HTMX).content.decode()
    assert "2,49\xa0€ is on the card reader" in page
    created, handed = fake_stripe.requests
    assert (created.path, created.form["amount"], created.form["currency"]) == ("/v1/payment_intents", "249", "eur")
    assert created.form["allowed_payment_method_types[0]"] == "card_present"
    assert created.form["metadata[channel]"] == "counter"
    assert created.headers["Idempotency-Key"].startswith(f"lingshou-counter-{sale.token}-")
    assert (handed.path, handed.form) == (
        "/v1/terminal/readers/tmr_till1/process_payment_intent",
        {"payment_intent": "pi_till"},
    )
    # While the reader waits, the sale cannot change or be paid another way.
    with pytest.raises(CheckoutError, match="waiting on the reader"):
        counter.counter_line_scan(order=sale, code=_code(cola))
    with pytest.raises(CheckoutError, match="waiting on the reader"):
        counter.counter_pay_cash(order=sale, tendered=500, recorded_by=clerk)

    event = _succeeded(_order(sale), "pi_till")
    assert webhook_event_process(event=event) is True
    assert webhook_event_process(event=event) is False  # a replay books nothing more
    paid = _order(sale)
    assert (paid.status, paid.payment_intent) == (OrderStatus.PAID, "pi_till")
    with merchant_context(merchant.pk):
        payments = list(CounterPayment.objects.values_list("method", "amount", "change_given", "recorded_by_id"))
    assert payments == [("stripe_card", 249, 0, clerk.pk)]
    assert _sales_booked(sale) == 1
    totals = counter_selectors.shift_totals(shift=shift)
    assert (totals.reader_sales, totals.cash_sales, totals.expected_cash) == (249, 0, 10000)
    # The page's poll now shows the sale paid on the reader.
    done = client.get(f"/m/{merchant.slug}/counter/?store={reader_store.pk}&paid={sale.pk}", **HTMX).content.decode()
    assert "paid by card on the Stripe reader: 2,49" in done


@pytest.mark.usefixtures("reader_store")
def test_a_reader_payment_can_be_cancelled_unless_the_card_already_paid(
    merchant: Merchant,
    shift: Shift,
    clerk: Any,
    sale: Order,
    cola: StoreProduct,
    fake_stripe: Any,
    stripe_fixtures: dict[str, Any],
) -> None:
    fake_stripe.answer("POST", "/v1/payment_intents", {**stripe_fixtures["payment_intent"], "id": "pi_till"})
    fake_stripe.answer(
        "POST", "/v1/terminal/readers/tmr_till1/process_payment_intent", stripe_fixtures["terminal.reader"]
    )
    fake_stripe.answer("POST", "/v1/terminal/readers/tmr_till1/cancel_action", stripe_fixtures["terminal.reader"])
    fake_stripe.answer(
        "POST",
        "/v1/payment_intents/pi_till/cancel",
        {**stripe_fixtures["payment_intent"], "id": "pi_till", "status": "canceled"},
    )
    counter.counter_line_scan(order=sale, code=_code(cola))
    counter.counter_card_start(order=sale)
    client = _client(clerk)
    page = client.post(f"/m/{merchant.slug}/counter/sales/{sale.pk}/pay/reader/cancel/", **HTMX).content.decode()
    assert "Pay cash" in page
    assert _order(sale).payment_intent == ""
    # The sale is free again: cash works.
    assert counter.counter_pay_cash(order=sale, tendered=300, recorded_by=clerk).change_given == 51

    # Too late: Stripe says the card already paid, so the sale is never let go.
    second = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_line_scan(order=second, code=_code(cola))
    fake_stripe._answers.pop(("POST", "/v1/payment_intents"))
    fake_stripe.answer("POST", "/v1/payment_intents", {**stripe_fixtures["payment_intent"], "id": "pi_till2"})
    fake_stripe.answer(
        "POST",
        "/v1/payment_intents/pi_till2/cancel",
        {"error": {"type": "invalid_request_error", "message": "already succeeded"}},
        status=400,
    )
    fake_stripe.answer(
        "GET",
        "/v1/payment_intents/pi_till2",
        {**stripe_fixtures["payment_intent"], "id": "pi_till2", "status": "succeeded"},
    )
    counter.counter_card_start(order=second)
    late = client.post(f"/m/{merchant.slug}/counter/sales/{second.pk}/pay/reader/cancel/", **HTMX).content.decode()
    assert "Too late to cancel: the card was already charged." in late
    assert _order(second).payment_intent == "pi_till2"


@pytest.mark.usefixtures("shift")
def test_without_a_reader_nothing_is_sent_to_stripe(
    merchant: Merchant, clerk: Any, sale: Order, cola: StoreProduct, fake_stripe: Any
) -> None:
    counter.counter_line_scan(order=sale, code=_code(cola))
    answer = _client(clerk).post(f"/m/{merchant.slug}/counter/sales/{sale.pk}/pay/reader/", **HTMX)
    assert answer.status_code == 400
    assert "No Stripe card reader is set up for this store" in answer.content.decode()
    assert fake_stripe.requests == []
    assert _order(sale).payment_intent == ""


def test_the_owner_sets_a_stores_reader_and_bad_ids_are_refused(
    merchant: Merchant, store: Store, other_store: Store, owner: Any, clerk: Any
) -> None:
    url = f"/m/{merchant.slug}/settings/payments/reader/"
    client = _client(owner)
    bad = client.post(url, {"store": store.pk, "reader": "reader one"}, follow=True).content.decode()
    assert "A reader id looks like tmr_" in bad
    client.post(url, {"store": store.pk, "reader": " tmr_AbC123 "})
    with merchant_context(merchant.pk):
        assert Store.objects.get(pk=store.pk).stripe_reader == "tmr_AbC123"
    # Another merchant's store is 404 and unchanged; a clerk may not change settings.
    assert client.post(url, {"store": other_store.pk, "reader": "tmr_x"}).status_code == 404
    with merchant_context(other_store.merchant_id):
        assert Store.objects.get(pk=other_store.pk).stripe_reader == ""
    assert _client(clerk).post(url, {"store": store.pk, "reader": ""}).status_code in (403, 404)
    with merchant_context(merchant.pk):
        assert Store.objects.get(pk=store.pk).stripe_reader == "tmr_AbC123"


@pytest.mark.usefixtures("reader_store", "shift", "clerk")
def test_a_reader_payment_whose_webhook_never_came_is_booked_by_reconciliation(
    merchant: Merchant,
    sale: Order,
    cola: StoreProduct,
    fake_stripe: Any,
    stripe_fixtures: dict[str, Any],
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from checkout.services.payments import payments_reconcile

    fake_stripe.answer("POST", "/v1/payment_intents", {**stripe_fixtures["payment_intent"], "id": "pi_lost"})
    fake_stripe.answer(
        "POST", "/v1/terminal/readers/tmr_till1/process_payment_intent", stripe_fixtures["terminal.reader"]
    )
    counter.counter_line_scan(order=sale, code=_code(cola))
    counter.counter_card_start(order=sale)
    with merchant_context(merchant.pk):
        Order.objects.filter(pk=sale.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    succeeded = {
        **stripe_fixtures["payment_intent"],
        "id": "pi_lost",
        "status": "succeeded",
        "amount": 249,
        "amount_received": 249,
        "currency": "eur",
    }
    fake_stripe.answer("GET", "/v1/payment_intents/pi_lost", succeeded)
    assert payments_reconcile() == 1
    assert payments_reconcile() == 0
    with merchant_context(merchant.pk):
        assert list(CounterPayment.objects.values_list("order_id", "method")) == [(sale.pk, "stripe_card")]
    assert _order(sale).status == OrderStatus.PAID


@pytest.mark.usefixtures("merchant", "reader_store", "shift", "clerk")
def test_a_reader_that_cannot_start_lets_the_sale_go_and_a_new_attempt_gets_a_new_intent(
    sale: Order,
    cola: StoreProduct,
    fake_stripe: Any,
    stripe_fixtures: dict[str, Any],
) -> None:
    fake_stripe.answer("POST", "/v1/payment_intents", {**stripe_fixtures["payment_intent"], "id": "pi_try1"})
    offline = {"error": {"type": "invalid_request_error", "message": "Reader is offline."}}
    fake_stripe.answer("POST", "/v1/terminal/readers/tmr_till1/process_payment_intent", offline, status=400)
    fake_stripe.answer("POST", "/v1/terminal/readers/tmr_till1/cancel_action", stripe_fixtures["terminal.reader"])
    cancelled = {**stripe_fixtures["payment_intent"], "id": "pi_try1", "status": "canceled"}
    fake_stripe.answer("POST", "/v1/payment_intents/pi_try1/cancel", cancelled)
    counter.counter_line_scan(order=sale, code=_code(cola))
    with pytest.raises(CheckoutError, match="Reader is offline"):
        counter.counter_card_start(order=sale)
    assert _order(sale).payment_intent == ""  # nothing waits on the reader: the sale is free again
    assert [r.path for r in fake_stripe.requests][-1] == "/v1/payment_intents/pi_try1/cancel"

    fake_stripe._answers.pop(("POST", "/v1/terminal/readers/tmr_till1/process_payment_intent"))
    fake_stripe.answer(
        "POST", "/v1/terminal/readers/tmr_till1/process_payment_intent", stripe_fixtures["terminal.reader"]
    )
    fake_stripe._answers.pop(("POST", "/v1/payment_intents"))
    fake_stripe.answer("POST", "/v1/payment_intents", {**stripe_fixtures["payment_intent"], "id": "pi_try2"})
    counter.counter_card_start(order=sale)
    keys = [r.headers["Idempotency-Key"] for r in fake_stripe.requests if r.path == "/v1/payment_intents"]
    assert len(keys) == 2
    assert keys[0] != keys[1]  # the cancelled intent is never handed to the reader again
    assert _order(sale).payment_intent == "pi_try2"
