"""Orders, reservations and the webhook's effects: order, ledger and money always agree."""

from __future__ import annotations

import itertools
import random
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import MovementKind, StockMovement, StoreProduct
from catalog.services.stock import stock_move
from checkout.errors import CheckoutError
from checkout.models import CartLine, ExitPass, Order, OrderLine, OrderStatus, WebhookEvent
from checkout.services import orders as order_services
from checkout.services.carts import cart_add, cart_set, visit_start
from checkout.services.orders import order_place
from checkout.services.payments import webhook_event_process
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory

pytestmark = pytest.mark.django_db

_events = itertools.count(1)


def _stocked(store: Store, units: int, **kwargs: Any) -> StoreProduct:
    item = StoreProductFactory(store=store, **kwargs)
    if units:
        stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=units)
    return item


def _event(
    order: Order,
    kind: str = "payment_intent.succeeded",
    *,
    amount: int | None = None,
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    obj = {
        "id": order.payment_intent or f"pi_test_{order.pk}",
        "object": "payment_intent",
        "amount": order.total,
        "amount_received": order.total if amount is None else amount,
        "currency": order.currency.lower(),
        "metadata": {"merchant_id": str(order.merchant_id), "order_id": str(order.pk)},
        **extra,
    }
    return {"id": event_id or f"evt_{next(_events)}", "type": kind, "data": {"object": obj}}


def _on_hand(item: StoreProduct) -> int:
    with merchant_context(item.merchant_id):
        return StoreProduct.objects.get(pk=item.pk).on_hand


def _order(order: Order) -> Order:
    with merchant_context(order.merchant_id):
        return Order.objects.get(pk=order.pk)


def test_an_order_is_priced_from_the_store_with_tax_per_class(store: Store) -> None:
    cola = _stocked(store, 10, price=249, product__tax_class="standard")
    crisps = _stocked(store, 10, price=199, product__tax_class="reduced")
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=cola.pk)
    cart_add(visit=visit, store_product_id=cola.pk)  # a second scan adds one
    cart_add(visit=visit, store_product_id=crisps.pk)
    order = order_place(visit=visit)
    with merchant_context(store.merchant.pk):
        lines = {line.store_product_id: line for line in order.lines.all()}
    assert (lines[cola.pk].quantity, lines[cola.pk].line_total, lines[cola.pk].tax_amount) == (
        2,
        498,
        80,
    )  # 19 % inside
    assert (lines[crisps.pk].line_total, lines[crisps.pk].tax_amount) == (199, 13)  # 7 % inside
    assert (order.subtotal, order.tax_total, order.total) == (697, 93, 697)
    assert order.status == OrderStatus.PENDING
    assert order.reserved_until > timezone.now()


@pytest.mark.parametrize(("quantity", "message"), [(-1, "0 or more"), (100, "At most 99")])
def test_bad_quantities_are_refused_and_change_nothing(store: Store, quantity: int, message: str) -> None:
    item = _stocked(store, 5)
    visit = visit_start(store=store)
    with pytest.raises(CheckoutError, match=message):
        cart_set(visit=visit, store_product_id=item.pk, quantity=quantity)
    with merchant_context(store.merchant.pk):
        assert not visit.lines.exists()


def test_scans_add_up_to_the_limit_and_the_scan_past_it_changes_nothing(store: Store) -> None:
    item = _stocked(store, 200)
    visit = visit_start(store=store)
    assert cart_add(visit=visit, store_product_id=item.pk).quantity == 1  # type: ignore[union-attr]
    assert cart_add(visit=visit, store_product_id=item.pk, quantity=97).quantity == 98  # type: ignore[union-attr]
    assert cart_add(visit=visit, store_product_id=item.pk).quantity == 99  # type: ignore[union-attr]
    with pytest.raises(CheckoutError, match="At most 99"):
        cart_add(visit=visit, store_product_id=item.pk)
    assert cart_set(visit=visit, store_product_id=item.pk, quantity=3).quantity == 3  # type: ignore[union-attr]
    with merchant_context(store.merchant.pk):
        assert list(visit.lines.values_list("store_product_id", "quantity")) == [(item.pk, 3)]
    # Removing a product that was since taken out of the assortment still works.
    with merchant_context(store.merchant.pk):
        StoreProduct.objects.filter(pk=item.pk).update(is_active=False)
    assert cart_set(visit=visit, store_product_id=item.pk, quantity=0) is None
    with merchant_context(store.merchant.pk):
        assert not visit.lines.exists()


def test_an_inactive_or_foreign_product_cannot_enter_the_cart(store: Store, other_store: Store) -> None:
    inactive = _stocked(store, 5, is_active=False)
    foreign = _stocked(other_store, 5)
    visit = visit_start(store=store)
    for item in (inactive, foreign):
        with pytest.raises(CheckoutError, match="not sold here"):
            cart_add(visit=visit, store_product_id=item.pk)


