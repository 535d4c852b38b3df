"""What row-level security costs: the same scoped reads with the policy and through the bypass.

    python -m config.database run -- .venv/bin/python bench/tenancy.py [--rows N] [--json]

Builds its own data in a scratch database, so it never touches the demo's. The baseline is the
same SQL on a copy of the table without row-level security, Django's nested atomic block without a
savepoint for a context nested in the same merchant's (neither sends a statement: the "statements"
column counts them), and a bare savepoint for a context that changes the merchant, measured in the
same run; figures are ratios to it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import django_setup, p, report, timed

LIST = "SELECT id, name FROM {table} WHERE merchant_id = %s ORDER BY id LIMIT 50"
COUNT = "SELECT count(*) FROM {table} WHERE merchant_id = %s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--merchants", type=int, default=200)
    parser.add_argument("--rows", type=int, default=200, help="devices per merchant")
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from config.database import url_with

    os.environ["DATABASE_URL"] = url_with(os.environ["DATABASE_URL"], database="lingshou_bench_tenancy")
    django_setup("config.settings.test")
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext, setup_databases

    setup_databases(verbosity=0, interactive=False, keepdb=True)

    from merchants.models import Device, Merchant, Store, Wholesaler
    from merchants.tenancy import merchant_context, platform_access

    with platform_access(reason="bench: build data", actor="bench"):
        if Merchant.objects.count() < args.merchants:
            Device.objects.all().delete()
            Store.objects.all().delete()
            Merchant.objects.all().delete()
            wholesaler, _ = Wholesaler.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
            merchants = Merchant.objects.bulk_create(
                Merchant(name=f"M{i}", slug=f"m{i}", wholesaler=wholesaler) for i in range(args.merchants)
            )
            stores = Store.objects.bulk_create(Store(merchant=m, name="S", code=f"B{m.pk:06d}") for m in merchants)
            Device.objects.bulk_create(
                Device(merchant_id=s.merchant_id, store=s, name=f"D{i}", prefix="x", token_hash=f"{s.pk}-{i}")
                for s in stores
                for i in range(args.rows)
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE merchants_device")
        with connection.cursor() as cursor:
            # The baseline: the same rows and index in a table without row-level security.
            cursor.execute("DROP TABLE IF EXISTS bench_device_plain")
            cursor.execute("CREATE TABLE bench_device_plain AS SELECT * FROM merchants_device")
            cursor.execute("CREATE INDEX ON bench_device_plain (merchant_id)")
            cursor.execute("ANALYZE bench_device_plain")
    merchant = Merchant.objects.order_by("pk")[args.merchants // 2]

    def query(table: str, sql: str) -> Callable[[], None]:
        # Run inside one merchant_context (entered below), so only the query itself is timed.
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql.format(table=table), [merchant.pk])
                cursor.fetchall()

        return run

    other = Merchant.objects.order_by("pk")[args.merchants // 2 + 1]

    def context_only() -> None:
        # Nested in the same merchant's context (entered below): the common case of a selector in a view.
        with merchant_context(merchant.pk):
            pass

    def no_op() -> None:
        # Django's own nested block that sends nothing: the floor of a context that costs no round trip.
        with transaction.atomic(savepoint=False):
            pass

    def other_context() -> None:
        with merchant_context(other.pk):
            pass

    def atomic_only() -> None:
        with transaction.atomic():
            pass

    cases = [
        (
            "list 50 (same SQL)",
            query("merchants_device", LIST),
            query("bench_device_plain", LIST),
        ),
        (
            "count (same SQL)",
            query("merchants_device", COUNT),
            query("bench_device_plain", COUNT),
        ),
        ("enter+leave same-merchant merchant_context vs atomic(savepoint=False)", context_only, no_op),
        ("enter+leave other-merchant merchant_context vs savepoint", other_context, atomic_only),
    ]
    rows = []
    scope = merchant_context(merchant.pk)
    scope.__enter__()
    for name, measured, baseline in cases:
        timed(measured, repeat=20)  # warm up
        timed(baseline, repeat=20)
        # Interleaved, so that drift on a shared machine hits both sides alike.
        a: list[float] = []
        b: list[float] = []
        for _ in range(args.repeat):
            a += timed(measured, repeat=1)
            b += timed(baseline, repeat=1)
        with CaptureQueriesContext(connection) as sent:
            measured()
        rows.append(
            {
                "case": name,
                "statements": len(sent.captured_queries),
                "measured_p50_ms": round(p(a, 50), 3),
                "baseline_p50_ms": round(p(b, 50), 3),
                "ratio_p50": round(p(a, 50) / p(b, 50), 2),
                "ratio_p95": round(p(a, 95) / p(b, 95), 2),
            }
        )
    scope.__exit__(None, None, None)
    total = args.merchants * args.rows
    report(
        f"Row-level security against the same table without it ({total} devices, {args.merchants} merchants)",
        rows,
        as_json=args.json,
    )


if __name__ == "__main__":
    main()
