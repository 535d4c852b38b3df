"""Run by test_pgbouncer.py in a process of its own, against PgBouncer in transaction mode with one server
connection: two clients (two threads, two Django connections) take turns on that one server connection, each
in its own merchant's context, and this prints what each saw as JSON.

    DATABASE_URL=<PgBouncer's URL> python tests/merchants/bouncer_probe.py <merchant id> <merchant id> <rounds>
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from merchants.models import Store  # noqa: E402
from merchants.tenancy import merchant_context  # noqa: E402


def _server() -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), COALESCE(current_setting('app.merchant_id', true), '')")
        pid, merchant = cursor.fetchone()
    return int(pid), str(merchant)


def _turn(merchant_id: int) -> dict[str, Any]:
    """One client's turn: first a transaction with no context, then one in its merchant's."""
    with transaction.atomic():
        bare_pid, bare_setting = _server()
        bare_stores = sorted(Store.objects.values_list("code", flat=True))
    with merchant_context(merchant_id):
        pid, setting = _server()
        stores = sorted(Store.objects.values_list("code", flat=True))
    return {
        "merchant": merchant_id,
        "pids": [bare_pid, pid],
        "bare_setting": bare_setting,
        "bare_stores": bare_stores,
        "setting": setting,
        "stores": stores,
    }


def main() -> None:
    first, second, rounds = (int(value) for value in sys.argv[1:4])
    turns: list[dict[str, Any]] = []

    def client(merchant_id: int, mine: threading.Event, theirs: threading.Event) -> None:
        for _ in range(rounds):
            mine.wait()
            mine.clear()
            turns.append(_turn(merchant_id))
            theirs.set()
        connection.close()

    go_first, go_second = threading.Event(), threading.Event()
    threads = [
        threading.Thread(target=client, args=(first, go_first, go_second)),
        threading.Thread(target=client, args=(second, go_second, go_first)),
    ]
    for thread in threads:
        thread.start()
    go_first.set()
    for thread in threads:
        thread.join(timeout=60)
    sys.stdout.write(json.dumps(turns) + "\n")


if __name__ == "__main__":
    main()