def test_an_empty_cart_cannot_be_ordered(store: Store) -> None:
    with pytest.raises(CheckoutError, match="empty"):
        order_place(visit=visit_start(store=store))


def test_paying_marks_the_order_paid_once_moves_stock_and_issues_an_exit_pass(store: Store) -> None:
    item = _stocked(store, 3, price=249)
    visit = visit_start(store=store)
    cart_set(visit=visit, store_product_id=item.pk, quantity=2)
    order = order_place(visit=visit)
    event = _event(order)
    assert webhook_event_process(event=event) is True
    for _ in range(99):  # Stripe redelivers; 100 deliveries in all
        assert webhook_event_process(event=event) is False
    paid = _order(order)
    assert paid.status == OrderStatus.PAID
    assert _on_hand(item) == 1
    with merchant_context(store.merchant.pk):
        assert StockMovement.objects.filter(kind="sale", reference=f"checkout.order:{order.pk}").count() == 1
        assert ExitPass.objects.filter(order=order).count() == 1
    assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1


def test_paying_empties_the_cart_of_what_was_bought_and_keeps_what_was_added_meanwhile(store: Store) -> None:
    cola, chips, gum = _stocked(store, 5, price=249), _stocked(store, 5, price=199), _stocked(store, 5, price=99)
    visit = visit_start(store=store)
    cart_set(visit=visit, store_product_id=cola.pk, quantity=2)
    cart_set(visit=visit, store_product_id=chips.pk, quantity=1)
    order = order_place(visit=visit)
    # While the payment runs the shopper scans one more cola and a gum.
    cart_add(visit=visit, store_product_id=cola.pk)
    cart_add(visit=visit, store_product_id=gum.pk)
    assert webhook_event_process(event=_event(order)) is True
    with merchant_context(store.merchant.pk):
        left = dict(CartLine.objects.filter(visit=visit).values_list("store_product_id", "quantity"))
    assert left == {cola.pk: 1, gum.pk: 1}


def test_a_payment_for_the_wrong_amount_does_not_mark_the_order_paid(store: Store) -> None:
    item = _stocked(store, 3, price=249)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=item.pk)
    order = order_place(visit=visit)
    webhook_event_process(event=_event(order, amount=1))  # a tampered or partial amount
    assert _order(order).status == OrderStatus.PENDING
    assert _on_hand(item) == 3


def test_a_failed_payment_leaves_the_order_waiting_with_the_reason(store: Store) -> None:
    item = _stocked(store, 3)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=item.pk)
    order = order_place(visit=visit)
    webhook_event_process(
        event=_event(order, "payment_intent.payment_failed", last_payment_error={"message": "Your card was declined."})
    )
    failed = _order(order)
    assert (failed.status, failed.payment_error) == (OrderStatus.PENDING, "Your card was declined.")
    with merchant_context(store.merchant.pk):
        assert visit.lines.count() == 1  # the cart is as it was
    assert _on_hand(item) == 3


@pytest.mark.parametrize("sequence", list(itertools.permutations(["succeeded", "failed", "refunded"])))
def test_events_in_any_order_end_in_the_right_state(store: Store, sequence: tuple[str, ...]) -> None:
    item = _stocked(store, 3, price=249)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=item.pk)
    order = order_place(visit=visit)
    with merchant_context(store.merchant.pk):
        Order.objects.filter(pk=order.pk).update(payment_intent=f"pi_seq_{order.pk}")
        order.refresh_from_db()
    events = {
        "succeeded": _event(order),
        "failed": _event(order, "payment_intent.payment_failed", last_payment_error={"message": "declined first"}),
        "refunded": {
            "id": f"evt_{next(_events)}",
            "type": "charge.refunded",
            "data": {
                "object": {
                    "id": "ch_1",
                    "payment_intent": order.payment_intent,
                    "amount_refunded": order.total,
                    "metadata": {},
                }
            },
        },
    }
    for name in sequence:
        webhook_event_process(event=events[name])
    final = _order(order)
    refund_after_payment = sequence.index("refunded") > sequence.index("succeeded")
    if refund_after_payment:
        assert final.status == OrderStatus.REFUNDED
        assert _on_hand(item) == 3  # sold and returned
    else:
        # A refund event for an unpaid order changes nothing; the later success still counts.
        assert final.status == OrderStatus.PAID
        assert _on_hand(item) == 2
    with merchant_context(store.merchant.pk):
        assert StockMovement.objects.filter(kind="sale").count() == 1


def test_a_handler_that_dies_after_recording_the_event_leaves_nothing_and_the_redelivery_works(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _stocked(store, 3)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=item.pk)
    order = order_place(visit=visit)
    event = _event(order)
    real = order_services.stock_moves

    def dies(**kwargs: Any) -> Any:
        real(**kwargs)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(order_services, "stock_moves", dies)
    with pytest.raises(RuntimeError):
        webhook_event_process(event=event)
    assert not WebhookEvent.objects.filter(event_id=event["id"]).exists()
    assert _order(order).status == OrderStatus.PENDING
    assert _on_hand(item) == 3
    monkeypatch.setattr(order_services, "stock_moves", real)
    assert webhook_event_process(event=event) is True
    assert _order(order).status == OrderStatus.PAID
    assert _on_hand(item) == 2


