"""Orders in the dashboard: list, filters, detail, refunds (through localstripe) and the CSV export."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import stripe
from django.db import connection
from django.test import Client
from django.utils import timezone

from catalog.models import MovementKind, StockMovement, StoreProduct
from catalog.services.stock import stock_move
from checkout import gateway
from checkout.models import Channel, Dispute, Order, OrderStatus, Refund, WebhookEvent
from checkout.services import refunds
from checkout.services.carts import cart_set, visit_start
from checkout.services.exit_passes import exit_pass_token, exit_pass_use
from checkout.services.orders import age_check_confirm, order_place
from checkout.services.payments import payment_start, webhook_event_process
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, platform_access
from tests.catalog.factories import StoreProductFactory
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _stocked(store: Store, units: int = 100, **kwargs: Any) -> StoreProduct:
    item = StoreProductFactory(store=store, **kwargs)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=units)
    return item


def _order(order: Order | int) -> Order:
    pk = order if isinstance(order, int) else order.pk
    with platform_access(reason="test: read an order", actor="test"):
        return Order.objects.select_related("store__merchant").get(pk=pk)


def _place(store: Store, *lines: tuple[StoreProduct, int], **changes: Any) -> Order:
    """An order placed the shopper's way, then moved (status, time, channel) as the test needs."""
    visit = visit_start(store=store)
    for item, quantity in lines:
        cart_set(visit=visit, store_product_id=item.pk, quantity=quantity)
    order = order_place(visit=visit)
    if changes.get("status") == OrderStatus.PAID:
        changes.setdefault("paid_at", changes.get("created_at") or timezone.now())
    if changes:
        with merchant_context(store.merchant.pk):
            Order.objects.filter(pk=order.pk).update(**changes)
    return _order(order)


def _paid_event(obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"evt_{uuid.uuid4().hex}", "type": "payment_intent.succeeded", "data": {"object": obj}}


def _paid_without_stripe(store: Store, *lines: tuple[StoreProduct, int]) -> Order:
    """Paid through the webhook's path with a made-up PaymentIntent (no Stripe call is made)."""
    order = _place(store, *lines)
    obj = {
        "id": f"pi_test_{order.pk}",
        "amount": order.total,
        "amount_received": order.total,
        "currency": order.currency.lower(),
        "metadata": {"merchant_id": str(order.merchant_id), "order_id": str(order.pk)},
    }
    assert webhook_event_process(event=_paid_event(obj)) is True
    return _order(order)


def _paid_at_localstripe(store: Store, localstripe: stripe.StripeClient, *lines: tuple[StoreProduct, int]) -> Order:
    """Placed, a real PaymentIntent at localstripe confirmed with Stripe's test Visa, then its webhook."""
    order = payment_start(order=_place(store, *lines))
    intent = gateway.intent_confirm_with_test_card(
        intent_id=order.payment_intent, card_number="4242424242424242", connected_account=None
    )
    assert intent.status == "succeeded"
    obj = localstripe.v1.payment_intents.retrieve(order.payment_intent).to_dict()
    assert webhook_event_process(event=_paid_event(obj)) is True
    paid = _order(order)
    assert paid.status == OrderStatus.PAID
    return paid


def _on_hand(item: StoreProduct) -> int:
    with merchant_context(item.merchant_id):
        return StoreProduct.objects.get(pk=item.pk).on_hand


def _snapshot() -> dict[str, Any]:
    with platform_access(reason="test: snapshot", actor="test"):
        return {
            "orders": list(Order.objects.order_by("pk").values_list("pk", "status", "amount_refunded", "paid_at")),
            "on_hand": list(StoreProduct.objects.order_by("pk").values_list("pk", "on_hand")),
            "movements": StockMovement.objects.count(),
            "webhooks": WebhookEvent.objects.count(),
            "refunds": list(Refund.objects.order_by("pk").values_list("order_id", "amount", "refunded_by_id")),
        }


def _stripe_refunds(localstripe: stripe.StripeClient, order: Order) -> list[int]:
    found = localstripe.v1.refunds.list(params={"payment_intent": order.payment_intent})
    return sorted(refund.amount for refund in found.data)


def _numbers(response: Any) -> list[str]:
    return [order.number for order in response.context["page"]]


def _csv(response: Any) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content).decode()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    return _stocked(store, price=249, product__name="Quellwerk Cola", product__tax_class="standard")


