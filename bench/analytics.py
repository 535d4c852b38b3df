"""Analytics at scale: pages from the rollups against the raw tables, rebuilds, rollup lag, webhooks.

    python -m config.database run -- .venv/bin/python bench/analytics.py [--stores 50] [--days 365] [--json]

Builds its own history in a fresh scratch database (test_lingshou_bench_analytics): ``--stores``
stores (20 of one merchant, the rest in three-store merchants) with 200 products each and ``--days``
days of paid phone orders, about 550 sale lines a store-day (50 x 365: about 10 million lines),
written in bulk by SQL (bench/_analytics_data.py says what the rows are). Then, each figure with a
baseline of the same run:

  history     seconds and lines/s to write the orders (the baseline of the rebuild's rate);
  rebuild     ``manage.py analytics_rebuild --store`` of one store, then of every store: seconds,
              sale lines and facts per second, and as a ratio to writing the same history;
  pages       server time (Django test Client, in this process, test settings, signed in as the
              owner) of the Overview and Sales pages for one store and for the chain's 20 stores over a
              90-day range ending yesterday, p50 / p95; beside it the same figures computed from the
              raw orders and lines (the bench's own SQL: SUM over checkout_order / checkout_orderline in
              each store's time zone) p50 / p95, and x_raw = raw p95 / page p95. The rollup figures are
              checked equal to the raw ones first;
  lag         a real Celery worker on the analytics queue (as the Procfile runs it): a signed
              payment_intent.succeeded webhook posted, then the Overview's figure polled until the
              order is in it: p50 / p95 seconds;
  webhooks    signed webhooks (bench/checkout.py's events and signature) posted one after another in
              this process, with rollup maintenance (analytics tasks enqueued, the worker applying them
              on the same 2 cores) and without it (the analytics tasks dropped at enqueue, no worker):
              webhooks/s, and with / without.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import bench_module, django_setup, p, redis_server, report, timed

ROOT = Path(__file__).resolve().parent.parent
LINES_PER_STORE_DAY = 550
RANGE_DAYS = 90
# Requests profiled together with --profile.
PROFILED = 10


def _say(what: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def _setup() -> None:
    """A fresh, migrated scratch database of its own."""
    from config.database import url_with

    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is not set: run through `python -m config.database run -- ...`.")
    os.environ["DATABASE_URL"] = url_with(url, database="lingshou_bench_analytics")
    django_setup("config.settings.test")
    from django.test.utils import setup_databases

    setup_databases(verbosity=0, interactive=False, keepdb=False)


@contextmanager
def _broker(*, redis: bool) -> Iterator[None]:
    """With ``redis``: a private redis-server on a free port as the Celery broker (set before Django reads it)."""
    if not redis:
        yield
        return
    with redis_server() as (_, port):
        os.environ["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{port}/0"
        yield


def _checkout_bench() -> Any:
    """bench/checkout.py as a module (its name would shadow the checkout app's)."""
    return bench_module("checkout")


def _history(args: argparse.Namespace) -> tuple[Any, dict[str, Any], list[dict[str, object]]]:
    import _analytics_data as data
    from django.db import connection

    started = time.perf_counter()
    world = data.world_make(stores=args.stores)
    today = dt.datetime.now(tz=ZoneInfo(data.ZONE)).date()
    first = today - dt.timedelta(days=args.days - 1)
    per_day = round(LINES_PER_STORE_DAY / 2.5)
    orders = lines = 0
    per_store: dict[int, int] = {}
    for merchant_id, stores in world.merchants.items():
        for store_id in stores:
            made = data.history_make(
                merchant_id=merchant_id, store_id=store_id, first=first, last=today, per_day=per_day
            )
            orders += made[0]
            lines += made[1]
            per_store[store_id] = made[1]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE checkout_order; ANALYZE checkout_orderline; ANALYZE checkout_refund")
    seconds = time.perf_counter() - started
    facts = {"orders": orders, "lines": lines, "per_store": per_store, "seconds": seconds, "first": first}
    row = {
        "figure": f"history: {args.stores} stores x {args.days} days",
        "value": f"{lines:,} lines, {orders:,} orders in {seconds:.1f} s",
        "rate": f"{lines / seconds:,.0f} lines/s",
        "x_baseline": "1.00 (baseline)",
    }
    return world, facts, [row]


def _rebuild(world: Any, history: dict[str, Any]) -> list[dict[str, object]]:
    from django.core.management import call_command

    write_rate = history["lines"] / history["seconds"]
    rows = []
    store_id = world.merchants[world.chain_id][0]
    for label, options, lines in (
        ("rebuild: one store", {"store": store_id}, history["per_store"][store_id]),
        ("rebuild: every store", {}, history["lines"]),
    ):
        out = io.StringIO()
        started = time.perf_counter()
        call_command("analytics_rebuild", stdout=out, **options)
        seconds = time.perf_counter() - started
        summary = out.getvalue().strip().splitlines()[-1]
        facts = int(summary.split(": ")[1].split(" facts")[0])
        rows.append(
            {
                "figure": label,
                "value": f"{seconds:.2f} s ({lines:,} lines, {facts:,} facts)",
                "rate": f"{lines / seconds:,.0f} lines/s, {facts / seconds:,.0f} facts/s",
                "x_baseline": f"{(lines / seconds) / write_rate:.2f} of writing",
            }
        )
    # The rebuild rewrote every rollup row: let PostgreSQL settle as a live database has (dead rows
    # vacuumed, statistics fresh), or autovacuum runs during the page timings below.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM (ANALYZE) analytics_saleshour, analytics_productday, analytics_categoryday, analytics_appliedfact"
        )
    # And the gigabytes the history and the rebuild dirtied are written out now, not by the checkpointer
    # while the pages are timed (it needs the server's admin role, which `config.database run` provides).
    admin_url = os.environ.get("DATABASE_ADMIN_URL")
    if admin_url:
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute("CHECKPOINT")
    return rows