def test_a_payment_after_the_reservation_ran_out_and_the_unit_was_sold_is_flagged_not_silent(store: Store) -> None:
    item = _stocked(store, 1)
    first = visit_start(store=store)
    cart_add(visit=first, store_product_id=item.pk)
    late = order_place(visit=first)
    with merchant_context(store.merchant.pk):
        Order.objects.filter(pk=late.pk).update(reserved_until=timezone.now() - timedelta(minutes=1))
    second = visit_start(store=store)
    cart_add(visit=second, store_product_id=item.pk)
    winner = order_place(visit=second)  # the unit is free again
    webhook_event_process(event=_event(winner))
    webhook_event_process(event=_event(late))  # the late payment still arrives
    assert _order(late).status == OrderStatus.PAID
    assert _order(late).is_oversold is True
    assert _order(winner).is_oversold is False
    assert _on_hand(item) == -1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("buyers", "units"), [(50, 1), (20, 5)])
def test_concurrent_buyers_for_the_last_units_never_oversell(merchant: Merchant, buyers: int, units: int) -> None:
    from tests.factories import StoreFactory

    store = StoreFactory(merchant=merchant)
    item = _stocked(store, units, price=100)
    visits = []
    for _ in range(buyers):
        visit = visit_start(store=store)
        cart_add(visit=visit, store_product_id=item.pk)
        visits.append(visit)
    placed: list[Order] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(buyers)

    def buy(visit: Any) -> None:
        try:
            barrier.wait()
            placed.append(order_place(visit=visit))
        except CheckoutError as error:
            refused.append(error.messages[0])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(v,)) for v in visits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(placed) == units
    assert len(refused) == buyers - units
    assert all("sold out" in message for message in refused)
    for order in placed:
        webhook_event_process(event=_event(order))
    with merchant_context(merchant.pk):
        assert Order.objects.filter(status=OrderStatus.PAID).count() == units
        assert StoreProduct.objects.get(pk=item.pk).on_hand == 0
        assert not StockMovement.objects.filter(is_flagged_negative=True).exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_of_multi_line_carts_over_overlapping_products_never_deadlock_or_oversell(
    merchant: Merchant,
) -> None:
    from catalog.selectors import ledger_violations
    from tests.factories import StoreFactory

    store = StoreFactory(merchant=merchant)
    items = [_stocked(store, 6, price=100 + n) for n in range(6)]
    rng = random.Random(7)
    carts = []
    for _ in range(20):
        visit = visit_start(store=store)
        # Three overlapping products each, added in a random order (the cart's order is the shopper's).
        for item in rng.sample(items, 3):
            cart_set(visit=visit, store_product_id=item.pk, quantity=rng.randint(1, 2))
        carts.append(visit)
    placed: list[Order] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(carts))

    def buy(visit: Any) -> None:
        try:
            barrier.wait()
            order = order_place(visit=visit)
            placed.append(order)
            assert webhook_event_process(event=_event(order)) is True
        except CheckoutError as error:
            refused.append(error.messages[0])
        except BaseException as error:  # noqa: BLE001 - reported below (a deadlock would land here)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(v,)) for v in carts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(placed) + len(refused) == len(carts)
    assert placed  # some carts fit the stock, the rest were told what ran out
    with merchant_context(merchant.pk):
        sold = dict.fromkeys((item.pk for item in items), 0)
        for line in OrderLine.objects.filter(order__status=OrderStatus.PAID):
            sold[line.store_product_id] += line.quantity
        on_hand = dict(StoreProduct.objects.filter(pk__in=sold).values_list("pk", "on_hand"))
        assert all(on_hand[pk] == 6 - sold[pk] >= 0 for pk in sold)  # 0 oversold
        assert not StockMovement.objects.filter(is_flagged_negative=True).exists()
    assert ledger_violations(merchant=merchant) == []


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_twenty_times_at_once_pays_one_order_once(merchant: Merchant) -> None:
    from tests.factories import StoreFactory

    store = StoreFactory(merchant=merchant)
    item = _stocked(store, 5)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=item.pk)
    order = order_place(visit=visit)
    event = _event(order)
    results: list[bool] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def deliver() -> None:
        try:
            barrier.wait()
            results.append(webhook_event_process(event=event))
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Concurrent duplicates wait for the first delivery's insert and then do nothing: no errors.
    assert errors == []
    assert results.count(True) == 1
    assert _on_hand(item) == 4
    with merchant_context(merchant.pk):
        assert StockMovement.objects.filter(kind="sale").count() == 1
