"""Selling a German kiosk's goods at the counter while Lingshou cannot be reached: drinks with their deposit, and
weighed goods by their scale labels, booked as the online counter books them."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from catalog import gtin
from catalog.models import Barcode, BarcodeKind, LocalBarcode, StoreProduct
from checkout.models import CounterPayment, Order, OrderLine, Shift
from checkout.selectors.counter import counter_sale_lines
from checkout.services import shifts
from checkout.services.counter_offline import OfflineLine, OfflineSaleIn, offline_sale_book
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.checkout.test_counter_offline import (
    _client,
    _code,
    _on_hand,
    _post,
    _sale,
    _snapshot,
    _stocked,
    counter_expected_cash,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    return _stocked(store, 10, price=249, product__tax_class="standard", product__name="Quellwerk Cola")


@pytest.fixture
def crisps(store: Store) -> StoreProduct:
    return _stocked(store, 10, price=199, product__tax_class="reduced", product__name="Knusper Chips")


@pytest.fixture
def shift(store: Store, clerk: Any) -> Shift:
    """Open since an hour ago, as in test_counter_offline."""
    opened = shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)
    with merchant_context(store.merchant_id):
        Shift.objects.filter(pk=opened.pk).update(opened_at=timezone.now() - timedelta(hours=1))
        return Shift.objects.select_related("store").get(pk=opened.pk)


# The price list ------------------------------------------------------------------------------------


def test_the_price_list_gives_each_products_deposit_and_a_changed_deposit_is_a_new_version(
    merchant: Merchant, store: Store, clerk: Any
) -> None:
    cola = _stocked(store, 5, price=249, deposit=25, product__name="Quellwerk Cola")
    client = _client(clerk)
    prices = client.get(f"/m/{merchant.slug}/counter/prices/?store={store.pk}").json()
    assert prices["products"] == [[cola.pk, "Quellwerk Cola", 249, 1900, False, 25]]
    with merchant_context(merchant.pk):
        StoreProduct.objects.filter(pk=cola.pk).update(deposit=8)
    changed = client.get(f"/m/{merchant.slug}/counter/prices/?store={store.pk}", HTTP_IF_NONE_MATCH=prices["version"])
    assert changed.status_code == 200
    assert changed.json()["products"] == [[cola.pk, "Quellwerk Cola", 249, 1900, False, 8]]


# Deposits ------------------------------------------------------------------------------------------


@pytest.fixture
def deposit_cola(store: Store) -> StoreProduct:
    """Einweg: 0,25 € deposit a can, taxed like the cola at 19 %."""
    return _stocked(
        store, 10, price=249, deposit=25, product__tax_class="standard", product__name="Quellwerk Dose Cola"
    )


def _deposit_sale(cola: StoreProduct, crisps: StoreProduct, **changes: Any) -> dict[str, Any]:
    """Two cans with their deposit and a bag of crisps, as a till with deposits in its price list sends them."""
    body = _sale(
        cola,
        crisps,
        lines=[
            {"code": _code(cola), "quantity": 2, "unit_price": 249, "deposit": 25},
            {"code": _code(crisps), "quantity": 1, "unit_price": 199, "deposit": 0},
        ],
        total=747,
    )
    body.update(changes)
    return body


def _booked_lines(order: Order) -> list[tuple[Any, ...]]:
    """The sale's lines in the counter's order: each deposit right after its product."""
    with merchant_context(order.merchant_id):
        return [
            (
                line.kind,
                line.store_product_id,
                line.name,
                line.quantity,
                line.unit_price,
                line.line_total,
                line.tax_amount,
            )
            for line in counter_sale_lines(order=order)
        ]


def test_an_offline_sale_with_a_deposit_books_the_deposit_line_once_after_its_product(
    merchant: Merchant, shift: Shift, clerk: Any, deposit_cola: StoreProduct, crisps: StoreProduct
) -> None:
    client = _client(clerk)
    body = _deposit_sale(deposit_cola, crisps)
    response = _post(client, merchant, shift.pk, body)
    assert response.status_code == 200, response.content
    with merchant_context(merchant.pk):
        order = Order.objects.get()
        payment = CounterPayment.objects.get()
        deposit = OrderLine.objects.select_related("deposit_for").get(kind="deposit")
    assert response.json()["order"]["lines"] == [
        {"name": "Quellwerk Dose Cola", "quantity": 2, "unit_price": 249, "total": 498},
        {"name": "Deposit Quellwerk Dose Cola", "quantity": 2, "unit_price": 25, "total": 50},
        {"name": "Knusper Chips", "quantity": 1, "unit_price": 199, "total": 199},
    ]
    # 2 × 2,49 (19 % inside: 0,80), 2 × 0,25 deposit at the cola's 19 % (0,08), 1,99 at 7 % (0,13).
    assert _booked_lines(order) == [
        ("product", deposit_cola.pk, "Quellwerk Dose Cola", 2, 249, 498, 80),
        ("deposit", None, "Deposit Quellwerk Dose Cola", 2, 25, 50, 8),
        ("product", crisps.pk, "Knusper Chips", 1, 199, 199, 13),
    ]
    assert deposit.deposit_for.store_product_id == deposit_cola.pk
    assert (order.total, order.deposit_total, order.tax_total) == (747, 50, 101)
    assert (payment.amount, payment.amount_tendered, payment.change_given) == (747, 1000, 253)
    assert counter_expected_cash(shift) == 10000 + 747
    assert (_on_hand(deposit_cola), _on_hand(crisps)) == (8, 9)
    # Sent again (no answer reached the till): the same booking, nothing written.
    before = _snapshot()
    again = _post(client, merchant, shift.pk, body)
    assert again.status_code == 200
    assert (again.json()["replayed"], again.json()["order"]) == (True, response.json()["order"])
    assert _snapshot() == before


def test_an_offline_sale_of_one_can_with_its_deposit_through_the_service(
    shift: Shift, clerk: Any, deposit_cola: StoreProduct
) -> None:
    sale = OfflineSaleIn(
        client_id=uuid.uuid4(),
        lines=[OfflineLine(_code(deposit_cola), 1, 249, deposit=25)],
        total=274,
        tendered=500,
        made_at=timezone.now(),
    )
    booking = offline_sale_book(shift=shift, clerk=clerk, sale=sale)
    assert [(line.kind, line.quantity, line.unit_price, line.line_total) for line in booking.lines] == [
        ("product", 1, 249, 249),
        ("deposit", 1, 25, 25),
    ]
    assert (booking.order.total, booking.payment.change_given, booking.replayed) == (274, 226, False)
    before = _snapshot()
    replayed = offline_sale_book(shift=shift, clerk=clerk, sale=sale)
    assert (replayed.replayed, replayed.order.pk, len(replayed.lines)) == (True, booking.order.pk, 2)
    assert _snapshot() == before


def test_a_sale_without_the_deposit_in_its_total_is_refused_and_books_nothing(
    merchant: Merchant, shift: Shift, clerk: Any, deposit_cola: StoreProduct, crisps: StoreProduct
) -> None:
    """A till whose price list knew no deposits charged 6,97: Lingshou's 7,47 is what the sale costs."""
    body = _sale(deposit_cola, crisps)
    before = _snapshot()
    response = _post(_client(clerk), merchant, shift.pk, body)
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "total_differs",
        "message": "Lingshou prices this sale at 7,47\xa0€, the till charged 6,97\xa0€; nothing was booked.",
        "lines": [],
    }
    assert _snapshot() == before


