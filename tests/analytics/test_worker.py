"""Must show: 20 threads place, pay, refund and count at once while a real worker is killed mid-update; every rollup
cell then equals the raw facts (analytics_check prints 0)."""

from __future__ import annotations

import os
import random
import signal
import threading
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from analytics.models import AppliedFact
from analytics.selectors.consistency import rollups_mismatches
from analytics.services.facts import facts_missing
from catalog.models import StoreProduct
from catalog.services.counts import count_line_set, count_session_close, count_session_start
from catalog.services.signals import product_lookup_record
from checkout.errors import CheckoutError
from checkout.models import Order, Refund
from checkout.services import shifts
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import code, counter_sale, phone_order, refund, stocked
from tests.worker import celery_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

THREADS = 20
ROUNDS = 5


_lock = threading.Lock()
outcomes: Counter[str] = Counter()
made: list[int] = []


def _done(what: str) -> None:
    with _lock:
        outcomes[what] += 1


def _work(thread: int, store: Store, items: list[StoreProduct], clerk: Any, errors: list[BaseException]) -> None:
    chance = random.Random(thread)
    try:
        for step in range(ROUNDS):
            item = items[(thread + step) % len(items)]
            operation = (thread + step) % 5
            try:
                if operation in (0, 1):
                    order = phone_order(store, [(item, chance.randint(1, 3)), (items[-1], 1)])
                    _done("phone")
                    made.append(order.pk)
                    if chance.random() < 0.5:
                        refund(order, chance.choice([1, 99, order.total]))
                        _done("refund")
                elif operation == 2:
                    made.append(counter_sale(store, clerk, [code(item), code(items[-1])], tendered=2000).pk)
                    _done("counter")
                elif operation == 3:
                    # A count that finds the shelf empty, and the next round's that finds it full again.
                    session = count_session_start(merchant=store.merchant, store=store)
                    count_line_set(
                        merchant=store.merchant, session_id=session.pk, store_product_id=item.pk,
                        counted=0 if step % 2 == 0 else 40,
                    )  # fmt: skip
                    count_session_close(merchant=store.merchant, session_id=session.pk)
                    _done("count")
                else:
                    product_lookup_record(store=store, code=code(item), store_product=item)
                    _done("lookup")
            except CheckoutError as refusal:
                _done(f"refused {refusal}")  # sold out after a count: the shopper's answer, not a failure
    except BaseException as error:  # noqa: BLE001 - reported by the test
        errors.append(error)
    finally:
        connection.close()


def test_concurrent_sales_refunds_and_counts_with_a_worker_killed_mid_update_leave_zero_mismatches(
    store: Store, clerk: Any, tmp_path: Path
) -> None:
    items = [stocked(store, 60, price=price) for price in (249, 199, 129, 89)]
    shifts.shift_open(store=store, opened_by=clerk, opening_cash=5000)
    pause = tmp_path / "pause"
    pause.mkdir()
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.analytics.worker_settings",
        "ANALYTICS_TEST_PAUSE_DIR": str(pause),
        "ANALYTICS_TEST_PAUSE_SECONDS": "120",
    }
    with celery_worker(extra_env=env, queues="analytics", concurrency=2) as worker:
        # One sale and one refund for sure, whatever the threads' timing (counts may empty the shelf for them).
        first = phone_order(store, [(items[0], 1)])
        made.append(first.pk)
        refund(first, 1)
        _done("refund")
        errors: list[BaseException] = []
        threads = [threading.Thread(target=_work, args=(n, store, items, clerk, errors)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        # A fact's increments are written but not committed when its pool process is killed.
        assert wait_for(lambda: len(list(pause.iterdir())) == 2, timeout=120), worker.stderr
        [marker] = [path for path in pause.iterdir() if path.name != "claimed"]
        os.kill(int(marker.read_text()), signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=240)
        assert errors == []

        def converged() -> bool:
            return rollups_mismatches(merchant=store.merchant, store=store)[0] == 0

        # acks_late + reject_on_worker_lost: the killed fact comes back and is applied once, with the rest.
        settled = wait_for(converged, timeout=240)
    report = (rollups_mismatches(merchant=store.merchant, store=store), facts_missing(hours=1, limit=50))
    assert settled, (report, outcomes, worker.stderr.read().decode()[-4000:] if worker.stderr else "")
    kind, key = marker.name.split("-")
    with merchant_context(store.merchant_id):
        assert AppliedFact.objects.filter(kind=kind, key=int(key)).count() == 1
        applied = dict(AppliedFact.objects.values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    out = StringIO()
    call_command("analytics_check", stdout=out)
    assert out.getvalue() == "0 mismatching cells\n"
    # Every fact the threads made was applied once (a counter sale may be resumed by another thread: ids are unique).
    with merchant_context(store.merchant_id):
        assert applied["order"] == len(set(made)) == Order.objects.filter(paid_at__isnull=False).count()
        assert applied["refund"] == outcomes["refund"] == Refund.objects.count()
    assert applied["lookup"] == outcomes["lookup"] == THREADS * ROUNDS // 5
    assert applied.get("stockout", 0) >= 1  # counted empty, then counted full again