@pytest.fixture
def crisps(store: Store) -> StoreProduct:
    return _stocked(store, price=199, product__name="Kartoffelchips Paprika", product__tax_class="reduced")


@pytest.fixture
def second_store(merchant: Merchant) -> Store:
    return StoreFactory(merchant=merchant, name="Bahnhof 2", code="BAHNHOF2", timezone="America/New_York")


@pytest.fixture
def foreign_order(other_store: Store) -> Order:
    return _paid_without_stripe(other_store, (_stocked(other_store, price=100, product__name="Fremdes Wasser"), 1))


# List and filters -------------------------------------------------------------------------------


def test_the_list_shows_the_orders_newest_first_with_their_totals(
    merchant: Merchant,
    store: Store,
    cola: StoreProduct,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    old = _place(store, (cola, 1), created_at=_at("2025-03-01T09:00"))
    new = _place(store, (cola, 2), created_at=_at("2025-03-01T10:15"), status=OrderStatus.PAID)
    response = _client(owner).get(f"/m/{merchant.slug}/orders/")
    assert response.status_code == 200
    assert _numbers(response) == [new.number, old.number]
    body = response.content.decode()
    assert f">{new.number}</a>" in body
    assert "4,98\xa0€" in body
    assert "2,49\xa0€" in body
    assert "2025-03-01 11:15" in body  # Berlin's time, not UTC's
    # Both counted; the paid one's total added up.
    assert '<strong>2 orders</strong>: 1 paid, <strong id="orders-paid-total">4,98\xa0€</strong>.' in body
    assert 'aria-current="page"' in body


def test_filters_by_store_status_channel_and_number(
    merchant: Merchant,
    store: Store,
    second_store: Store,
    cola: StoreProduct,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    water = _stocked(second_store, price=99)
    paid = _place(store, (cola, 1), status=OrderStatus.PAID)
    counter = _place(store, (cola, 1), status=OrderStatus.PAID, channel=Channel.COUNTER)
    pending = _place(store, (cola, 1))
    elsewhere = _place(second_store, (water, 1), status=OrderStatus.PAID)
    client = _client(owner)
    url = f"/m/{merchant.slug}/orders/"
    assert _numbers(client.get(url, {"store": second_store.pk})) == [elsewhere.number]
    assert _numbers(client.get(url, {"store": store.pk, "status": "paid"})) == [counter.number, paid.number]
    assert _numbers(client.get(url, {"channel": "counter"})) == [counter.number]
    assert _numbers(client.get(url, {"status": "pending"})) == [pending.number]
    assert _numbers(client.get(url, {"q": paid.number})) == [paid.number]
    assert _numbers(client.get(url, {"q": f"#{paid.pk}"})) == [paid.number]
    partial = client.get(url, {"status": "pending"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="results"' in partial
    assert "<html" not in partial  # the partial only
    assert "export.csv?status=pending" in partial  # the export link carries the filters


def test_the_date_range_is_each_stores_local_days(
    merchant: Merchant,
    store: Store,
    second_store: Store,
    cola: StoreProduct,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    water = _stocked(second_store, price=99)
    late_on_the_first = _place(store, (cola, 1), created_at=_at("2025-03-01T22:30"))  # 23:30 in Berlin
    early_on_the_second = _place(store, (cola, 1), created_at=_at("2025-03-01T23:30"))  # 00:30 in Berlin
    new_york_evening = _place(second_store, (water, 1), created_at=_at("2025-03-02T03:00"))  # 22:00 on the 1st
    client = _client(owner)
    url = f"/m/{merchant.slug}/orders/"
    first = client.get(url, {"from": "2025-03-01", "to": "2025-03-01"})
    assert _numbers(first) == [new_york_evening.number, late_on_the_first.number]
    assert _numbers(client.get(url, {"from": "2025-03-02"})) == [early_on_the_second.number]
    assert _numbers(client.get(url, {"to": "2025-03-01", "store": store.pk})) == [late_on_the_first.number]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2025-02-30"}, "From &#x27;2025-02-30&#x27; is not a date like 2025-03-01."),
        ({"to": "yesterday"}, "To &#x27;yesterday&#x27; is not a date like 2025-03-01."),
        ({"from": "2025-03-02", "to": "2025-03-01"}, "The start date is after the end date."),
        ({"status": "lost"}, "&#x27;lost&#x27; is not an order status."),
        ({"q": "cola"}, "Search by order number, such as 000123."),
    ],
)
def test_a_filter_that_makes_no_sense_is_named_and_ignored(
    merchant: Merchant,
    store: Store,
    cola: StoreProduct,
    owner,
    params: dict[str, str],
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    order = _place(store, (cola, 1))
    response = _client(owner).get(f"/m/{merchant.slug}/orders/", params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _numbers(response) == [order.number]
    assert _client(owner).get(f"/m/{merchant.slug}/orders/export.csv", params).status_code == 400


def test_the_empty_states_say_why_nothing_shows(merchant: Merchant, store: Store, cola: StoreProduct, owner) -> None:  # type: ignore[no-untyped-def]
    client = _client(owner)
    nothing_yet = client.get(f"/m/{merchant.slug}/orders/").content.decode()
    assert "No orders yet." in nothing_yet
    assert "Export CSV" not in nothing_yet
    _place(store, (cola, 1))
    filtered = client.get(f"/m/{merchant.slug}/orders/", {"status": "refunded"}).content.decode()
    assert "No orders match these filters." in filtered
    assert "No orders yet." not in filtered


def test_thirty_orders_take_as_many_queries_as_one(
    merchant: Merchant,
    store: Store,
    second_store: Store,
    cola: StoreProduct,
    crisps: StoreProduct,
    owner,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    client = _client(owner)
    url = f"/m/{merchant.slug}/orders/"
    _place(store, (cola, 1), (crisps, 2))
    client.get(url)  # the session and the like warm up
    # 3 of the page's own (stores, count, orders); the rest is session, sign-in, tenancy, navigation.
    with django_assert_max_num_queries(17) as one:
        client.get(url)
    water = _stocked(second_store, price=99)
    for n in range(29):
        _place(store if n % 2 else second_store, (cola if n % 2 else water, 1 + n % 3))
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"]) == 30
    assert response.context["page"][-1].item_count == 3


def test_fifty_orders_a_page(merchant: Merchant, store: Store, cola: StoreProduct, owner) -> None:  # type: ignore[no-untyped-def]
    first = _place(store, (cola, 1))
    with merchant_context(merchant.pk):
        Order.objects.bulk_create(
            Order(merchant=merchant, store=store, currency="EUR", subtotal=100, tax_total=16, total=100)
            for _ in range(50)
        )
    client = _client(owner)
    page_one = client.get(f"/m/{merchant.slug}/orders/", {"status": "pending"})
    assert len(page_one.context["page"]) == 50
    assert first.number not in _numbers(page_one)
    assert "page=2" in page_one.content.decode()
    assert "status=pending&amp;page=2" in page_one.content.decode()
    page_two = client.get(f"/m/{merchant.slug}/orders/", {"status": "pending", "page": 2})
    assert _numbers(page_two) == [first.number]


# Detail -----------------------------------------------------------------------------------------


def test_the_detail_shows_lines_taxes_payment_age_check_exit_pass_and_oversold(
    merchant: Merchant,
    store: Store,
    cola: StoreProduct,
    crisps: StoreProduct,
    owner,
    clerk,  # type: ignore[no-untyped-def]
) -> None:
    beer = _stocked(
        store, price=129, product__name="Lindenbräu Pils", product__is_age_restricted=True, product__minimum_age=16
    )
    order = _paid_without_stripe(store, (cola, 2), (crisps, 1), (beer, 1))
    age_check_confirm(order=order, clerk=clerk)
    token = exit_pass_token(order=_order(order))  # age_check_confirm refreshed it: store no longer loaded
    assert token is not None
    assert exit_pass_use(merchant_id=merchant.pk, token=token, used_by=clerk).status == "ok"
    with merchant_context(merchant.pk):
        Order.objects.filter(pk=order.pk).update(is_oversold=True)
    order = _order(order)
    with merchant_context(merchant.pk):
        used_at = order.exit_pass.used_at
    response = _client(owner).get(f"/m/{merchant.slug}/orders/{order.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    local = "%Y-%m-%d %H:%M"
    assert f"<h1>Order {order.number}</h1>" in body
    # 2 × 2,49 + 1,29 at 19 % inside (0,80 + 0,21 tax); 1,99 at 7 % inside.
    assert [(row.rate, row.net, row.tax, row.gross) for row in response.context["taxes"]] == [
        ("19 %", 526, 101, 627),
        ("7 %", 186, 13, 199),
    ]
    assert "<td>19 %</td>" in body
    assert "5,26\xa0€" in body
    assert "1,86\xa0€" in body
    assert "8,26\xa0€" in body  # the total
    assert "incl. 1,14\xa0€ VAT" in body
    assert f"<code>pi_test_{order.pk}</code>" in body
    assert f"at {timezone.localtime(order.age_checked_at, BERLIN).strftime(local)}." in body
    assert clerk.first_name in body
    assert f"Used at {timezone.localtime(used_at, BERLIN).strftime(local)}" in body
    assert f"Paid</dt><dd>{timezone.localtime(order.paid_at, BERLIN).strftime(local)}" in body
    assert "paid after its reservation ran out; stock went below zero — count the shelf" in body
    assert "Lindenbräu Pils" in body


def test_the_detail_of_an_unpaid_order_offers_no_refund(
    merchant: Merchant,
    store: Store,
    cola: StoreProduct,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    order = _place(store, (cola, 1))
    body = _client(owner).get(f"/m/{merchant.slug}/orders/{order.pk}/").content.decode()
    assert "Nothing to refund: this order was not paid." in body
    assert "not paid</dd>" in body
    assert "None: a pass is issued when the order is paid." in body
    assert "/refund/" not in body


# Refunds ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("stripe_settings")
def test_a_partial_then_a_full_refund_at_localstripe_returns_the_stock_once(
    merchant: Merchant,
    store: Store,
    cola: StoreProduct,
    owner,
    manager,
    localstripe: stripe.StripeClient,  # type: ignore[no-untyped-def]
) -> None:
    order = _paid_at_localstripe(store, localstripe, (cola, 3))  # 7,47 €
    assert _on_hand(cola) == 97
    url = f"/m/{merchant.slug}/orders/{order.pk}/refund/"

    partial = _client(manager).post(url, {"amount": "2,00"}, follow=True)
    assert partial.redirect_chain == [(f"/m/{merchant.slug}/orders/{order.pk}/", 302)]
    assert f"Refunded 2,00\xa0€ of order {order.number} to the shopper&#x27;s card." in partial.content.decode()
    refunded = _order(order)
    assert (refunded.status, refunded.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 200)
    assert _on_hand(cola) == 97  # which units came back is the clerk's call
    assert _stripe_refunds(localstripe, order) == [200]

    before = _snapshot()
    too_much = _client(owner).post(url, {"amount": "5.48"}, follow=True).content.decode()
    assert "At most 5,47\xa0€ can still be refunded (total 7,47\xa0€, 2,00\xa0€ already refunded)." in too_much
    assert _snapshot() == before
    assert _stripe_refunds(localstripe, order) == [200]

    full = _client(owner).post(url, {"amount": "5.47"}, follow=True).content.decode()
    assert "Every unit is back in stock." in full
    refunded = _order(order)
    assert (refunded.status, refunded.amount_refunded) == (OrderStatus.REFUNDED, 747)
    assert _on_hand(cola) == 100
    with merchant_context(merchant.pk):
        movements = list(StockMovement.objects.filter(kind=MovementKind.REFUND).values_list("quantity", flat=True))
    assert movements == [3]
    assert _stripe_refunds(localstripe, order) == [200, 547]

    # Stripe's own charge.refunded events (the running totals) arrive afterwards: nothing doubles.
    intent = localstripe.v1.payment_intents.retrieve(order.payment_intent).to_dict()
    charge_id = intent["latest_charge"]["id"] if isinstance(intent["latest_charge"], dict) else intent["latest_charge"]
    charge = localstripe.v1.charges.retrieve(charge_id).to_dict()
    assert charge["amount_refunded"] == 747
    charge.setdefault("payment_intent", order.payment_intent)  # Stripe sets it; localstripe leaves it out
    before = _snapshot()
    for running_total in (200, 747):
        refunded_so_far = {**charge, "amount_refunded": running_total}
        event = {"id": f"evt_{uuid.uuid4().hex}", "type": "charge.refunded", "data": {"object": refunded_so_far}}
        assert webhook_event_process(event=event) is True
    after = _snapshot()
    assert after["webhooks"] == before["webhooks"] + 2
    assert {k: v for k, v in after.items() if k != "webhooks"} == {k: v for k, v in before.items() if k != "webhooks"}

    again = _client(owner).post(url, {"amount": "0.01"}, follow=True).content.decode()
    assert "This order is already fully refunded." in again
    assert _stripe_refunds(localstripe, order) == [200, 547]
    # Who refunded what is kept, once each, and shown on the order.
    assert after["refunds"] == [(order.pk, 200, manager.pk), (order.pk, 547, owner.pk)]
    # Names of their own (the factory's random first names may be the same for both).
    type(manager).objects.filter(pk=manager.pk).update(first_name="Mareike", last_name="Manager")
    type(owner).objects.filter(pk=owner.pk).update(first_name="Olaf", last_name="Owner")
    detail = _client(owner).get(f"/m/{merchant.slug}/orders/{order.pk}/").content.decode()
    assert detail.count("Mareike Manager") == 1
    assert "5,47\xa0€" in detail


def test_a_refund_made_in_stripes_dashboard_and_a_dispute_are_recorded_on_the_order(
    merchant: Merchant, store: Store, cola: StoreProduct, owner, stripe_fixtures: dict[str, Any]
) -> None:  # type: ignore[no-untyped-def]
    order = _paid_without_stripe(store, (cola, 2))
    charge = {**stripe_fixtures["charge"], "payment_intent": order.payment_intent, "amount_refunded": 100}
    refund_event = {"id": "evt_refund_elsewhere", "type": "charge.refunded", "data": {"object": charge}}
    assert webhook_event_process(event=refund_event) is True
    assert webhook_event_process(event=refund_event) is False
    with merchant_context(merchant.pk):
        assert list(Refund.objects.values_list("amount", "refunded_by_id", "stripe_reference")) == [
            (100, None, "evt_refund_elsewhere")
        ]

    dispute = {**stripe_fixtures["dispute"], "id": "dp_shop1", "payment_intent": order.payment_intent, "amount": 498}
    opened = {
        "id": "evt_dispute_1",
        "type": "charge.dispute.created",
        "data": {"object": {**dispute, "status": "needs_response", "reason": "fraudulent"}},
    }
    closed = {
        "id": "evt_dispute_2",
        "type": "charge.dispute.closed",
        "data": {"object": {**dispute, "status": "won", "reason": "fraudulent"}},
    }
    assert webhook_event_process(event=opened) is True
    assert webhook_event_process(event=opened) is False
    with merchant_context(merchant.pk):
        assert list(Dispute.objects.values_list("order_id", "amount", "reason", "status")) == [
            (order.pk, 498, "fraudulent", "needs_response")
        ]
    assert webhook_event_process(event=closed) is True
    with merchant_context(merchant.pk):
        assert list(Dispute.objects.values_list("status", flat=True)) == ["won"]
    detail = _client(owner).get(f"/m/{merchant.slug}/orders/{order.pk}/").content.decode()
    assert "in Stripe's dashboard" in detail
    assert "fraudulent" in detail
    # A dispute on a payment Lingshou does not know changes nothing.
    stray = {
        "id": "evt_dispute_3",
        "type": "charge.dispute.created",
        "data": {"object": {**dispute, "id": "dp_x", "payment_intent": "pi_unknown"}},
    }
    assert webhook_event_process(event=stray) is True
    with merchant_context(merchant.pk):
        assert Dispute.objects.count() == 1


def test_the_refund_is_asked_once_per_running_total_on_the_shops_connected_account(
    merchant: Merchant,
    store: Store,
    cola: StoreProduct,
    owner,
    fake_stripe: Any,
    stripe_fixtures: dict[str, dict[str, Any]],  # type: ignore[no-untyped-def]
) -> None:
    order = _paid_without_stripe(store, (cola, 2))
    with merchant_context(merchant.pk):
        Order.objects.filter(pk=order.pk).update(stripe_account="acct_1Lindenstrasse")
    fake_stripe.answer("POST", "/v1/refunds", {**stripe_fixtures["refund"], "id": "re_first", "amount": 100})
    _client(owner).post(f"/m/{merchant.slug}/orders/{order.pk}/refund/", {"amount": "1"})
    sent = fake_stripe.requests[-1]
    assert (sent.path, sent.form) == ("/v1/refunds", {"payment_intent": f"pi_test_{order.pk}", "amount": "100"})
    assert sent.headers["Idempotency-Key"] == f"lingshou-refund-{order.token}-100"
    assert sent.headers["Stripe-Account"] == "acct_1Lindenstrasse"
    assert _order(order).amount_refunded == 100


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Enter the amount to refund."),
        ("abc", "&#x27;abc&#x27; is not an amount."),
        ("0", "The amount to refund must be more than zero."),
        ("-1", "The amount to refund must be more than zero."),
        ("1.234", "EUR amounts have 2 decimals at most."),
    ],
)
def test_a_bad_amount_is_refused_with_a_message_and_changes_nothing(
    merchant: Merchant,
    store: Store,
    cola: StoreProduct,
    owner,
    amount: str,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    order = _paid_without_stripe(store, (cola, 1))
    before = _snapshot()
    response = _client(owner).post(f"/m/{merchant.slug}/orders/{order.pk}/refund/", {"amount": amount}, follow=True)
    assert message in response.content.decode()
    assert _snapshot() == before


def test_an_unpaid_order_cannot_be_refunded(merchant: Merchant, store: Store, cola: StoreProduct, owner) -> None:  # type: ignore[no-untyped-def]
    order = _place(store, (cola, 1))
    before = _snapshot()
    body = (
        _client(owner)
        .post(f"/m/{merchant.slug}/orders/{order.pk}/refund/", {"amount": "1"}, follow=True)
        .content.decode()
    )
    assert "This order was never paid (waiting for payment), so there is nothing to refund." in body
    assert _snapshot() == before


def test_a_sale_not_paid_through_stripe_is_refunded_at_the_till(
    merchant: Merchant,
    store: Store,
    cola: StoreProduct,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    order = _place(store, (cola, 1), status=OrderStatus.PAID, channel=Channel.COUNTER)
    before = _snapshot()
    body = (
        _client(owner)
        .post(f"/m/{merchant.slug}/orders/{order.pk}/refund/", {"amount": "1"}, follow=True)
        .content.decode()
    )
    assert "This order was not paid through Stripe: give the money back from the till." in body
    assert _snapshot() == before


@pytest.mark.usefixtures("stripe_settings")
def test_a_refusal_by_stripe_is_shown_and_nothing_is_recorded(
    merchant: Merchant,
    store: Store,
    cola: StoreProduct,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    order = _paid_without_stripe(store, (cola, 1))  # pi_test_<id>: localstripe has never heard of it
    before = _snapshot()
    body = (
        _client(owner)
        .post(f"/m/{merchant.slug}/orders/{order.pk}/refund/", {"amount": "1"}, follow=True)
        .content.decode()
    )
    assert "Stripe refused the refund:" in body
    assert _snapshot() == before


def test_a_clerk_is_told_only_owners_and_managers_refund_and_nothing_changes(
    merchant: Merchant,
    store: Store,
    cola: StoreProduct,
    clerk,  # type: ignore[no-untyped-def]
) -> None:
    order = _paid_without_stripe(store, (cola, 1))
    client = _client(clerk)
    detail = client.get(f"/m/{merchant.slug}/orders/{order.pk}/").content.decode()
    assert "Only owners and managers can refund orders." in detail
    assert "/refund/" not in detail
    before = _snapshot()
    response = client.post(f"/m/{merchant.slug}/orders/{order.pk}/refund/", {"amount": "2.49"})
    assert response.status_code == 403
    assert "Only owners and managers can refund orders." in response.content.decode()
    assert _snapshot() == before


@pytest.mark.usefixtures("stripe_settings")
@pytest.mark.django_db(transaction=True)
def test_two_refunds_at_once_never_add_up_to_more_than_the_total(
    merchant: Merchant,
    store: Store,
    owner,
    manager,
    localstripe: stripe.StripeClient,  # type: ignore[no-untyped-def]
) -> None:
    item = _stocked(store, price=1000)
    order = _paid_at_localstripe(store, localstripe, (item, 1))
    barrier = threading.Barrier(2)
    done: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def refund(user: Any) -> None:
        try:
            barrier.wait()
            done.append(
                refunds.order_refund(merchant=merchant, order_id=order.pk, amount=600, refunded_by=user).amount_refunded
            )
        except refunds.RefundError as error:
            refused.append(error.messages[0])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=refund, args=(user,)) for user in (owner, manager)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert done == [600]
    assert refused == ["At most 4,00\xa0€ can still be refunded (total 10,00\xa0€, 6,00\xa0€ already refunded)."]
    assert _order(order).amount_refunded == 600
    assert _stripe_refunds(localstripe, order) == [600]


# Export -----------------------------------------------------------------------------------------


def test_the_export_has_one_row_per_line_with_decimal_amounts(
    merchant: Merchant,
    store: Store,
    second_store: Store,
    cola: StoreProduct,
    crisps: StoreProduct,
    owner,
    foreign_order: Order,  # type: ignore[no-untyped-def]
) -> None:
    paid = _paid_without_stripe(store, (cola, 2), (crisps, 1))
    with merchant_context(merchant.pk):
        Order.objects.filter(pk=paid.pk).update(created_at=_at("2025-03-01T23:30"), amount_refunded=100)
    water = _stocked(second_store, price=99, product__name="Stilles Wasser", product__tax_class="zero")
    counter = _place(second_store, (water, 3), channel=Channel.COUNTER, created_at=_at("2025-03-02T15:00"))
    client = _client(owner)
    header = (
        "order,date,store,channel,status,product,quantity,unit_price,line_total,"
        "tax_rate,tax,order_total,order_refunded,currency\r\n"
    )
    everything = _csv(client.get(f"/m/{merchant.slug}/orders/export.csv"))
    assert everything == header + (
        f"{counter.number},2025-03-02 10:00,Bahnhof 2,counter,pending,Stilles Wasser,3,0.99,2.97,0.00,0.00,2.97,0.00,EUR\r\n"
        f"{paid.number},2025-03-02 00:30,Lindenstraße 5,shopper,paid,Quellwerk Cola,2,2.49,4.98,19.00,0.80,6.97,1.00,EUR\r\n"
        f"{paid.number},2025-03-02 00:30,Lindenstraße 5,shopper,paid,Kartoffelchips Paprika,1,1.99,1.99,7.00,0.13,6.97,1.00,EUR\r\n"
    )
    assert "Fremdes Wasser" not in everything
    assert foreign_order.number not in {row.split(",")[0] for row in everything.splitlines()}
    only_paid = _csv(client.get(f"/m/{merchant.slug}/orders/export.csv", {"status": "paid", "from": "2025-03-02"}))
    assert only_paid.count("\r\n") == 3
    assert counter.number not in only_paid
    nothing = _csv(client.get(f"/m/{merchant.slug}/orders/export.csv", {"status": "refunded"}))
    assert nothing == header


# Other merchants ----------------------------------------------------------------------------------


def test_another_merchants_order_is_not_found_on_any_route_and_nothing_changes(
    merchant: Merchant,
    store: Store,
    cola: StoreProduct,
    other_store: Store,
    foreign_order: Order,
    owner,
    outsider,
    other_owner,  # type: ignore[no-untyped-def]
) -> None:
    mine = _paid_without_stripe(store, (cola, 1))
    client = _client(owner)
    base = f"/m/{merchant.slug}/orders"
    before = _snapshot()
    assert client.get(f"{base}/{foreign_order.pk}/").status_code == 404
    assert client.post(f"{base}/{foreign_order.pk}/refund/", {"amount": "1.00"}).status_code == 404
    assert client.get(f"{base}/", {"store": other_store.pk}).status_code == 404
    assert client.get(f"{base}/export.csv", {"store": other_store.pk}).status_code == 404
    assert _numbers(client.get(f"{base}/", {"q": foreign_order.number})) == []
    assert _numbers(client.get(f"{base}/")) == [mine.number]
    # The other shop's owner, and someone who is staff nowhere, reach nothing of this shop.
    for stranger in (other_owner, outsider):
        other = _client(stranger)
        assert other.get(f"{base}/").status_code == 404
        assert other.get(f"{base}/{mine.pk}/").status_code == 404
        assert other.post(f"{base}/{mine.pk}/refund/", {"amount": "1.00"}).status_code == 404
        assert other.get(f"{base}/export.csv").status_code == 404
    # Through their own shop's URL, the other owner cannot reach this shop's order either.
    theirs = f"/m/{other_store.merchant.slug}/orders"
    assert _client(other_owner).get(f"{theirs}/{mine.pk}/").status_code == 404
    assert _client(other_owner).post(f"{theirs}/{mine.pk}/refund/", {"amount": "1.00"}).status_code == 404
    assert _snapshot() == before
