"""A Stripe that takes the connection and never answers: the shopper's checkout and pay page answer 503 with
Retry-After within about the read timeout, the next attempt at once (the breaker), the order stays pending,
and once Stripe answers again and the breaker has closed, paying creates one PaymentIntent for the order.

The figures (seconds per request while Stripe is silent) are printed: ``pytest -s`` shows them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stripe
from django.test import Client
from pytest_django import Settings

from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout import stripe_http
from checkout.models import Order, OrderStatus, Visit
from checkout.services import counter, shifts
from checkout.services.carts import cart_set, visit_start
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory

pytestmark = pytest.mark.django_db

# Shorter than production's 6 s so that the tests stay quick; the bound below is what is under test.
READ_TIMEOUT_S = 2.0
# "At once": the breaker answers without sending anything.
AT_ONCE_S = 0.5
HTMX = {"HTTP_HX_REQUEST": "true"}
UNAVAILABLE = "Payments are not answering right now. Please try again in a minute."


class SilentStripe:
    """Accepts connections and reads what is sent, never answers; keeps each request's Idempotency-Key."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.server.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.keys: list[str] = []
        self.held: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.held.append(conn)
            conn.settimeout(1)
            try:
                head = conn.recv(65536).decode(errors="replace")
            except OSError:
                continue
            for line in head.split("\r\n"):
                if line.lower().startswith("idempotency-key:"):
                    self.keys.append(line.split(":", 1)[1].strip())

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        for conn in self.held:
            conn.close()
        self.server.close()


@pytest.fixture
def silent_stripe(stripe_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentStripe]:
    """The gateway pointed at a silent Stripe; its breaker closes again after 1 s instead of 30 (kept short here)."""
    silent = SilentStripe()
    stripe_settings.STRIPE_API_BASE = silent.url
    stripe_settings.STRIPE_TIMEOUT_SECONDS = READ_TIMEOUT_S
    monkeypatch.setattr(stripe_http.breaker, "_recovery_timeout", 1)
    try:
        yield silent
    finally:
        silent.close()


def _stripe_back(settings: Settings, localstripe_url: str) -> None:
    """Stripe answers again (localstripe), and the breaker's pause is over."""
    settings.STRIPE_API_BASE = localstripe_url
    deadline = time.monotonic() + 5
    while stripe_http.breaker.opened and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not stripe_http.breaker.opened


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def _figures(name: str, seconds: list[float]) -> None:
    ordered = sorted(seconds)
    print(f"\n{name}: n={len(ordered)} p50={ordered[len(ordered) // 2]:.3f} s max={ordered[-1]:.3f} s")  # noqa: T201 - the figures


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    item = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola")
    # The last unit: a retry that held it a second time would find it sold out.
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=1)
    return item


def _shopper(store: Store, item: StoreProduct) -> tuple[Client, Visit]:
    visit = visit_start(store=store)
    cart_set(visit=visit, store_product_id=item.pk, quantity=1)
    client = Client()
    session = client.session
    session[f"visit:{store.pk}"] = str(visit.token)
    session.save()
    return client, visit


def _orders(visit: Visit) -> list[tuple[str, str]]:
    with merchant_context(visit.merchant_id):
        return list(Order.objects.filter(visit=visit).order_by("pk").values_list("status", "payment_intent"))


def _order(visit: Visit) -> Order:
    with merchant_context(visit.merchant_id):
        return Order.objects.get(visit=visit)


def _intents_of(localstripe: stripe.StripeClient, order: Order) -> list[str]:
    found = localstripe.v1.payment_intents.list(params={"limit": 100})
    return [i.id for i in found.data if i.to_dict().get("metadata", {}).get("order_id") == str(order.pk)]


