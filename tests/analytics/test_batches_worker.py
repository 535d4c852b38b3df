"""Must show: a backlog of facts queued for a real worker is applied in one batch, and a pool process killed inside
that batch (its increments written, not committed) loses nothing: the drain comes back and applies every fact once."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from analytics.models import AppliedFact, PendingFact
from analytics.selectors.consistency import rollups_mismatches
from catalog.models import StoreProduct
from checkout.models import Order
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import phone_order
from tests.worker import celery_worker, queue_purge, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ORDERS = 30


def test_a_pool_process_killed_inside_a_batch_loses_none_of_its_facts(
    store: Store, cola: StoreProduct, crisps: StoreProduct, tmp_path: Path
) -> None:
    queue_purge("analytics")
    # No worker yet: each paid order's task waits in the queue, as behind a busy worker.
    orders = [phone_order(store, [(cola if n % 2 else crisps, 1 + n % 3)]).pk for n in range(ORDERS)]
    pause = tmp_path / "pause"
    pause.mkdir()
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.analytics.worker_settings",
        "ANALYTICS_TEST_PAUSE_DIR": str(pause),
        "ANALYTICS_TEST_PAUSE_SECONDS": "120",
    }
    with celery_worker(extra_env=env, queues="analytics", purge=False) as worker:
        assert wait_for(lambda: len(list(pause.iterdir())) == 2, timeout=120), worker.stderr
        [marker] = [path for path in pause.iterdir() if path.name != "claimed"]
        with merchant_context(store.merchant_id):
            # Inside the batch: its pending rows taken, nothing committed yet.
            assert AppliedFact.objects.count() == 0
        os.kill(int(marker.read_text()), signal.SIGKILL)

        def applied() -> bool:
            with merchant_context(store.merchant_id):
                return AppliedFact.objects.count() == ORDERS

        assert wait_for(applied, timeout=120), worker.stderr
    with merchant_context(store.merchant_id):
        assert sorted(AppliedFact.objects.values_list("key", flat=True)) == sorted(orders)
        assert Order.objects.filter(paid_at__isnull=False).count() == ORDERS
        assert not PendingFact.objects.exists()
        # now() is the transaction's start: the 30 facts went in together, in the batch that ran again.
        assert AppliedFact.objects.values("applied_at").distinct().count() == 1
    assert rollups_mismatches(merchant=store.merchant, store=store)[0] == 0
    assert marker.name == f"order-{min(orders)}"
