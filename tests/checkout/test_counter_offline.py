"""Selling at the counter while Lingshou cannot be reached: the till's price list, and sales booked once, whole, as scanned."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from catalog.models import LocalBarcode, MovementKind, StockMovement, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import (
    CounterPayment,
    CounterSale,
    ExitPass,
    OfflineSale,
    Order,
    OrderLine,
    OrderStatus,
    Shift,
)
from checkout.services import counter, shifts
from checkout.services.counter_offline import OfflineLine, OfflineSaleIn, OfflineSaleRefused, offline_sale_book
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, platform_access
from tests.catalog.factories import BarcodeFactory, StoreProductFactory, next_gtin
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _stocked(store: Store, units: int, **kwargs: Any) -> StoreProduct:
    item = StoreProductFactory(store=store, **kwargs)
    if units:
        stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=units)
    return item


def _code(item: StoreProduct) -> str:
    return item.product.gtin[1:]  # type: ignore[union-attr] # the EAN-13 on the can, as a scanner reads it


def _client(user: Any, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _snapshot() -> list[Any]:
    with platform_access(reason="test: everything an offline sale writes", actor="test"):
        return [
            list(model.objects.order_by("pk").values())
            for model in (
                Shift,
                Order,
                OrderLine,
                CounterSale,
                CounterPayment,
                StockMovement,
                ExitPass,
                OfflineSale,
                StoreProduct,
            )
        ]


def _on_hand(item: StoreProduct) -> int:
    with merchant_context(item.merchant_id):
        return StoreProduct.objects.get(pk=item.pk).on_hand


def _price_set(item: StoreProduct, price: int) -> None:
    with merchant_context(item.merchant_id):
        StoreProduct.objects.filter(pk=item.pk).update(price=price)


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    return _stocked(store, 10, price=249, product__tax_class="standard", product__name="Quellwerk Cola")


@pytest.fixture
def crisps(store: Store) -> StoreProduct:
    return _stocked(store, 10, price=199, product__tax_class="reduced", product__name="Knusper Chips")


@pytest.fixture
def water(store: Store) -> StoreProduct:
    return _stocked(store, 24, price=89, product__tax_class="standard", product__name="Bergquelle Wasser")


@pytest.fixture
def shift(store: Store, clerk: Any) -> Shift:
    """Open since an hour ago: the sales below were made during it."""
    opened = shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)
    with merchant_context(store.merchant_id):
        Shift.objects.filter(pk=opened.pk).update(opened_at=timezone.now() - timedelta(hours=1))
        return Shift.objects.select_related("store").get(pk=opened.pk)


def _sale(
    cola: StoreProduct,
    crisps: StoreProduct,
    *,
    client_id: str | None = None,
    made_at: datetime | str | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """Two colas and a bag of crisps paid with a 10-euro note, as the till sends it."""
    body = {
        "client_id": client_id or str(uuid.uuid4()),
        "lines": [
            {"code": _code(cola), "quantity": 2, "unit_price": 249},
            {"code": _code(crisps), "quantity": 1, "unit_price": 199},
        ],
        "total": 697,
        "tendered": 1000,
        "made_at": made_at
        if isinstance(made_at, str)
        else (made_at or timezone.now() - timedelta(minutes=3)).isoformat(),
        "age_checked": False,
        "replaces": None,
    }
    body.update(changes)
    return body


def _post(client: Client, merchant: Merchant, shift_id: int, body: Any) -> Any:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(
        f"/m/{merchant.slug}/counter/shifts/{shift_id}/offline-sales/", data, content_type="application/json"
    )


# Booking -------------------------------------------------------------------------------------------


def test_an_offline_sale_is_booked_whole_with_its_cash_and_its_sale_movements(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    made_at = timezone.now().replace(microsecond=0) - timedelta(minutes=7)
    body = _sale(cola, crisps, made_at=made_at)
    response = _post(_client(clerk), merchant, shift.pk, body)
    assert response.status_code == 200, response.content
    with merchant_context(merchant.pk):
        order = Order.objects.get()
        payment = CounterPayment.objects.get()
        lines = list(OrderLine.objects.order_by("pk").values_list("store_product_id", "quantity", "unit_price"))
        movements = sorted(
            StockMovement.objects.filter(kind=MovementKind.SALE).values_list(
                "store_product_id", "quantity", "reference"
            )
        )
        offline = OfflineSale.objects.get()
        sale = CounterSale.objects.get()
    assert response.json() == {
        "replayed": False,
        "message": f"Booked as sale {order.number}.",
        "order": {
            "id": order.pk,
            "number": order.number,
            "total": 697,
            "tendered": 1000,
            "change_given": 303,
            "paid_at": made_at.isoformat(),
            "receipt_url": f"/m/{merchant.slug}/counter/sales/{order.pk}/receipt/",
            "lines": [
                {"name": "Quellwerk Cola", "quantity": 2, "unit_price": 249, "total": 498},
                {"name": "Knusper Chips", "quantity": 1, "unit_price": 199, "total": 199},
            ],
        },
    }
    assert (order.status, order.channel, order.total, order.paid_at, order.created_at) == (
        OrderStatus.PAID,
        "counter",
        697,
        made_at,
        made_at,
    )
    assert lines == [(cola.pk, 2, 249), (crisps.pk, 1, 199)]
    assert (payment.method, payment.shift_id, payment.amount, payment.amount_tendered, payment.change_given) == (
        "cash",
        shift.pk,
        697,
        1000,
        303,
    )
    assert (payment.at, payment.recorded_by_id, sale.shift_id, sale.started_by_id) == (
        made_at,
        clerk.pk,
        shift.pk,
        clerk.pk,
    )
    assert movements == sorted(
        [(cola.pk, -2, f"checkout.order:{order.pk}"), (crisps.pk, -1, f"checkout.order:{order.pk}")]
    )
    assert (_on_hand(cola), _on_hand(crisps)) == (8, 9)
    assert (str(offline.client_id), offline.order_id, offline.made_at) == (body["client_id"], order.pk, made_at)
    # The drawer expects the float plus the sale: 100,00 + 10,00 − 3,03.
    assert counter_expected_cash(shift) == 10000 + 697


def counter_expected_cash(shift: Shift) -> int:
    from checkout.selectors.counter import shift_totals

    return shift_totals(shift=shift).expected_cash


def test_a_sale_sent_again_is_booked_once_and_the_answer_names_the_first_booking(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    client = _client(clerk)
    body = _sale(cola, crisps)
    first = _post(client, merchant, shift.pk, body)
    assert first.status_code == 200
    before = _snapshot()
    again = _post(client, merchant, shift.pk, body)
    assert again.status_code == 200
    number = first.json()["order"]["number"]
    assert again.json()["replayed"] is True
    assert again.json()["message"] == f"Sale {number} was booked when this till first sent it; nothing was changed."
    assert again.json()["order"] == first.json()["order"]
    assert _snapshot() == before
    assert (_on_hand(cola), _on_hand(crisps)) == (8, 9)


def test_the_same_id_with_other_lines_is_refused_and_changes_nothing(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    client = _client(clerk)
    body = _sale(cola, crisps)
    number = _post(client, merchant, shift.pk, body).json()["order"]["number"]
    before = _snapshot()
    other = dict(body, lines=[{"code": _code(cola), "quantity": 1, "unit_price": 249}], total=249)
    response = _post(client, merchant, shift.pk, other)
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "client_id_reused",
            "message": f"This till already sent a sale under this id, booked as sale {number}, with other lines or "
            f"amounts; nothing was changed. Discard this copy if sale {number} is the one the shopper paid.",
            "lines": [],
        }
    }
    assert _snapshot() == before


def test_a_changed_price_refuses_the_whole_sale_names_the_line_and_books_nothing(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    _price_set(crisps, 229)
    before = _snapshot()
    response = _post(_client(clerk), merchant, shift.pk, _sale(cola, crisps))
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "lines_refused",
            "message": "1 line cannot be booked as scanned; nothing was booked.",
            "lines": [
                {
                    "index": 1,
                    "code": _code(crisps),
                    "reason": "price_changed",
                    "message": "Knusper Chips now costs 2,29\xa0€, not 1,99\xa0€ as scanned.",
                    "name": "Knusper Chips",
                    "current_price": 229,
                }
            ],
        }
    }
    assert _snapshot() == before


def test_booking_at_the_current_price_is_the_same_sale_sent_with_that_price(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    """What the till's "book at the current price" sends: nothing was booked, so the same id is free."""
    _price_set(crisps, 229)
    client = _client(clerk)
    body = _sale(cola, crisps)
    assert _post(client, merchant, shift.pk, body).status_code == 409
    body["lines"][1]["unit_price"] = 229
    body["total"] = 727
    response = _post(client, merchant, shift.pk, body)
    assert response.status_code == 200
    assert (response.json()["order"]["total"], response.json()["order"]["change_given"]) == (727, 273)