def test_a_changed_deposit_is_named_on_its_line_and_the_sale_books_with_the_current_one(
    merchant: Merchant, shift: Shift, clerk: Any, deposit_cola: StoreProduct, crisps: StoreProduct
) -> None:
    with merchant_context(merchant.pk):
        StoreProduct.objects.filter(pk=deposit_cola.pk).update(deposit=8)
    client = _client(clerk)
    body = _deposit_sale(deposit_cola, crisps)
    before = _snapshot()
    response = _post(client, merchant, shift.pk, body)
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "lines_refused",
        "message": "1 line cannot be booked as scanned; nothing was booked.",
        "lines": [
            {
                "index": 0,
                "code": _code(deposit_cola),
                "reason": "deposit_changed",
                "message": "Quellwerk Dose Cola now carries a deposit of 0,08\xa0€, not 0,25\xa0€ as charged.",
                "name": "Quellwerk Dose Cola",
                "current_deposit": 8,
            }
        ],
    }
    assert _snapshot() == before
    # What the till's "book with the current deposit" sends: 4,98 + 0,16 + 1,99.
    body["lines"][0]["deposit"] = 8
    body["total"] = 713
    booked = _post(client, merchant, shift.pk, body)
    assert booked.status_code == 200, booked.content
    assert (booked.json()["order"]["total"], booked.json()["order"]["change_given"]) == (713, 287)


def test_a_sale_kept_from_before_deposits_keeps_its_digest(cola: StoreProduct, crisps: StoreProduct) -> None:
    """A till that sends no deposit is the same sale as before: a resend of a sale booked then is a replay."""
    lines = [OfflineLine(_code(cola), 2, 249), OfflineLine(_code(crisps), 1, 199)]
    sale = OfflineSaleIn(
        client_id=uuid.UUID("6f1c1a52-3c1e-4b8e-9a57-0d6c2b1f5e11"),
        lines=lines,
        total=697,
        tendered=1000,
        made_at=datetime.fromisoformat("2026-03-01T10:00:00+00:00"),
    )
    content = {
        "age_checked": False,
        "client_id": "6f1c1a52-3c1e-4b8e-9a57-0d6c2b1f5e11",
        "lines": [
            {"code": _code(cola), "quantity": 2, "unit_price": 249},
            {"code": _code(crisps), "quantity": 1, "unit_price": 199},
        ],
        "made_at": "2026-03-01T10:00:00+00:00",
        "replaces": None,
        "tendered": 1000,
        "total": 697,
    }
    assert sale.digest() == hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


