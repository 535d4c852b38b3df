"""Mixed load while the parts fail one after another: what fails, how, for how long, and what is lost.

    python -m config.database run -- .venv/bin/python bench/soak.py [--minutes 8] [--json]
        [--faults worker_child,worker,redis,pg_backends,pg_restart,disk_full,stripe] [--nodes 2]

Runs the real thing on this machine (loopback; with --nodes 2, veths to network namespaces):
gunicorn with the production settings (bench/checkout.py's Servers, with localstripe), a private
redis-server as the Celery broker and the cache, every Celery process of the Procfile (each worker
queue, and beat) against the scratch database test_lingshou_soak, and the frame storage (MEDIA_ROOT)
on a 256 MB tmpfs the harness mounts (it runs as root). Together, the whole time:

  shoppers        scan and add two products, check out, pay with 4242 (localstripe, whose signed
                  webhook marks the order paid), pausing between purchases;
  counter         a clerk signed in at the till: scan one or two products, take cash;
  cameras         20 calibrated cameras posting frames with their device tokens (the frames API);
  webhooks        signed payment_intent.succeeded events for orders written pending, every tenth
                  delivered twice; a failed delivery is sent again, as Stripe does;
  dashboards      the owner signed in, reading the Overview and the Sales page.

After a warm-up and a baseline, one fault after another with quiet gaps between: a worker's prefork
child SIGKILLed; a whole worker SIGKILLed and restarted 5 s later; Redis SIGSTOPped for 10 s; the app
role's PostgreSQL backends terminated; PostgreSQL restarted (same port); the frame storage filled
for 15 s; localstripe SIGSTOPped for 30 s. For each fault: the requests started from the fault's
start to the end of its recovery that failed, and how: fast (a 4xx/5xx or refused connection within
5 s), hung (an answer, even a success, after more than 5 s) or timed out (none in 30 s); and the time
to recover: from the fault's end to the start of the first window of ``--slice`` seconds (slid by one
second) whose error rate and p95 are back to the baseline's (errors at most twice the baseline's and
at least 1 %, p95 within 1.5x + 50 ms). After the load, the harness waits for the workers to drain
(beat's sweeps included) and checks the invariants: paid orders = orders booked in the ledger, units
equal; frames accepted = frames processed, once; webhook events sent = recorded = applied once;
every paid order in the rollups; nothing left in the broker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _soak_checks as checks
import _soak_faults as faults
import _soak_load as load
from _common import bench_module, redis_server, report

DATABASE = "lingshou_soak"
_SALES = {"purchase", "counter_pay", "webhook"}
# The broker's visibility timeout in the run (production's is 300 s): the drain outlasts it and a sweep.
VISIBILITY_S = 30
FAULTS = ["worker_child", "worker", "redis", "pg_backends", "pg_restart", "disk_full", "stripe"]


def _say(what: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} soak: {what}", file=sys.stderr, flush=True)


def servers_class(bench: Any) -> Any:
    """bench/checkout.py's Servers with more environment: the broker, the cache, the frame storage."""

    class SoakServers(bench.Servers):  # type: ignore[misc,name-defined]
        extra: dict[str, str] = {}  # set once per run, before the servers start
        boot_timeout = 240.0  # the machine is shared: under others' load, gunicorn took over a minute to boot
        settings_module = "config.settings.production"  # production's own URL conf: no floor endpoints here
        pg_options = ""

        def env(self) -> dict[str, str]:
            return {**super().env(), **self.extra}

        def __exit__(self, *_: object) -> None:
            self.stop()  # the logs are kept: the evidence of what failed
            _say(f"server and worker logs in {self.logs}")

    return SoakServers


def run_env(redis_url: str, media: Path) -> dict[str, str]:
    """What gunicorn and the workers get on top of bench/checkout.py's production environment."""
    return {
        "CELERY_BROKER_URL": f"{redis_url}/0",
        "REDIS_URL": f"{redis_url}/1",
        "MEDIA_ROOT": str(media),
        # A killed worker's task is back within the run, so the drain can wait for it: "nothing left unacknowledged"
        # is then a check like the others. Hard limits stay below it (a run's tasks take seconds); the longest
        # retry waits (sensing's 128 s) do not, so a task retried then can be delivered twice: all are idempotent.
        "CELERY_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_S),
        "CELERY_TASK_TIME_LIMIT": str(VISIBILITY_S - 5),
        # 20 cameras and the webhooks come from one address: the API's per-client limits are not measured here.
        "API_THROTTLE_ANON": "100000/min",
        "API_THROTTLE_USER": "100000/min",
    }


@contextlib.contextmanager
def _signals() -> Iterator[None]:
    # Ctrl-C (even in the background, where the shell ignores it) and SIGTERM end the run with an
    # exception, so everything started is stopped on the way out.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    yield