def test_a_deactivated_product_and_an_unknown_code_are_named_with_their_reasons(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    with merchant_context(merchant.pk):
        StoreProduct.objects.filter(pk=cola.pk).update(is_active=False)
    unknown = next_gtin()[1:]
    body = _sale(cola, crisps)
    body["lines"].append({"code": unknown, "quantity": 1, "unit_price": 100})
    body["total"] = 797
    before = _snapshot()
    response = _post(_client(clerk), merchant, shift.pk, body)
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (
        "lines_refused",
        "2 lines cannot be booked as scanned; nothing was booked.",
    )
    assert error["lines"] == [
        {
            "index": 0,
            "code": _code(cola),
            "reason": "inactive",
            "message": "Quellwerk Cola is no longer for sale in this store.",
            "name": "Quellwerk Cola",
        },
        {
            "index": 2,
            "code": unknown,
            "reason": "unknown",
            "message": f"{unknown}: This shop does not sell a product with this barcode.",
        },
    ]
    assert _snapshot() == before


def test_a_pack_barcode_and_the_cans_code_of_one_product_are_one_line(
    merchant: Merchant, shift: Shift, clerk: Any, water: StoreProduct
) -> None:
    six_pack = BarcodeFactory(product=water.product, quantity=6)
    body = {
        "client_id": str(uuid.uuid4()),
        "lines": [
            {"code": six_pack.code, "quantity": 12, "unit_price": 89},
            {"code": _code(water), "quantity": 1, "unit_price": 89},
        ],
        "total": 13 * 89,
        "tendered": 2000,
        "made_at": timezone.now().isoformat(),
    }
    response = _post(_client(clerk), merchant, shift.pk, body)
    assert response.status_code == 200, response.content
    with merchant_context(merchant.pk):
        assert list(OrderLine.objects.values_list("store_product_id", "quantity", "line_total")) == [
            (water.pk, 13, 13 * 89)
        ]
        assert list(StockMovement.objects.filter(kind="sale").values_list("quantity", "on_hand_after")) == [(-13, 11)]


def test_selling_what_the_ledger_does_not_know_is_booked_below_zero_and_flagged(
    merchant: Merchant, shift: Shift, clerk: Any, store: Store
) -> None:
    """As at the online counter: the goods were on the counter, so stock is no reason to refuse."""
    gum = _stocked(store, 0, price=120, product__name="Kaugummi")
    body = {
        "client_id": str(uuid.uuid4()),
        "lines": [{"code": _code(gum), "quantity": 2, "unit_price": 120}],
        "total": 240,
        "tendered": 240,
        "made_at": timezone.now().isoformat(),
    }
    assert _post(_client(clerk), merchant, shift.pk, body).status_code == 200
    assert _on_hand(gum) == -2
    with merchant_context(merchant.pk):
        assert Order.objects.get().is_oversold is True
        assert StockMovement.objects.get(kind="sale").is_flagged_negative is True


def test_an_offline_sale_never_lands_in_the_clerks_sale_in_progress(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    """Sent while the clerk already rings up the next shopper online: two sales, each as rung up."""
    online = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_line_scan(order=online, code=_code(cola))
    response = _post(_client(clerk), merchant, shift.pk, _sale(cola, crisps))
    assert response.status_code == 200
    assert response.json()["order"]["id"] != online.pk
    with merchant_context(merchant.pk):
        assert list(OrderLine.objects.filter(order=online).values_list("quantity", flat=True)) == [1]
        assert Order.objects.get(pk=online.pk).status == OrderStatus.PENDING
    # ... and the online sale is still the one the till continues.
    assert counter.counter_sale_start(shift=shift, clerk=clerk).pk == online.pk


def test_the_sale_the_till_took_over_is_cancelled_with_the_booking(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    """Two colas were on the server's sale when the connection dropped; the till carried them over."""
    online = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=online, codes=[_code(cola), _code(cola)])
    response = _post(_client(clerk), merchant, shift.pk, _sale(cola, crisps, replaces=online.pk))
    assert response.status_code == 200
    with merchant_context(merchant.pk):
        assert Order.objects.get(pk=online.pk).status == OrderStatus.CANCELLED
        assert Order.objects.paid().count() == 1
    assert _on_hand(cola) == 8  # sold once, not twice


def test_a_taken_over_sale_that_was_paid_meanwhile_refuses_the_copy(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    """The cash payment reached Lingshou but its answer did not: the offline sale repeats a paid one."""
    online = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=online, codes=[_code(cola), _code(cola), _code(crisps)])
    counter.counter_pay_cash(order=online, tendered=1000, recorded_by=clerk)
    before = _snapshot()
    response = _post(_client(clerk), merchant, shift.pk, _sale(cola, crisps, replaces=online.pk))
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "replaced_sale_paid",
        "message": f"Sale {online.number}, which this offline sale took over, was paid before the connection "
        "dropped: this offline sale repeats it. Discard it unless the shopper paid twice.",
        "lines": [],
    }
    assert _snapshot() == before


def test_a_total_other_than_lingshous_is_refused(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    before = _snapshot()
    response = _post(_client(clerk), merchant, shift.pk, _sale(cola, crisps, total=690))
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "total_differs",
        "message": "Lingshou prices this sale at 6,97\xa0€, the till charged 6,90\xa0€; nothing was booked.",
        "lines": [],
    }
    assert _snapshot() == before


def test_age_restricted_items_need_the_id_check_the_till_recorded(
    merchant: Merchant, shift: Shift, clerk: Any, store: Store
) -> None:
    beer = _stocked(store, 6, price=129, product__is_age_restricted=True, product__minimum_age=16)
    body = {
        "client_id": str(uuid.uuid4()),
        "lines": [{"code": _code(beer), "quantity": 1, "unit_price": 129}],
        "total": 129,
        "tendered": 200,
        "made_at": timezone.now().isoformat(),
    }
    client = _client(clerk)
    before = _snapshot()
    refused = _post(client, merchant, shift.pk, body)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "age_check"
    assert _snapshot() == before
    assert _post(client, merchant, shift.pk, dict(body, age_checked=True)).status_code == 200
    with merchant_context(merchant.pk):
        order = Order.objects.get()
    assert (order.requires_age_check, order.age_checked_by_id, order.status) == (True, clerk.pk, OrderStatus.PAID)


def test_too_little_cash_and_a_closed_shift_are_refused_with_their_reasons(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    client = _client(clerk)
    before = _snapshot()
    short = _post(client, merchant, shift.pk, _sale(cola, crisps, tendered=500))
    assert short.status_code == 409
    assert short.json()["error"] == {
        "code": "insufficient_cash",
        "message": "Not enough cash: 5,00\xa0€ given, 6,97\xa0€ due.",
        "lines": [],
    }
    assert _snapshot() == before
    shifts.shift_close(shift=shift, closed_by=clerk, counted_cash=10000)
    before = _snapshot()
    closed = _post(client, merchant, shift.pk, _sale(cola, crisps))
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "shift_closed"
    assert _snapshot() == before


def test_the_sales_time_is_the_tills_kept_within_the_shift(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    client = _client(clerk)
    before_shift = shift.opened_at - timedelta(days=2)
    _post(client, merchant, shift.pk, _sale(cola, crisps, made_at=before_shift))
    sent = timezone.now()
    _post(client, merchant, shift.pk, _sale(cola, crisps, made_at=sent + timedelta(hours=5)))
    with merchant_context(merchant.pk):
        early, late = Order.objects.order_by("pk")
        kept = list(OfflineSale.objects.order_by("pk").values_list("made_at", flat=True))
    assert early.paid_at == shift.opened_at
    assert sent <= late.paid_at <= timezone.now()
    # What the till said is kept as it said it.
    assert kept == [before_shift, sent + timedelta(hours=5)]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("not json", "body", "The body is not JSON."),
        ("[1, 2]", "body", "The body must be a JSON object with the sale."),
        ({"client_id": "sale-1"}, "client_id", "client_id must be the sale's UUID."),
        ({"lines": []}, "lines", "lines must be a list of 1 to 200 lines."),
        ({"lines": ["4012345678901"]}, "lines[0]", "lines[0] must be an object with code, quantity and unit_price."),
        (
            {"lines": [{"code": " ", "quantity": 1, "unit_price": 249}]},
            "lines[0].code",
            "lines[0].code must be the code scanned (1 to 64 characters).",
        ),
        (
            {"lines": [{"code": "4012345678901", "quantity": 0, "unit_price": 249}]},
            "lines[0].quantity",
            "lines[0].quantity must be a whole number from 1 to 999.",
        ),
        (
            {"lines": [{"code": "4012345678901", "quantity": "2", "unit_price": 249}]},
            "lines[0].quantity",
            "lines[0].quantity must be a whole number from 1 to 999.",
        ),
        (
            {"lines": [{"code": "4012345678901", "quantity": True, "unit_price": 249}]},
            "lines[0].quantity",
            "lines[0].quantity must be a whole number from 1 to 999.",
        ),
        (
            {"lines": [{"code": "4012345678901", "quantity": 1, "unit_price": -249}]},
            "lines[0].unit_price",
            "lines[0].unit_price must be a whole number from 0 to 100000000.",
        ),
        (
            {"lines": [{"code": "4012345678901", "quantity": 1, "unit_price": 249, "deposit": "0,25"}]},
            "lines[0].deposit",
            "lines[0].deposit must be a whole number from 0 to 100000000.",
        ),
        (
            {"made_at": "2025-03-01T10:00:00"},
            "made_at",
            "made_at must be the time of the sale in ISO 8601 with its offset (…Z).",
        ),
        ({"made_at": "yesterday"}, "made_at", "made_at must be the time of the sale in ISO 8601 with its offset (…Z)."),
        ({"tendered": 10.5}, "tendered", "tendered must be a whole number from 0 to 100000000."),
        ({"age_checked": "yes"}, "age_checked", "age_checked must be true or false."),
        ({"replaces": 0}, "replaces", "replaces must be a whole number from 1 to 9223372036854775807."),
    ],
)
def test_a_body_that_is_not_a_sale_is_answered_400_with_the_field_and_changes_nothing(
    merchant: Merchant,
    shift: Shift,
    clerk: Any,
    cola: StoreProduct,
    crisps: StoreProduct,
    body: Any,
    field: str,
    message: str,
) -> None:
    sent = body if isinstance(body, str) else _sale(cola, crisps, **body)
    before = _snapshot()
    response = _post(_client(clerk), merchant, shift.pk, sent)
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid", "message": message, "fields": {field: [message]}}}
    assert _snapshot() == before


def test_the_service_refuses_with_the_lines_and_writes_nothing(
    shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    _price_set(cola, 259)
    sale = OfflineSaleIn(
        client_id=uuid.uuid4(),
        lines=[OfflineLine(_code(cola), 2, 249), OfflineLine(_code(crisps), 1, 199)],
        total=697,
        tendered=1000,
        made_at=timezone.now(),
    )
    before = _snapshot()
    with pytest.raises(OfflineSaleRefused) as refused:
        offline_sale_book(shift=shift, clerk=clerk, sale=sale)
    assert [(p.index, p.reason, p.current_price) for p in refused.value.lines] == [(0, "price_changed", 259)]
    assert _snapshot() == before


@pytest.mark.usefixtures("transactional_db")
def test_the_same_sale_sent_by_several_requests_at_once_is_booked_once(store: Store, clerk: Any) -> None:
    item = _stocked(store, 50, price=100)
    shift = shifts.shift_open(store=store, opened_by=clerk, opening_cash=0)
    sale = OfflineSaleIn(
        client_id=uuid.uuid4(),
        lines=[OfflineLine(_code(item), 3, 100)],
        total=300,
        tendered=500,
        made_at=timezone.now(),
    )
    sends = 5
    barrier = threading.Barrier(sends)
    booked: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait()
            booking = offline_sale_book(shift=shift, clerk=clerk, sale=sale)
            booked.append((booking.order.pk, booking.replayed))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({order_id for order_id, _ in booked}) == 1
    assert sorted(replayed for _, replayed in booked) == [False] + [True] * (sends - 1)
    assert _on_hand(item) == 47


# Who may -------------------------------------------------------------------------------------------


@pytest.fixture
def theirs(other_store: Store, other_owner: Any) -> dict[str, Any]:
    item = _stocked(other_store, 5, price=300)
    shift = shifts.shift_open(store=other_store, opened_by=other_owner, opening_cash=2000)
    return {"item": item, "shift": shift, "store": other_store}


def test_another_merchants_shift_and_store_are_404_and_nothing_changes(
    merchant: Merchant, store: Store, clerk: Any, theirs: dict[str, Any]
) -> None:
    client = _client(clerk)
    shifts.shift_open(store=store, opened_by=clerk, opening_cash=0)
    item = theirs["item"]
    body = {
        "client_id": str(uuid.uuid4()),
        "lines": [{"code": _code(item), "quantity": 1, "unit_price": 300}],
        "total": 300,
        "tendered": 300,
        "made_at": timezone.now().isoformat(),
    }
    before = _snapshot()
    response = _post(client, merchant, theirs["shift"].pk, body)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No such shift."}}
    assert client.get(f"/m/{merchant.slug}/counter/prices/?store={theirs['store'].pk}").status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("who", ["outsider", "other_owner"])
def test_non_members_get_404_and_nothing_changes(
    request: pytest.FixtureRequest,
    who: str,
    merchant: Merchant,
    store: Store,
    shift: Shift,
    cola: StoreProduct,
    crisps: StoreProduct,
) -> None:
    client = _client(request.getfixturevalue(who))
    before = _snapshot()
    assert _post(client, merchant, shift.pk, _sale(cola, crisps)).status_code == 404
    assert client.get(f"/m/{merchant.slug}/counter/prices/?store={store.pk}").status_code == 404
    assert _snapshot() == before


def test_signed_out_is_sent_to_sign_in_and_a_missing_csrf_token_is_refused(
    merchant: Merchant, store: Store, shift: Shift, clerk: Any, cola: StoreProduct, crisps: StoreProduct
) -> None:
    before = _snapshot()
    signed_out = _post(Client(), merchant, shift.pk, _sale(cola, crisps))
    assert signed_out.status_code == 302
    assert "login" in signed_out["Location"]
    assert Client().get(f"/m/{merchant.slug}/counter/prices/?store={store.pk}").status_code == 302
    # The till's requests carry the page's CSRF token; a request without it is another site's.
    forged = _post(_client(clerk, enforce_csrf_checks=True), merchant, shift.pk, _sale(cola, crisps))
    assert forged.status_code == 403
    assert _snapshot() == before


@pytest.mark.parametrize("role", ["owner", "manager", "clerk"])
def test_every_role_that_sells_at_the_counter_may_send_an_offline_sale(
    request: pytest.FixtureRequest,
    role: str,
    merchant: Merchant,
    shift: Shift,
    cola: StoreProduct,
    crisps: StoreProduct,
) -> None:
    user = request.getfixturevalue(role)
    response = _post(_client(user), merchant, shift.pk, _sale(cola, crisps))
    assert response.status_code == 200
    with merchant_context(merchant.pk):
        assert CounterPayment.objects.get().recorded_by_id == user.pk


# The price list ------------------------------------------------------------------------------------


def test_the_price_list_has_every_active_product_and_every_code_that_finds_it(
    merchant: Merchant, store: Store, clerk: Any, cola: StoreProduct, water: StoreProduct
) -> None:
    six_pack = BarcodeFactory(product=water.product, quantity=6)
    bread = StoreProductFactory(
        store=store, product=None, local_name="Bäckerbrot", price=350, local_tax_class="reduced"
    )
    with merchant_context(merchant.pk):
        LocalBarcode.objects.create(merchant=merchant, store=store, store_product=bread, code="02000000000015")
    _stocked(store, 3, price=99, is_active=False, product__name="Alte Limo")
    _stocked(StoreFactory(merchant=merchant), 1, price=77)  # sold in the merchant's other store, not this one
    beer = _stocked(store, 3, price=129, product__is_age_restricted=True, product__minimum_age=16, product__name="Pils")
    client = _client(clerk)
    response = client.get(f"/m/{merchant.slug}/counter/prices/?store={store.pk}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    prices = response.json()
    assert response["ETag"] == prices["version"]
    assert prices == {
        "version": prices["version"],
        "store": store.pk,
        "currency": "EUR",
        "locale": "de-DE",
        "prices_include_tax": True,
        "products": [
            [cola.pk, "Quellwerk Cola", 249, 1900, False, 0],
            [water.pk, "Bergquelle Wasser", 89, 1900, False, 0],
            [bread.pk, "Bäckerbrot", 350, 700, False, 0],
            [beer.pk, "Pils", 129, 1900, True, 0],
        ],
        "codes": sorted(
            [
                ["0" + _code(cola), cola.pk, 1],
                ["0" + _code(water), water.pk, 1],
                [six_pack.code, water.pk, 6],
                [f"L{bread.pk}", bread.pk, 1],
                ["02000000000015", bread.pk, 1],
                ["0" + _code(beer), beer.pk, 1],
            ]
        ),
        "scale": [],
    }
    # Asked again with the version it holds: nothing changed, nothing sent.
    unchanged = client.get(f"/m/{merchant.slug}/counter/prices/?store={store.pk}", HTTP_IF_NONE_MATCH=prices["version"])
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    _price_set(cola, 259)
    changed = client.get(f"/m/{merchant.slug}/counter/prices/?store={store.pk}", HTTP_IF_NONE_MATCH=prices["version"])
    assert changed.status_code == 200
    assert changed.json()["version"] != prices["version"]
    assert changed.json()["products"][0] == [cola.pk, "Quellwerk Cola", 259, 1900, False, 0]