# Scale labels --------------------------------------------------------------------------------------


@pytest.fixture
def cheese(store: Store) -> StoreProduct:
    """Bergkäse at 19,90 €/kg, weighed on the scale that prints labels 23 12345 … (grams)."""
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
        wholesaler=item.product.wholesaler,  # type: ignore[union-attr]
        product=item.product,
        code="2312345",
        kind=BarcodeKind.VARIABLE,
    )
    return item


@pytest.fixture
def cake(store: Store) -> StoreProduct:
    """Cake by the piece, priced on the scale: labels 21 12345 … carry the price."""
    item = _stocked(store, 10, price=300, product__name="Apfelkuchen", product__tax_class="reduced")
    Barcode.objects.create(
        wholesaler=item.product.wholesaler,  # type: ignore[union-attr]
        product=item.product,
        code="2112345",
        kind=BarcodeKind.VARIABLE,
    )
    return item


def test_the_price_list_gives_the_scale_label_keys_with_what_their_labels_carry(
    merchant: Merchant, store: Store, clerk: Any, cheese: StoreProduct, cake: StoreProduct
) -> None:
    salad = StoreProductFactory(store=store, product=None, local_name="Salatbar", price=1490, local_tax_class="reduced")
    with merchant_context(merchant.pk):
        LocalBarcode.objects.create(merchant=merchant, store=store, store_product=salad, code="2499999")
    prices = _client(clerk).get(f"/m/{merchant.slug}/counter/prices/?store={store.pk}").json()
    assert prices["scale"] == [
        ["2112345", cake.pk, "price"],
        ["2312345", cheese.pk, "weight"],
        ["2499999", salad.pk, "weight"],
    ]
    assert [row[2] for row in prices["products"]] == [1990, 300, 1490]  # a weighed product's price is per kilogram


def test_scale_labels_sold_offline_are_booked_by_the_counters_reading_one_line_per_label(
    merchant: Merchant, shift: Shift, clerk: Any, cheese: StoreProduct, cake: StoreProduct
) -> None:
    quarter = gtin.variable_code("2312345", 250)  # 250 g at 19,90 €/kg: 4,975 → 4,98
    slice_ = gtin.variable_code("2112345", 349)  # the label's own price
    other = gtin.variable_code("2312345", 300)  # 300 g: 5,97
    body = _sale(
        cheese,
        cake,
        lines=[
            {"code": quarter, "quantity": 2, "unit_price": 498, "deposit": 0},
            {"code": slice_, "quantity": 1, "unit_price": 349, "deposit": 0},
            {"code": other, "quantity": 1, "unit_price": 597, "deposit": 0},
        ],
        total=2 * 498 + 349 + 597,
        tendered=2000,
    )
    client = _client(clerk)
    response = _post(client, merchant, shift.pk, body)
    assert response.status_code == 200, response.content
    with merchant_context(merchant.pk):
        order = Order.objects.get()
        lines = [
            (line.store_product_id, line.code, line.quantity, line.unit_price, line.weight_grams)
            for line in counter_sale_lines(order=order)
        ]
    assert lines == [
        (cheese.pk, quarter, 2, 498, 250),
        (cake.pk, slice_, 1, 349, None),
        (cheese.pk, other, 1, 597, 300),
    ]
    assert (order.total, response.json()["order"]["change_given"]) == (1942, 58)
    before = _snapshot()
    again = _post(client, merchant, shift.pk, body)
    assert (again.status_code, again.json()["replayed"]) == (200, True)
    assert _snapshot() == before


def test_a_scale_label_the_till_read_otherwise_needs_attention_and_books_nothing(
    merchant: Merchant, shift: Shift, clerk: Any, cheese: StoreProduct, cake: StoreProduct
) -> None:
    quarter = gtin.variable_code("2312345", 250)
    body = _sale(cheese, cake, lines=[{"code": quarter, "quantity": 1, "unit_price": 497}], total=497)
    before = _snapshot()
    response = _post(_client(clerk), merchant, shift.pk, body)
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "lines_refused",
        "message": "1 line cannot be booked as scanned; nothing was booked.",
        "lines": [
            {
                "index": 0,
                "code": quarter,
                "reason": "scale_label",
                "message": "Bergkäse: Lingshou reads this scale label as 4,98\xa0€, not 4,97\xa0€ as charged.",
                "name": "Bergkäse",
                "current_price": 498,
            }
        ],
    }
    assert _snapshot() == before
