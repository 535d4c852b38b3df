"""bench/soak.py's data and invariants, in the harness's own process (Django, test settings, the run's
scratch database): the people and the till, the cameras, the drain after the load, and the checks."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

PASSWORD = "soak-Passw0rd-not-secret"  # noqa: S105 # nosec B105 - a scratch database's bench users
OWNER = "soak-owner@example.com"
CLERKS = [f"soak-clerk{n}@example.com" for n in range(1, 9)]


def counter_clear(slug: str) -> None:
    """Earlier runs' cash payments, which keep their orders from the bench's clean-up (a protected key)."""
    from checkout.models import CounterPayment, OfflineSale
    from merchants.tenancy import platform_access

    with platform_access(reason="bench: soak clean-up", actor="bench"):
        OfflineSale.objects.filter(merchant__slug=slug).delete()
        CounterPayment.objects.filter(merchant__slug=slug).delete()


def last_order_id() -> int:
    """The last order id handed out (the run's orders are above it), even when those orders were deleted."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM checkout_order_id_seq")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def people(shop: Any) -> tuple[str, int, list[str]]:
    """The bench merchant's owner and clerks (with passwords, lock-outs cleared) and an open till.

    Returns the merchant's slug, the open shift's id and the clerks' user names.
    """
    from axes.models import AccessAttempt

    from checkout.models import Shift
    from checkout.services import shifts
    from merchants.models import Membership, Merchant, Role, Store
    from merchants.tenancy import merchant_context

    users = {}
    for username, role in ((OWNER, Role.OWNER), *((clerk, Role.CLERK) for clerk in CLERKS)):
        users[role] = user(username)
        with merchant_context(shop.merchant_id):
            Membership.objects.get_or_create(merchant_id=shop.merchant_id, user=users[role], defaults={"role": role})
    AccessAttempt.objects.all().delete()
    with merchant_context(shop.merchant_id):
        merchant = Merchant.objects.get(pk=shop.merchant_id)
        store = Store.objects.get(pk=shop.store_id)
        shift = Shift.objects.open().filter(merchant_id=shop.merchant_id, store=store).first()
    if shift is None:
        shift = shifts.shift_open(store=store, opened_by=users[Role.OWNER], opening_cash=0)
    return merchant.slug, shift.pk, CLERKS


def user(username: str) -> Any:
    """A user with the bench password (no merchant needed to be locked out)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    found, _ = get_user_model().objects.get_or_create(username=username, defaults={"email": username})
    # Hashed as production hashes (the bench's own process has the test settings' fast hasher).
    hasher = PBKDF2PasswordHasher()
    found.password = hasher.encode(PASSWORD, hasher.salt())
    found.save()
    return found


def cameras(count: int, fps: float, scratch: Path) -> tuple[int, list[tuple[int, str]], list[bytes]]:
    """``count`` calibrated cameras of a new merchant (bench/_sensing_latency.py's), with a minute of frames.

    Returns the merchant's id, (camera id, device token) per camera, and the frames' JPEG bytes.
    """
    import _sensing_latency

    from sensing.vision.simulate import simulate

    recording = scratch / "recording"
    simulate(recording, minutes=1, seed=4242, cameras=1, fps=fps)
    frames = [(recording / row["file"]).read_bytes() for row in json.loads((recording / "frames.json").read_text())]
    merchant, registered = _sensing_latency._cameras(count, recording)
    return merchant.pk, [(camera.pk, token) for camera, token in registered], frames


def broker_left(redis_url: str) -> dict[str, int]:
    """Messages still in the broker: every queue's list, and those delivered but not acknowledged."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    left: Counter[str] = Counter()
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        name = key.decode(errors="replace").split("\x06")[0]
        if kind == b"list":
            left[name] += int(client.llen(key))  # type: ignore[arg-type]
        elif name == "unacked" and kind == b"hash":
            left["unacked"] += int(client.hlen(key))  # type: ignore[arg-type]
    return {name: n for name, n in left.items() if n}


def _frames(camera_merchant: int) -> dict[str, int]:
    from django.db.models import Count, Sum

    from merchants.tenancy import merchant_context
    from sensing.models import CameraCursor, Frame

    with merchant_context(camera_merchant):
        by_status = dict(
            Frame.objects.filter(merchant_id=camera_merchant).values_list("status").annotate(n=Count("pk"))
        )
        cursors = CameraCursor.objects.filter(merchant_id=camera_merchant).aggregate(n=Sum("processed_frames"))
    return {**{f"frames_{k}": v for k, v in by_status.items()}, "cursor_processed": cursors["n"] or 0}


def _orders(shop: Any, after_id: int, events: set[str]) -> dict[str, Any]:
    from analytics.models import AppliedFact
    from catalog.models import MovementKind, StockMovement
    from checkout.models import Order, OrderStatus, WebhookEvent
    from merchants.tenancy import merchant_context, platform_access

    with merchant_context(shop.merchant_id):
        orders = Order.objects.filter(merchant_id=shop.merchant_id, pk__gt=after_id)
        # The harness's own webhook orders are written pending with intents named pi_bench_*.
        by = Counter(
            f"{'webhook' if (intent or '').startswith('pi_bench_') else channel}:{status}"
            for channel, status, intent in orders.values_list("channel", "status", "payment_intent")
        )
        paid_ids = set(orders.filter(status=OrderStatus.PAID).values_list("pk", flat=True))
        refs = set(
            StockMovement.objects.filter(
                merchant_id=shop.merchant_id, kind=MovementKind.SALE, reference__startswith="checkout.order:"
            )
            .values_list("reference", flat=True)
            .distinct()
        )
        booked = {int(r.split(":")[1]) for r in refs if int(r.split(":")[1]) > after_id}
        facts = set(
            AppliedFact.objects.filter(merchant_id=shop.merchant_id, kind="order", key__gt=after_id).values_list(
                "key", flat=True
            )
        )
    with platform_access(reason="bench: soak webhooks", actor="bench"):
        recorded = set(WebhookEvent.objects.filter(event_id__in=events).values_list("event_id", flat=True))
    return {
        "by": dict(by), "paid": paid_ids, "booked": booked, "facts": facts, "events_recorded": recorded,
    }  # fmt: skip


def drain(
    shop: Any, after_id: int, camera_merchant: int, redis_url: str, timeout: float
) -> tuple[float, dict[str, int]]:
    """Wait (at most ``timeout`` s) until the broker is empty, no frame waits and every paid order is in
    the rollups (beat's sweeps included: a lost enqueue is healed within their period), and nothing is left
    unacknowledged (a killed worker's task, back after the run's visibility timeout)."""
    from django.db import connections

    started = time.monotonic()
    while True:
        connections.close_all()  # a fault may have closed them under us
        left = broker_left(redis_url)
        frames = _frames(camera_merchant)
        orders = _orders(shop, after_id, set())
        waiting = frames.get("frames_received", 0)
        if (not left and not waiting and orders["paid"] <= orders["facts"]) or time.monotonic() - started > timeout:
            return time.monotonic() - started, left
        time.sleep(2)


def invariants(shop: Any, after_id: int, camera_merchant: int, tally: Any, outcomes: Counter[str], bench: Any,
               left: dict[str, int], logs: Path) -> list[dict[str, Any]]:  # fmt: skip
    """Each invariant: what the clients were told against what the database holds."""
    frames = _frames(camera_merchant)
    orders = _orders(shop, after_id, tally.events_sent)
    ledger = bench._integrity(shop, after_id)
    paid, booked = orders["paid"], orders["booked"]
    by = orders["by"]
    processed = frames.get("frames_processed", 0)
    accepted = len(tally.frames_accepted)
    rows_total = sum(v for k, v in frames.items() if k.startswith("frames_"))
    twice = sorted(e for e, n in tally.events_applied.items() if n > 1)
    raised = _tasks_raised(logs)
    parked_by = _parked()
    parked = sum(parked_by.values())

    def row(check: str, result: object, expected: object, ok: bool, note: str = "") -> dict[str, Any]:
        return {"check": check, "result": result, "expected": expected, "ok": ok, "note": note}

    return [
        row("shopper orders placed (answered) / in the database", f"{outcomes['placed']}/{sum(n for k, n in by.items() if k.startswith('shopper:'))}",
            "placed <= rows", outcomes["placed"] <= sum(n for k, n in by.items() if k.startswith("shopper:")),
            f"by channel:status {by}"),
        row("shopper payments accepted / shopper orders paid (webhook or reconcile)",
            f"{outcomes['pay accepted']}/{by.get('shopper:paid', 0)}", "accepted <= paid",
            outcomes["pay accepted"] <= by.get("shopper:paid", 0)),
        row("counter sales paid (answered) / counter orders paid", f"{tally.counter_paid}/{by.get('counter:paid', 0)}",
            "equal", tally.counter_paid == by.get("counter:paid", 0)),
        row("paid orders = orders booked in the ledger (sale movements)", f"{len(paid)}={len(booked)}", "equal",
            paid == booked, f"paid not booked {sorted(paid - booked)[:10]}, booked not paid {sorted(booked - paid)[:10]}"),
        row("units on paid orders = units the ledger sold", f"{ledger['units_paid']}={ledger['units_ledger']}", "equal",
            ledger["units_paid"] == ledger["units_ledger"], f"oversold orders {ledger['oversold']}"),
        row("webhook events sent / recorded once / answered applied once",
            f"{len(tally.events_sent)}/{len(orders['events_recorded'])}/{sum(1 for n in tally.events_applied.values() if n == 1)}",
            "all equal", len(tally.events_sent) == len(orders["events_recorded"]) and not twice
            and all(tally.events_applied.get(e, 0) == 1 for e in orders["events_recorded"]),
            f"applied twice: {twice[:5]}; their orders paid {by.get('webhook:paid', 0)}"),
        row("frames accepted (answered) / frame rows", f"{accepted}/{rows_total}", "equal", accepted == rows_total,
            f"statuses {frames}"),
        row("frames processed = cursor count (processed exactly once)", f"{processed}={frames['cursor_processed']}",
            "equal, none waiting", processed == frames["cursor_processed"] and not frames.get("frames_received"),
            f"still waiting {frames.get('frames_received', 0)}, flagged {frames.get('frames_flagged', 0)}"),
        row("paid orders in the rollups (analytics facts)", f"{len(paid & orders['facts'])}/{len(paid)}", "all",
            paid <= orders["facts"]),
        row("tasks still queued after the drain", sum(n for q, n in left.items() if q != "unacked"), 0,
            not any(q != "unacked" for q in left), json.dumps(left)),
        row("tasks delivered but never acknowledged (Redis 'unacked') after the drain", left.get("unacked", 0), 0,
            not left.get("unacked"), "a killed worker's task is redelivered after the run's visibility timeout (30 s)"),
        row("tasks that raised (worker logs) / parked", f"{sum(raised.values())}/{parked}", "each retried or parked",
            True, f"{dict(raised)}; parked rows, by task: {parked_by}"),
    ]  # fmt: skip


def _parked() -> dict[str, int]:
    """Tasks parked (core.parking) and not run again or discarded, by task name."""
    from core.parking import parked_counts

    return parked_counts()


def _tasks_raised(logs: Path) -> Counter[str]:
    """Tasks that raised, by task name, from the Celery logs ("Task x[id] raised unexpected: ...")."""
    found: Counter[str] = Counter()
    for log in logs.glob("*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if "raised unexpected" in line and "Task " in line:
                found[line.split("Task ", 1)[1].split("[", 1)[0]] += 1
    return found