@contextmanager
def _owner_client(world: Any) -> Iterator[Any]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(pk=world.owner_id))
    yield client


def _where_time_goes(get: Callable[[], None], *, label: str, profile: bool) -> tuple[float, int]:
    """One more request: its statements and their time; with ``profile``, cProfile's top functions on stderr."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()  # a full log (9,000 entries) would capture nothing
    with CaptureQueriesContext(connection) as captured:
        get()
    # Read now: every request of the client empties the connection's query log (request_started).
    queries = captured.captured_queries
    sql_ms = sum(float(query["time"]) for query in queries) * 1000
    if profile:
        profiler = cProfile.Profile()
        for _ in range(PROFILED):  # one request's profile is mostly noise
            profiler.runcall(get)
        out = io.StringIO()
        out.write(f"{PROFILED} requests\n")
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        _say(f"profile of {label}:\n{out.getvalue()}")
        slowest = sorted(queries, key=lambda query: -float(query["time"]))[:3]
        for query in slowest:
            _say(f"{float(query['time']) * 1000:.1f} ms: {query['sql'][:400]}")
    return sql_ms, len(queries)


def _pages(world: Any, repeat: int, raw_repeat: int, profile: bool) -> list[dict[str, object]]:
    import _analytics_data as data
    from django.urls import reverse
    from django.utils import timezone

    from analytics.selectors.sales import sales_summary
    from merchants.models import Merchant, Store
    from merchants.tenancy import merchant_context

    merchant = Merchant.objects.get(pk=world.chain_id)
    chain = world.merchants[world.chain_id]
    with merchant_context(merchant.pk):
        stores = {s.pk: s for s in Store.objects.filter(pk__in=chain)}
    zone = ZoneInfo(data.ZONE)
    now = timezone.now().astimezone(zone)
    today, hour = now.date(), now.hour
    yesterday = today - dt.timedelta(days=1)
    first = yesterday - dt.timedelta(days=RANGE_DAYS - 1)
    before = (first - dt.timedelta(days=RANGE_DAYS), first - dt.timedelta(days=1))
    week_ago = today - dt.timedelta(days=7)
    params = {"period": "custom", "start": first.isoformat(), "end": yesterday.isoformat(), "compare": "previous"}
    rows: list[dict[str, object]] = []
    with _owner_client(world) as client:
        for scope_name, ids in (("1 store", chain[:1]), (f"{len(chain)} stores", chain)):
            chosen = [stores[pk] for pk in ids]
            # The rollups must say what the raw tables say, or the timing means nothing.
            rolled = sales_summary(merchant=merchant, stores=chosen, first=first, last=yesterday)
            raw = data.raw_summary(merchant_id=merchant.pk, stores=ids, first=first, last=yesterday)
            mismatched = {k: (getattr(rolled, k), v) for k, v in raw.items() if getattr(rolled, k) != v}
            if mismatched:
                raise RuntimeError(f"rollups differ from the raw tables for {scope_name}: {mismatched}")
            query = {**params, "store": ids} if len(ids) == 1 else params

            def raw_overview(ids: list[int] = ids) -> None:
                data.raw_summary(merchant_id=merchant.pk, stores=ids, first=today, last=today)
                data.raw_summary(merchant_id=merchant.pk, stores=ids, first=week_ago, last=week_ago, last_hour=hour)
                data.raw_summary(merchant_id=merchant.pk, stores=ids, first=first, last=yesterday)
                data.raw_summary(merchant_id=merchant.pk, stores=ids, first=before[0], last=before[1])

            def raw_sales(ids: list[int] = ids) -> None:
                data.raw_sales_page(merchant_id=merchant.pk, stores=ids, first=first, last=yesterday)

            for page, raw_fn in (("overview", raw_overview), ("sales", raw_sales)):
                url = reverse(f"analytics:{page}", kwargs={"slug": merchant.slug})

                def get(url: str = url, query: dict[str, Any] = query) -> None:
                    answer = client.get(url, query)
                    if answer.status_code != 200:
                        raise RuntimeError(f"{url}: {answer.status_code}")

                get()  # warm: templates, connections
                served = timed(get, repeat=repeat)
                sql_ms, statements = _where_time_goes(get, label=f"{page}, {scope_name}", profile=profile)
                raw_fn()
                raws = timed(raw_fn, repeat=raw_repeat)
                target = 50 if len(ids) == 1 else 150
                rows.append(
                    {
                        "figure": f"{page}: {scope_name}, {RANGE_DAYS} days",
                        "value": f"page p50 {p(served, 50):.1f} ms, p95 {p(served, 95):.1f} ms (target < {target})",
                        "rate": f"raw p50 {p(raws, 50):.0f} ms, p95 {p(raws, 95):.0f} ms",
                        "x_baseline": f"x_raw {p(raws, 95) / p(served, 95):.1f} (target >= 20)",
                        "sql": f"{statements} statements, {sql_ms:.1f} ms in SQL",
                    }
                )
    return rows


def _worker_phases(args: argparse.Namespace) -> list[dict[str, object]]:
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone

    from analytics.selectors.sales import sales_summary
    from config.celery import app
    from merchants.models import Merchant, Store
    from tests.worker import celery_worker, queue_purge

    bench = _checkout_bench()
    shop = bench._data()
    merchant = Merchant.objects.get(pk=shop.merchant_id)
    from merchants.tenancy import merchant_context

    with merchant_context(merchant.pk):
        store = Store.objects.get(pk=shop.store_id)
    client = Client(HTTP_HOST="127.0.0.1")
    run = int(time.time())

    def post(order: tuple[int, str, int], tag: str) -> None:
        payload = bench._event(shop, order[0], order[1], order[2], f"evt_bench_analytics_{tag}_{run}_{order[0]}")
        answer = client.post(
            "/webhooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=bench._sign(payload)
        )
        if answer.status_code != 200:
            raise RuntimeError(f"webhook: {answer.status_code} {answer.content[:300]!r}")

    def transactions() -> int:
        today = timezone.localdate(timezone=ZoneInfo(store.timezone))
        return sales_summary(merchant=merchant, stores=[store], first=today, last=today).transactions

    def throughput(count: int, tag: str) -> float:
        orders = bench._pending_orders(shop, count)
        started = time.perf_counter()
        for order in orders:
            post(order, tag)
        return count / (time.perf_counter() - started)

    rows: list[dict[str, object]] = []
    secrets = {"STRIPE_WEBHOOK_SECRET": bench.WEBHOOK_SECRET, "STRIPE_CONNECT_WEBHOOK_SECRET": ""}  # nosec B105 # empty: the bench runs without a Connect endpoint
    queue_purge("analytics,celery")
    with override_settings(**secrets), celery_worker(queues="analytics", purge=False):
        # Lag: one webhook at a time, the Overview's figure polled every 10 ms.
        lags = []
        post(bench._pending_orders(shop, 1)[0], "warm")
        deadline = time.monotonic() + 60
        while transactions() < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        for order in bench._pending_orders(shop, args.lag_samples):
            seen = transactions()
            started = time.perf_counter()
            post(order, "lag")
            while transactions() <= seen:
                if time.perf_counter() - started > 30:
                    raise RuntimeError("the worker did not apply the paid order within 30 s")
                time.sleep(0.01)
            lags.append(time.perf_counter() - started)
        rows.append(
            {
                "figure": f"lag: webhook -> Overview figure ({len(lags)} orders)",
                "value": f"p50 {statistics.median(lags):.2f} s, p95 {p(lags, 95):.2f} s (target < 2)",
                "rate": f"broker: {settings.CELERY_BROKER_URL.split(':')[0]}",
                "x_baseline": "",
            }
        )
        with_rates = [throughput(args.webhooks, f"with{i}") for i in range(2)]
        # The worker's backlog: how long until the rollups hold every paid order.
        started, applied = time.perf_counter(), transactions()
        expected = 1 + args.lag_samples + 2 * args.webhooks
        while applied < expected and time.perf_counter() - started < args.drain_timeout:
            time.sleep(0.2)
            applied = transactions()
        drained = time.perf_counter() - started
        rows.append(
            {
                "figure": "backlog after the webhooks with rollups",
                "value": f"{applied} of {expected} paid orders in the rollups {drained:.1f} s after the last webhook",
                "rate": "",
                "x_baseline": "",
            }
        )
    with override_settings(**secrets):
        # The same tasks enqueued with no worker running: the webhook's own share of rollup maintenance.
        enqueue_rates = [throughput(args.webhooks, f"enqueued{i}") for i in range(2)]
    queue_purge("analytics,celery")
    original = app.send_task

    def dropping(name: str, *a: Any, **kw: Any) -> Any:
        return None if name.startswith("analytics.") else original(name, *a, **kw)

    with override_settings(**secrets):
        app.send_task = dropping  # type: ignore[method-assign]
        try:
            without_rates = [throughput(args.webhooks, f"without{i}") for i in range(2)]
        finally:
            app.send_task = original  # type: ignore[method-assign]
    with_rate, without_rate = statistics.mean(with_rates), statistics.mean(without_rates)
    rows.append(
        {
            "figure": f"webhooks: {2 * args.webhooks} serial, without rollups",
            "value": f"{without_rate:.1f} webhooks/s",
            "rate": ", ".join(f"{r:.1f}" for r in without_rates),
            "x_baseline": "1.00 (baseline)",
        }
    )
    enqueue_rate = statistics.mean(enqueue_rates)
    rows.append(
        {
            "figure": f"webhooks: {2 * args.webhooks} serial, analytics tasks enqueued, no worker",
            "value": f"{enqueue_rate:.1f} webhooks/s",
            "rate": ", ".join(f"{r:.1f}" for r in enqueue_rates),
            "x_baseline": f"{enqueue_rate / without_rate:.2f} of without",
        }
    )
    rows.append(
        {
            "figure": f"webhooks: {2 * args.webhooks} serial, with rollups + worker",
            "value": f"{with_rate:.1f} webhooks/s",
            "rate": ", ".join(f"{r:.1f}" for r in with_rates),
            "x_baseline": f"{with_rate / without_rate:.2f} of without (target >= 0.85)",
        }
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=40, help="page requests per figure")
    parser.add_argument("--raw-repeat", type=int, default=5, help="raw-table computations per figure")
    parser.add_argument("--lag-samples", type=int, default=40)
    parser.add_argument("--webhooks", type=int, default=150, help="webhooks per throughput round (two rounds each)")
    parser.add_argument("--drain-timeout", type=float, default=120, help="seconds to wait for the worker's backlog")
    parser.add_argument("--redis", action="store_true", help="a private redis-server as the broker (production's)")
    parser.add_argument("--profile", action="store_true", help="cProfile and the slowest SQL of each page, on stderr")
    parser.add_argument("--worker-only", action="store_true", help="only the lag and webhook phases")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.days < 2 * RANGE_DAYS + 1:
        sys.exit(
            f"--days must be at least {2 * RANGE_DAYS + 1}: the pages compare {RANGE_DAYS} days with the ones before"
        )
    with _broker(redis=args.redis):
        _say("scratch database")
        _setup()
        rows: list[dict[str, object]] = []
        if not args.worker_only:
            _say("history")
            world, history, rows = _history(args)
            _say(str(rows[-1]))
            rows += _rebuild(world, history)
            _say(str(rows[-2:]))
            rows += _pages(world, args.repeat, args.raw_repeat, args.profile)
            _say(str(rows[-4:]))
        rows += _worker_phases(args)
    report(f"analytics ({args.stores} stores x {args.days} days)", rows, as_json=args.json)


if __name__ == "__main__":
    main()
