"""The demo's localstripe keeps its objects across a restart, and the seeded orders an owner sees first
have their payments there: refunding one works after localstripe restarted.

Real processes: ``python -m checkout.localstripe_run`` on a free port, stopped with SIGTERM and
started again on the same state file; the refund goes through the gateway and the refund service.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import stripe
from pytest_django import Settings

from catalog.models import MovementKind
from catalog.services.stock import stock_move
from checkout import gateway
from checkout.models import Order, OrderStatus
from checkout.services.carts import cart_add, visit_start
from checkout.services.orders import order_place
from checkout.services.payments import webhook_event_process
from checkout.services.refunds import order_refund
from demo.seed.stripe_objects import stripe_objects_ensure
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
SECRET_KEY = "sk_test_lingshou"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stripe_port(settings: Settings) -> int:
    port = _free_port()
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_lingshou"
    return port


@contextmanager
def localstripe(port: int, state: Path) -> Iterator[list[str]]:
    """The demo's localstripe on ``port`` keeping its objects in ``state``; stopped with SIGTERM, which it must obey."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "STRIPE_API_BASE": f"http://127.0.0.1:{port}",
        "STRIPE_WEBHOOK_SECRET": "whsec_test_lingshou",
        # Nothing listens there: the webhooks fail quietly, the refund service records the refund itself.
        "SITE_URL": f"http://127.0.0.1:{_free_port()}",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "checkout.localstripe_run", "--state", str(state)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": f"http://127.0.0.1:{port}"})
    deadline = time.monotonic() + 60
    while True:
        try:
            client.v1.payment_intents.list(params={"limit": 1})
            break
        except stripe.APIConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"localstripe did not start: {process.communicate()[0]}")
            time.sleep(0.2)
    output: list[str] = []
    try:
        yield output
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            returncode = None
        output.extend(process.communicate()[0].splitlines())
    assert returncode == 0, output
    assert not any("Traceback" in line or "ERROR" in line for line in output), output


def _seeded_paid_order(store: Store, *, price: int) -> Order:
    """A paid phone order as the demo's sales seeder writes it: a made-up PaymentIntent id."""
    item = StoreProductFactory(store=store, price=price)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=5)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=item.pk)
    order = order_place(visit=visit)
    intent = {
        "id": f"pi_{order.pk}",
        "amount_received": order.total,
        "currency": "eur",
        "metadata": {"merchant_id": str(order.merchant_id), "order_id": str(order.pk)},
    }
    webhook_event_process(
        event={"id": f"evt_{order.pk}", "type": "payment_intent.succeeded", "data": {"object": intent}}
    )
    with merchant_context(store.merchant_id):
        Order.objects.filter(pk=order.pk).update(payment_intent=f"pi_demo{order.pk:010d}")
        return Order.objects.get(pk=order.pk)


def _order(order: Order) -> Order:
    with merchant_context(order.merchant_id):
        return Order.objects.get(pk=order.pk)


def test_a_seeded_order_is_refunded_after_localstripe_restarts(
    merchant: Merchant, store: Store, owner: Any, stripe_port: int, tmp_path: Path
) -> None:
    assert merchant.slug == "kiosk-linden"  # a demo merchant: the step backs only the demo's shops
    state = tmp_path / "localstripe.pickle"
    order = _seeded_paid_order(store, price=450)

    with localstripe(stripe_port, state):
        assert stripe_objects_ensure() == 1
        backed = _order(order)
        assert backed.payment_intent.startswith("pi_")
        assert not backed.payment_intent.startswith("pi_demo")
        intent = gateway.intent_retrieve(intent_id=backed.payment_intent, connected_account=None)
        assert (intent.status, intent.amount_received) == ("succeeded", 450)
        assert backed.status == OrderStatus.PAID  # nothing else about the order changed
        assert stripe_objects_ensure() == 0  # already there: nothing made twice
    assert state.exists()

    with localstripe(stripe_port, state) as output:
        assert stripe_objects_ensure() == 0  # still there after the restart
        refunded = order_refund(merchant=merchant, order_id=order.pk, amount=450, refunded_by=owner)
        assert (refunded.status, refunded.amount_refunded) == (OrderStatus.REFUNDED, 450)
        client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": f"http://127.0.0.1:{stripe_port}"})
        latest = client.v1.payment_intents.retrieve(backed.payment_intent).to_dict()["latest_charge"]
        charge = client.v1.charges.retrieve(latest if isinstance(latest, str) else latest["id"])
        assert (charge.amount, charge.amount_refunded, charge.refunded) == (450, 450, True)
    assert any("objects kept in" in line and "(0 objects" not in line for line in output), output


def test_without_its_state_localstripe_knows_nothing_and_the_step_makes_the_payments_again(
    merchant: Merchant, store: Store, stripe_port: int, tmp_path: Path
) -> None:
    del merchant
    order = _seeded_paid_order(store, price=450)
    with localstripe(stripe_port, tmp_path / "first.pickle"):
        assert stripe_objects_ensure() == 1
    first_intent = _order(order).payment_intent
    # The state lost (another file): the payment is unknown, so it is made again and the order follows.
    with localstripe(stripe_port, tmp_path / "lost.pickle"):
        with pytest.raises(gateway.GatewayError):
            gateway.intent_retrieve(intent_id=first_intent, connected_account=None)
        assert stripe_objects_ensure() == 1
        again = _order(order).payment_intent
        assert again != first_intent
        assert gateway.intent_retrieve(intent_id=again, connected_account=None).status == "succeeded"


def test_only_the_newest_seeded_orders_of_each_store_are_backed(
    merchant: Merchant, store: Store, stripe_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    del merchant
    from demo.seed import stripe_objects

    monkeypatch.setattr(stripe_objects, "RECENT_ORDERS", 2)
    orders = [_seeded_paid_order(store, price=450) for _ in range(3)]
    small = _seeded_paid_order(store, price=40)  # below Stripe's minimum charge: left as it is
    with localstripe(stripe_port, tmp_path / "state.pickle"):
        assert stripe_objects_ensure() == 2
    intents = [_order(order).payment_intent for order in [*orders, small]]
    # The two newest of the three that Stripe may charge; the oldest and the small one keep their made-up ids.
    assert [intent.startswith("pi_demo") for intent in intents] == [True, False, False, True]