def schedule(
    minutes: float, plan: list[faults.Fault], slice_s: float, warm: float = 30.0
) -> tuple[float, float, float]:
    """(warm-up, baseline, gap after each fault) in seconds, filling ``minutes``. The warm-up keeps gunicorn's
    first requests (imports, templates, connections) out of the baseline."""
    total = minutes * 60
    baseline = max(15.0, min(60.0, 0.12 * total))
    busy = sum(length for _, length, _ in plan)
    gap = max(slice_s + 5, (total - warm - baseline - busy) / max(len(plan), 1))
    return warm, baseline, gap


async def soak(
    args: argparse.Namespace,
    bench: Any,
    bases: list[str],
    world: dict[str, Any],
    plan: list[faults.Fault],
    servers: Any,
) -> dict[str, Any]:
    """The load, the faults in turn, and each fault's figures from the samples."""
    t0 = time.perf_counter()
    log = load.Log(t0, args.hung)
    tally, outcomes = world["tally"], world["outcomes"]
    shop, think = world["shop"], args.think
    owner = (checks.OWNER, checks.PASSWORD)
    # Each till has its own clerk: a clerk's sale in progress is one per shift, whichever till they use.
    clerks = [
        (
            1,
            load.paced(
                load.counter_sales(shop, world["slug"], world["shift"], tally, (clerk, checks.PASSWORD)), think, 2 + n
            ),
        )
        for n, clerk in enumerate(world["clerks"][: args.clerks])
    ]
    actors = [
        (args.shoppers, load.paced(bench._purchase(shop, outcomes), think, 1)),
        *clerks,
        (args.readers, load.paced(load.dashboard_reader(world["slug"], owner), 2 * think, 3)),
        (len(world["cameras"]), load.camera(world["cameras"], world["frames"], tally, args.fps)),
        (1, load.webhooks(bench, shop, tally, rate=args.webhook_rate)),
    ]  # fmt: skip
    stop = asyncio.Event()
    runner = asyncio.create_task(load.run_actors(bench, bases, log, actors, timeout=args.timeout, stop=stop))
    warm, baseline_s, gap = schedule(args.minutes, plan, args.slice, args.warm)
    _say(f"warm-up {warm:g} s, baseline {baseline_s:g} s, then {len(plan)} faults {gap:.0f} s apart")
    await asyncio.sleep(warm)
    ticks = bench._process_ticks(servers)
    await asyncio.sleep(baseline_s)
    cpu = bench._cpu_split(ticks, bench._process_ticks(servers))
    base = load.window(log.samples, warm, warm + baseline_s)
    done = []
    for name, _, fault in plan:
        start = time.perf_counter() - t0
        _say(f"fault {name}")
        note = await asyncio.to_thread(fault)
        end = time.perf_counter() - t0
        _say(f"fault {name} over: {note}")
        done.append((name, start, end, note))
        await asyncio.sleep(gap)
    stop.set()
    await runner
    ended = time.perf_counter() - t0
    rows = []
    for i, (name, start, end, note) in enumerate(done):
        until = done[i + 1][1] if i + 1 < len(done) else ended
        back = load.recovery(log.samples, base, end, args.slice, until)
        rows.append(
            {
                "fault": name,
                "at_s": round(start, 1),
                "length_s": round(end - start, 1),
                "recovery_s": back if back is not None else f"not within {until - end:.0f} s",
                # Up to the end of the recovery (and its window), never into the next fault.
                **load.failures(
                    log.samples, start, min(until, end + (back if back is not None else until - end) + args.slice)
                ),
                "note": note,
            }
        )
    hz = os.sysconf("SC_CLK_TCK")
    # What the database's backends cost per paid order (shopper, counter and webhook), the figure
    # docs/scaling.md sizes a primary with.
    sold = sum(1 for s in log.samples if warm <= s.started < warm + baseline_s and s.kind in _SALES and not s.failed)
    return {
        "baseline": {
            "seconds": baseline_s, "requests": base.requests, "error_rate": round(base.error_rate, 4),
            "p95_ms": round(base.p95_ms, 1), "requests_per_s": round(base.requests / baseline_s, 1),
            "paid_orders_per_s": round(sold / baseline_s, 2),
            "frames_per_s": round(sum(1 for s in log.samples if warm <= s.started < warm + baseline_s and s.kind == "frame") / baseline_s, 1),
            "cpu_cores_busy": {role: round(ticks / hz / baseline_s, 2) for role, ticks in cpu.items()},
        },
        "faults": rows,
        "requests": dict(Counter(s.kind for s in log.samples)),
        "requests_ok": dict(Counter(s.kind for s in log.samples if s.how in {"ok", "slow"})),
        "failed_examples": log.examples,
        "slices": _slices(log.samples, args.slice, ended),
    }  # fmt: skip


def _slices(samples: list[load.Sample], slice_s: float, ended: float) -> list[list[float]]:
    """[start s, requests, error rate, p95 ms] per slice: the run at a glance."""
    found = []
    t = 0.0
    while t < ended:
        w = load.window(samples, t, t + slice_s)
        found.append([round(t), w.requests, round(w.error_rate, 3), round(w.p95_ms)])
        t += slice_s
    return found