def test_checkout_against_a_silent_stripe_answers_503_then_at_once_and_pays_once_when_it_is_back(
    store: Store,
    cola: StoreProduct,
    silent_stripe: SilentStripe,
    settings: Settings,
    localstripe_url: str,
    localstripe: stripe.StripeClient,
) -> None:
    client, visit = _shopper(store, cola)
    assert client.get(f"/s/{store.code}/cart/").status_code == 200  # templates loaded: the figure is Stripe's

    first, waited = _timed(lambda: client.post(f"/s/{store.code}/checkout/", {"email": ""}))
    again, at_once = _timed(lambda: client.post(f"/s/{store.code}/checkout/", {"email": ""}, **HTMX))

    for answer in (first, again):
        assert answer.status_code == 503
        assert answer["Retry-After"] == "30"
        assert UNAVAILABLE in answer.content.decode()
    # One read timeout, not three (a timed-out read is not retried): less than two; the next is not even sent.
    assert READ_TIMEOUT_S - 0.2 < waited < 2 * READ_TIMEOUT_S, waited
    assert at_once < AT_ONCE_S, at_once
    # The retry took up the same order, still pending and holding the last unit once.
    assert _orders(visit) == [(OrderStatus.PENDING, "")]
    order = _order(visit)
    assert silent_stripe.keys == [f"lingshou-order-{order.token}"]
    _figures("checkout while Stripe is silent: first", [waited])
    _figures("checkout while Stripe is silent: next (breaker open)", [at_once])

    _stripe_back(settings, localstripe_url)
    paid = client.post(f"/s/{store.code}/checkout/", {"email": ""})

    assert paid.status_code == 302
    assert paid["Location"] == f"/s/{store.code}/orders/{order.token}/pay/"
    with merchant_context(store.merchant_id):
        order.refresh_from_db()
    assert _intents_of(localstripe, order) == [order.payment_intent]
    assert _orders(visit) == [(OrderStatus.PENDING, order.payment_intent)]


def test_the_pay_page_against_a_silent_stripe_answers_503_then_at_once_and_pays_once_when_it_is_back(
    store: Store,
    cola: StoreProduct,
    silent_stripe: SilentStripe,
    settings: Settings,
    localstripe_url: str,
    localstripe: stripe.StripeClient,
) -> None:
    client, visit = _shopper(store, cola)
    settings.STRIPE_API_BASE = localstripe_url
    placed = client.post(f"/s/{store.code}/checkout/", {"email": ""})
    assert placed.status_code == 302
    order = _order(visit)
    pay = f"/s/{store.code}/orders/{order.token}/pay/"
    settings.STRIPE_API_BASE = silent_stripe.url

    first, waited = _timed(lambda: client.post(pay, {"card": "4242424242424242"}))
    again, at_once = _timed(lambda: client.post(pay, {"card": "4242424242424242"}))

    for answer in (first, again):
        assert answer.status_code == 503
        assert answer["Retry-After"] == "30"
        assert UNAVAILABLE in answer.content.decode()
    assert READ_TIMEOUT_S - 0.2 < waited < 2 * READ_TIMEOUT_S, waited
    assert at_once < AT_ONCE_S, at_once
    with merchant_context(store.merchant_id):
        order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    _figures("pay page while Stripe is silent: first", [waited])
    _figures("pay page while Stripe is silent: next (breaker open)", [at_once])

    _stripe_back(settings, localstripe_url)
    paid = client.post(pay, {"card": "4242424242424242"})

    assert paid.status_code == 302
    assert paid["Location"] == f"/s/{store.code}/orders/{order.token}/"
    assert _intents_of(localstripe, order) == [order.payment_intent]
    assert localstripe.v1.payment_intents.retrieve(order.payment_intent).status == "succeeded"


@pytest.mark.usefixtures("silent_stripe")
def test_the_counters_card_reader_against_a_silent_stripe_says_payments_are_not_answering(
    merchant: Merchant, store: Store, clerk: Any
) -> None:
    with merchant_context(store.merchant_id):
        Store.objects.filter(pk=store.pk).update(stripe_reader="tmr_till1")
    item = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola")
    stock_move(merchant=merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=5)
    sale = counter.counter_sale_start(
        shift=shifts.shift_open(store=store, opened_by=clerk, opening_cash=0), clerk=clerk
    )
    counter.counter_line_scan(order=sale, code=item.product.gtin[1:])  # type: ignore[union-attr]
    client = Client()
    client.force_login(clerk)
    reader = f"/m/{merchant.slug}/counter/sales/{sale.pk}/pay/reader/"

    first, waited = _timed(lambda: client.post(reader, **HTMX))
    again, at_once = _timed(lambda: client.post(reader, **HTMX))

    for answer in (first, again):
        assert answer.status_code == 503
        assert answer["Retry-After"] == "30"
        assert "Payments are not answering; please try again in a minute." in answer.content.decode()
    assert READ_TIMEOUT_S - 0.2 < waited < 2 * READ_TIMEOUT_S, waited
    assert at_once < AT_ONCE_S, at_once
    with merchant_context(merchant.pk):
        assert Order.objects.get(pk=sale.pk).payment_intent == ""  # nothing kept: the sale can be paid otherwise
    _figures("counter card reader while Stripe is silent: first", [waited])
    _figures("counter card reader while Stripe is silent: next (breaker open)", [at_once])
