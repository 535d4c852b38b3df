"""The transactional outbox: a paid webhook answers 200 with the broker away, its receipt waits as a row, and the
relay sends it once the broker is back, to a real worker, which mails it once; two relays at once publish each
row once; a receipt delivered twice at once is mailed once; the scrape shows counts and nothing of a merchant."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from email import message_from_string
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
import stripe
from django.contrib import admin
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from pytest_django import Settings
from redis.exceptions import ConnectionError as RedisConnectionError

from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import Order, OrderStatus
from checkout.services.carts import cart_add, visit_start
from checkout.services.orders import order_place
from checkout.tasks import receipt_send
from config.metrics import celery_queue_lengths
from core import outages
from core.models import OutboxMessage
from core.outbox import outbox_relay, send_on_commit
from merchants.models import Merchant, Store
from merchants.rls import tenant_tables
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.config.test_metrics import TOKEN, Samples, parse, value
from tests.worker import celery_worker, queue_purge, wait_for

WEBHOOK_SECRET = "whsec_outbox_tests"
PROBE = "tests.core.outbox_probe"  # no worker runs it: the tests count its messages in the queue
RECEIPT = "checkout.tasks.receipt_send"


def _breaker_opened() -> None:
    """The Redis breaker open, as after a publish that failed: every publish in this process fails at once."""
    with pytest.raises(RedisConnectionError):
        outages.redis_call(lambda: (_ for _ in ()).throw(RedisConnectionError("Connection refused")))
    assert outages.redis_breaker.opened


def _queued(queue: str = "celery") -> int:
    return celery_queue_lengths()[queue]


def _paid_order(store: Store, email: str = "ada@example.com") -> Order:
    cola: StoreProduct = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola")
    stock_move(merchant=store.merchant, store_product_id=cola.pk, kind=MovementKind.RECEIPT, quantity=10)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=cola.pk, quantity=2)
    return order_place(visit=visit, email=email)


def _webhook(order: Order) -> Any:
    event = {
        "id": f"evt_outbox_{order.pk}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": f"pi_outbox_{order.pk}",
                "object": "payment_intent",
                "amount": order.total,
                "amount_received": order.total,
                "currency": order.currency.lower(),
                "metadata": {"merchant_id": str(order.merchant_id), "order_id": str(order.pk)},
            }
        },
    }
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET, timestamp=int(time.time()))
    return Client().post("/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def _mails(folder: Path) -> list[str]:
    return [path.read_text() for path in sorted(folder.glob("*.log"))] if folder.exists() else []


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_paid_webhook_answers_200_with_the_broker_away_and_the_relay_sends_its_receipt_once(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = ""
    order = _paid_order(store)
    _breaker_opened()

    response = _webhook(order)

    assert response.status_code == 200, response.content[:300]
    with merchant_context(store.merchant_id):
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    waiting = OutboxMessage.objects.get()
    assert (waiting.task, waiting.args, waiting.attempts) == (RECEIPT, [store.merchant_id, order.pk], 1)
    assert "CircuitBreakerError" in waiting.last_error

    outages.redis_breaker.reset()  # the broker is back
    folder = tmp_path / "mail"
    worker_env = {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(folder)}
    with celery_worker(extra_env=worker_env) as worker:
        assert outbox_relay(older_than=timedelta(0)) == 1
        assert not OutboxMessage.objects.exists()
        assert wait_for(lambda: len(_mails(folder)) == 1), worker.stderr
        # A second delivery of the same message (a relay that died before its delete) sends nothing more.
        send_on_commit(RECEIPT, [store.merchant_id, order.pk])
        assert wait_for(lambda: not OutboxMessage.objects.exists(), timeout=10)
        time.sleep(3)
    mails = _mails(folder)
    assert len(mails) == 1
    sent = message_from_string(mails[0])
    assert str(make_header(decode_header(sent["Subject"]))) == f"Your receipt from {store.name}"
    assert sent["To"] == "ada@example.com"
    with merchant_context(store.merchant_id):
        assert Order.objects.get(pk=order.pk).receipt_sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_message_is_published_after_commit_and_deleted_and_a_rolled_back_one_never_exists() -> None:
    queue_purge()
    with transaction.atomic():
        send_on_commit(PROBE, [1, 2], {"day": "2026-03-01"})
        assert OutboxMessage.objects.count() == 1  # written with the change, before the publish
    assert not OutboxMessage.objects.exists()
    assert _queued() == 1

    def change_that_fails() -> None:
        with transaction.atomic():
            send_on_commit(PROBE, [3])
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert not OutboxMessage.objects.exists()
    assert _queued() == 1
    queue_purge()


@pytest.mark.django_db(transaction=True)
def test_the_relay_leaves_fresh_rows_to_their_commit_and_keeps_what_the_broker_refuses() -> None:
    queue_purge()
    _breaker_opened()
    with transaction.atomic():
        for number in range(3):
            send_on_commit(PROBE, [number])
    assert OutboxMessage.objects.count() == 3
    # Still refused: nothing published, nothing lost, the first row's attempt recorded.
    assert outbox_relay(older_than=timedelta(0)) == 0
    assert OutboxMessage.objects.count() == 3
    outages.redis_breaker.reset()
    # Younger than RELAY_AFTER: left to the commit that wrote them.
    assert outbox_relay() == 0
    assert outbox_relay(older_than=timedelta(0), batch=2) == 2
    assert outbox_relay(older_than=timedelta(0), batch=2) == 1
    assert not OutboxMessage.objects.exists()
    assert _queued() == 3
    queue_purge()


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_publish_each_message_once() -> None:
    queue_purge()
    earlier = timezone.now() - timedelta(minutes=5)
    OutboxMessage.objects.bulk_create(OutboxMessage(task=PROBE, args=[n], created_at=earlier) for n in range(60))
    start = threading.Barrier(2)
    counts: list[int] = []

    def relay() -> None:
        try:
            start.wait()
            total = 0
            while sent := outbox_relay(batch=7):
                total += sent
            counts.append(total)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == 60
    assert _queued() == 60
    assert not OutboxMessage.objects.exists()
    queue_purge()


@pytest.mark.django_db(transaction=True)
def test_a_receipt_delivered_twice_at_once_is_mailed_once(store: Store, settings: Settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    order = _paid_order(store)
    with merchant_context(store.merchant_id):
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID, paid_at=timezone.now())
    mail.outbox = []
    start = threading.Barrier(2)
    results: list[bool] = []

    def deliver() -> None:
        try:
            start.wait()
            results.append(receipt_send(store.merchant_id, order.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False, True]
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert receipt_send(store.merchant_id, order.pk) is False
    assert len(mail.outbox) == 1


@pytest.fixture
def scrape(settings: Settings) -> Callable[[], Samples]:
    settings.METRICS_TOKEN = TOKEN

    def read() -> Samples:
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content[:300]
        return parse(response.content.decode())

    return read


@pytest.mark.django_db
def test_the_scrape_counts_the_rows_waiting_and_the_oldest_age_and_names_no_merchant(
    scrape: Callable[[], Samples], merchant: Merchant, other_merchant: Merchant
) -> None:
    empty = scrape()
    assert empty[("lingshou_outbox_waiting", frozenset())] == 0
    assert empty[("lingshou_outbox_oldest_seconds", frozenset())] == 0
    earlier = timezone.now() - timedelta(minutes=3)
    OutboxMessage.objects.create(task=RECEIPT, args=[merchant.pk, 424242], created_at=earlier)
    OutboxMessage.objects.create(task=RECEIPT, args=[other_merchant.pk, 535353])

    samples = scrape()

    assert value(samples, "lingshou_outbox_waiting") == 2
    assert 180 <= value(samples, "lingshou_outbox_oldest_seconds") < 240
    # Counts only: no label, so no merchant, order or task argument reaches the scrape.
    assert sorted(key for key in samples if key[0].startswith("lingshou_outbox")) == [
        ("lingshou_outbox_oldest_seconds", frozenset()),
        ("lingshou_outbox_waiting", frozenset()),
    ]


def test_the_outbox_is_a_platform_table_that_no_merchant_reaches() -> None:
    # No merchant column: row-level security does not scope it, and no merchant-facing code reads it.
    assert OutboxMessage._meta.db_table not in {table for table, *_ in tenant_tables()}
    assert "merchant_id" not in {field.column for field in OutboxMessage._meta.concrete_fields}
    # Nor any admin: the operator sees the outbox only as the scrape's counts.
    assert OutboxMessage not in admin.site._registry