def prepare(bench: Any) -> dict[str, Any]:
    """The scratch database, the shop, its people and till; in this process."""
    database_url = bench._setup(DATABASE)
    checks.counter_clear(bench.SLUG)
    shop = bench._data()
    bench._restock(shop)
    slug, shift, clerks = checks.people(shop)
    return {
        "database_url": database_url, "shop": shop, "slug": slug, "shift": shift, "clerks": clerks,
        "after_id": checks.last_order_id(),
        "tally": load.Tally(), "outcomes": Counter(),
    }  # fmt: skip


def cameras_add(args: argparse.Namespace, world: dict[str, Any], scratch: Path, media: Path) -> None:
    """The cameras, calibrated with their references in the run's frame storage (mounted by now)."""
    from django.conf import settings

    settings.MEDIA_ROOT = str(media)
    world["camera_merchant"], world["cameras"], world["frames"] = checks.cameras(args.cameras, args.fps, scratch)


def single_node(args: argparse.Namespace, bench: Any, world: dict[str, Any], scratch: Path) -> dict[str, Any]:
    """One web node and the Procfile's workers on loopback, the load and the faults."""
    media = scratch / "media"
    with redis_server() as (redis, port), faults.Tmpfs(media):
        cameras_add(args, world, scratch, media)
        redis_url = f"redis://127.0.0.1:{port}"
        servers_type = servers_class(bench)
        servers_type.extra = run_env(redis_url, media)
        with (
            servers_type(database_url=world["database_url"], workers=2, threads=4) as servers,
            faults.Workers(servers.env(), servers.logs) as workers,
        ):
            workers.wait_ready()
            plan = faults.faults_plan(
                args.faults, workers=workers, servers=servers, redis=redis, media=media,
                database=world["database_url"].rsplit("/", 1)[-1],
            )  # fmt: skip
            result = asyncio.run(soak(args, bench, [servers.base_url], world, plan, servers))
            _say("load over; draining")
            drained, left = checks.drain(
                world["shop"], world["after_id"], world["camera_merchant"], f"{redis_url}/0", args.drain
            )
            result["drain_s"] = round(drained, 1)
            result["invariants"] = checks.invariants(
                world["shop"], world["after_id"], world["camera_merchant"], world["tally"], world["outcomes"],
                bench, left, servers.logs,
            )  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=8, help="length of the load (default 8)")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, of {','.join(FAULTS)}")
    parser.add_argument("--shoppers", type=int, default=8)
    parser.add_argument("--clerks", type=int, default=2)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--cameras", type=int, default=20)
    parser.add_argument("--fps", type=float, default=0.25, help="frames a second per camera (default 0.25)")
    parser.add_argument("--webhook-rate", type=float, default=2, help="harness webhooks a second (default 2)")
    parser.add_argument("--think", type=float, default=1.5, help="mean pause of people between steps (s)")
    parser.add_argument("--warm", type=float, default=30, help="warm-up before the baseline (s, default 30)")
    parser.add_argument("--slice", type=float, default=10, help="window judged for recovery (s, default 10)")
    parser.add_argument("--hung", type=float, default=load.HUNG_S, help="an answer after this is hung (s)")
    parser.add_argument("--timeout", type=float, default=30, help="client timeout (s, default 30)")
    parser.add_argument("--drain", type=float, default=150, help="longest wait for the workers afterwards (s)")
    parser.add_argument("--nodes", type=int, default=1, choices=(1, 2), help="2: two web and two worker nodes")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.faults = [f for f in args.faults.split(",") if f]
    started = time.monotonic()
    bench = bench_module("checkout")
    with _signals(), tempfile.TemporaryDirectory(prefix="lingshou-soak-") as scratch:
        world = prepare(bench)
        _say("data ready")
        if args.nodes == 2:
            import _soak_nodes

            result = _soak_nodes.run(args, bench, world, Path(scratch))
        else:
            result = single_node(args, bench, world, Path(scratch))
    config = {k: v for k, v in vars(args).items() if k != "json"} | {
        "cpus": os.cpu_count(), "runtime_s": round(time.monotonic() - started, 1), "settings": "config.settings.production",
    }  # fmt: skip
    ok = all(row["ok"] for row in result["invariants"])
    if args.json:
        print(json.dumps({"bench": "soak", "config": config, "ok": ok, **result}))
        return
    print(f"baseline: {json.dumps(result['baseline'])}")
    report("Faults (requests started from the fault to the end of its recovery)", result["faults"], as_json=False)
    print()
    report(f"Invariants after a drain of {result['drain_s']} s", result["invariants"], as_json=False)
    for name, example in result["failed_examples"].items():
        print(f"  {name}: {example}")
    print(f"\n{json.dumps(config)}")


if __name__ == "__main__":
    main()
