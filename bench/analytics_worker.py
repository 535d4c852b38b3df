"""The analytics worker's throughput: a backlog of facts, enqueued as the services enqueue them, applied by a real worker.

    python -m config.database run -- .venv/bin/python bench/analytics_worker.py [--facts 1500] [--json]

Builds its own data in a fresh scratch database (test_lingshou_bench_analytics_worker): 2 merchants of 3
stores (bench/_analytics_data.py's world, 200 products a store), yesterday's paid phone orders in bulk
(1 in 200 refunded) and price lookups, about two orders to one lookup, ``--facts`` facts in all. A private
redis-server is the broker. Then, for each way of applying, from empty rollups: one task message per fact
(``analytics.tasks.<fact>_apply``, by name, as checkout and catalog send them), then a worker as the Procfile
runs it (prefork, concurrency 1, queue analytics), timed from its start until every fact is applied:

  per fact    the baseline: each task applies its own fact in its own transaction (the worker's settings
              bench/_analytics_per_fact.py give the tasks that body, as it was before batches);
  batched     each task records its fact as pending, and one drain per merchant applies up to 500 a
              transaction (``analytics.services.batches``).

``--busy N`` runs N CPU-bound processes beside the worker throughout, as the web, the cameras and the
other workers share the 2 cores in bench/soak.py.

For each: the worker's boot (until it takes the first message), seconds and facts/s from then until every
fact is applied, the transactions that applied them (distinct ``applied_at``: a transaction's now()),
and the ratio to the baseline. Every store's cells are checked equal to the raw facts after each. The
machine's load average (uptime) is printed beside the figures: on 2 shared cores they move with it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import django_setup, redis_server, report

TASKS = {"order": "order_paid_apply", "refund": "refund_apply", "lookup": "lookup_apply"}
MODES = {"per fact": "bench._analytics_per_fact", "batched": "config.settings.test"}


def _say(what: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def _load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _setup() -> None:
    """A fresh, migrated scratch database of its own."""
    from config.database import url_with

    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is not set: run through `python -m config.database run -- ...`.")
    os.environ["DATABASE_URL"] = url_with(url, database="lingshou_bench_analytics_worker")
    django_setup("config.settings.test")
    from django.test.utils import setup_databases

    setup_databases(verbosity=0, interactive=False, keepdb=False)


def _facts(wanted: int) -> tuple[dict[int, list[int]], list[tuple[int, str, int]]]:
    """The world and its facts: (merchant id, kind, key) of every order, refund and lookup."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import _analytics_data as data
    from django.db import connection

    from analytics.contributions import all_facts_sql
    from merchants.tenancy import merchant_context, platform_access

    data.CHAIN_STORES = 3  # two merchants of three stores
    world = data.world_make(stores=6)
    stores = [(merchant_id, store_id) for merchant_id, ids in world.merchants.items() for store_id in ids]
    yesterday = dt.datetime.now(tz=ZoneInfo(data.ZONE)).date() - dt.timedelta(days=1)
    per_store = max(1, round(wanted * 2 / 3 / len(stores)))
    for merchant_id, store_id in stores:
        data.history_make(
            merchant_id=merchant_id, store_id=store_id, first=yesterday, last=yesterday, per_day=per_store
        )
        with merchant_context(merchant_id), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO catalog_productlookup (merchant_id, store_id, store_product_id, code, looked_up_at) "
                "SELECT merchant_id, store_id, id, 'bench', now() - random() * INTERVAL '20 hours' "
                "FROM catalog_storeproduct WHERE store_id = %s ORDER BY random() LIMIT %s",
                [store_id, max(1, round(wanted / 3 / len(stores)))],
            )
    with platform_access(reason="bench: analytics worker", actor="bench"), connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(f"SELECT merchant_id, kind, key FROM ({all_facts_sql()}) f ORDER BY occurred_at")  # noqa: S608 - our SQL  # nosec B608
        facts = [(int(m), str(kind), int(key)) for m, kind, key in cursor.fetchall()]
    return world.merchants, facts


def _mode(name: str, settings: str, merchants: dict[int, list[int]], facts: list[tuple[int, str, int]]) -> dict:
    import redis
    from django.db import connection

    from analytics.models import AppliedFact
    from analytics.selectors.consistency import rollups_mismatches
    from config.celery import app
    from merchants.models import Merchant, Store
    from merchants.tenancy import merchant_context, platform_access
    from tests.worker import celery_worker, queue_purge

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE analytics_appliedfact, analytics_saleshour, analytics_productday, analytics_categoryday, "
            "analytics_pendingfact, analytics_factsdue"
        )
    queue_purge("analytics")
    started = time.perf_counter()
    for merchant_id, kind, key in facts:
        app.send_task(f"analytics.tasks.{TASKS[kind]}", args=[merchant_id, key])
    enqueued = time.perf_counter() - started

    def applied() -> int:
        with platform_access(reason="bench: analytics worker", actor="bench"):
            return AppliedFact.objects.count()

    broker = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    load = _load()
    consuming = None
    with celery_worker(extra_env={"DJANGO_SETTINGS_MODULE": settings}, queues="analytics", purge=False) as worker:
        started = time.perf_counter()
        done = 0
        while done < len(facts):
            time.sleep(0.02)
            # The worker has booted once it takes the first message off the queue.
            if consuming is None and broker.llen("analytics") < len(facts):
                consuming = time.perf_counter()
            if consuming is not None:
                done = applied()
            if worker.poll() is not None:
                raise RuntimeError(worker.stderr.read().decode()[-3000:] if worker.stderr else "worker died")
        ended = time.perf_counter()
    assert consuming is not None
    mismatches = 0
    for merchant in Merchant.objects.filter(pk__in=merchants):
        with merchant_context(merchant.pk):
            stores = list(Store.objects.filter(pk__in=merchants[merchant.pk]))
        mismatches += sum(rollups_mismatches(merchant=merchant, store=store)[0] for store in stores)
    with platform_access(reason="bench: analytics worker", actor="bench"):
        transactions = AppliedFact.objects.values("applied_at").distinct().count()
    return {
        "mode": name,
        "facts": len(facts),
        "enqueue_s": round(enqueued, 2),
        "boot_s": round(consuming - started, 1),
        "seconds": round(ended - consuming, 1),
        "facts_per_s": round(len(facts) / (ended - consuming), 1),
        "transactions": transactions,
        "mismatches": mismatches,
        "load": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facts", type=int, default=1500)
    parser.add_argument(
        "--busy", type=int, default=0, help="CPU-bound processes running beside the worker (shared cores)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with redis_server() as (_, port):
        os.environ["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{port}/0"
        _say("scratch database")
        _setup()
        merchants, facts = _facts(args.facts)
        _say(f"{len(facts)} facts; {_load()}")
        rows: list[dict[str, Any]] = []
        burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
        try:
            for name, settings in MODES.items():
                rows.append(_mode(name, settings, merchants, facts))
                _say(str(rows[-1]))
        finally:
            for burner in burners:
                burner.kill()
                burner.wait()
        base = rows[0]["facts_per_s"]
        for row in rows:
            row["x_baseline"] = "1.00 (baseline)" if row is rows[0] else f"{row['facts_per_s'] / base:.2f}"
    title = f"analytics worker ({len(facts)} facts, 2 merchants x 3 stores, {args.busy} busy processes beside it)"
    report(title, rows, as_json=args.json)


if __name__ == "__main__":
    main()
