"""bench/soak.py --nodes 2: two web nodes and two worker nodes, each in a network namespace of its own.

One bridge on the host (10.231.0.1/24) with a veth to each namespace: web1 (.2), web2 (.3), work1
(.4), work2 (.5). PostgreSQL (the embedded server, restarted to listen on the bridge as well), Redis
and localstripe listen on the host's side; the harness talks to the web nodes from the host, so both
see the same client address, as behind one load balancer. First the checks of state a process
could keep to itself, on fresh clients (with a throttle low enough to reach), then the soak's load
through both web nodes, and the figures: requests each node's access log served, and the invariants.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _soak_checks as checks
import _soak_faults as faults
import _soak_load as load
from _common import redis_server

HOST = "10.231.0.1"
BRIDGE = "lsoak0"
NODES = {"web1": "10.231.0.2", "web2": "10.231.0.3", "work1": "10.231.0.4", "work2": "10.231.0.5"}
PORT = 8000
LOCK_USER = "soak-lock@example.com"
CHECK_THROTTLE = "30/min"


def _ip(*args: str, netns: str = "") -> None:
    command = [shutil.which("ip") or "/usr/sbin/ip", *(["-n", netns] if netns else []), *args]
    subprocess.run(command, check=True, capture_output=True)


@contextlib.contextmanager
def network() -> Any:
    """The bridge, the namespaces and their veths; all removed on exit."""
    if shutil.which("ip") is None:
        sys.exit("--nodes 2 needs `ip` (iproute2).")
    with contextlib.suppress(subprocess.CalledProcessError):
        _ip("link", "del", BRIDGE)
    _ip("link", "add", BRIDGE, "type", "bridge")
    _ip("addr", "add", f"{HOST}/24", "dev", BRIDGE)
    _ip("link", "set", BRIDGE, "up")
    made = []
    try:
        for name, address in NODES.items():
            ns, host_end, node_end = f"lsoak-{name}", f"lsh-{name}", f"lsn-{name}"
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("netns", "del", ns)
            _ip("netns", "add", ns)
            made.append(ns)
            _ip("link", "add", host_end, "type", "veth", "peer", "name", node_end)
            _ip("link", "set", node_end, "netns", ns)
            _ip("link", "set", host_end, "master", BRIDGE)
            _ip("link", "set", host_end, "up")
            _ip("addr", "add", f"{address}/24", "dev", node_end, netns=ns)
            _ip("link", "set", node_end, "up", netns=ns)
            _ip("link", "set", "lo", "up", netns=ns)
        yield
    finally:
        for ns in made:
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("netns", "del", ns)  # takes its veth (and so the host's end) with it
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", BRIDGE)


@contextlib.contextmanager
def postgres_on_bridge() -> Any:
    """The embedded PostgreSQL restarted to listen on the bridge too (trust from the namespaces only,
    through an hba file of the run's); restarted as it was on exit."""
    from config.database import PGDATA, embedded_port, embedded_start, embedded_stop

    if embedded_port() is None:
        sys.exit("--nodes 2 needs the embedded PostgreSQL: run through `python -m config.database run --`.")
    hba = PGDATA / "soak_hba.conf"
    hba.write_text(
        "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"
        f"host all all {HOST.rsplit('.', 1)[0]}.0/24 trust\n"
    )
    hba.chmod(0o644)
    options = f"-c listen_addresses=127.0.0.1,{HOST} -c hba_file={hba}"
    embedded_stop()
    embedded_start(options=options)
    try:
        yield options
    finally:
        embedded_stop()
        embedded_start()
        hba.unlink(missing_ok=True)


def _gunicorn(name: str, env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    bin_dir = Path(sys.executable).parent
    command = [
        shutil.which("ip") or "/usr/sbin/ip", "netns", "exec", f"lsoak-{name}",
        str(bin_dir / "gunicorn"), "config.wsgi", "--bind", f"{NODES[name]}:{PORT}", "--worker-class", "gthread",
        "--workers", "2", "--threads", "4", "--timeout", "60", "--graceful-timeout", "5", "--access-logfile", "-",
    ]  # fmt: skip
    with (logs / f"gunicorn-{name}.log").open("ab") as log:
        return subprocess.Popen(
            command, cwd=faults.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


@contextlib.contextmanager
def web_nodes(env_for: Any, logs: Path, extra: dict[str, str]) -> Any:
    """gunicorn on web1 and web2 (each with its own environment plus ``extra``); stopped on exit."""
    import requests

    processes = [_gunicorn(name, {**env_for(name), **extra}, logs) for name in ("web1", "web2")]
    try:
        for name in ("web1", "web2"):
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"http://{NODES[name]}:{PORT}/healthz", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not come up: see {logs}")
                time.sleep(0.3)
        yield [f"http://{NODES[name]}:{PORT}" for name in ("web1", "web2")]
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def access_counts(logs: Path) -> dict[str, dict[str, int]]:
    """Requests each web node's access log holds: all, and the frames accepted (2xx)."""
    found = {}
    for name in ("web1", "web2"):
        lines = [
            line
            for line in (logs / f"gunicorn-{name}.log").read_text(errors="replace").splitlines()
            if '" ' in line and "HTTP/1" in line
        ]
        frames = [line for line in lines if "POST /api/v1/sensing/frames" in line and '" 20' in line]
        found[name] = {"requests": len(lines), "frames_2xx": len(frames)}
    return found


def _row(check: str, result: object, expected: object, ok: bool, note: str = "") -> dict[str, Any]:
    return {"check": check, "result": result, "expected": expected, "ok": ok, "note": note}


def _carry(source: Any, target: Any, base: str) -> None:
    """The browser's cookies of one node, sent to the other (one site behind one name in production)."""
    from yarl import URL

    for morsel in source.http.cookie_jar:
        target.http.cookie_jar.update_cookies({morsel.key: morsel.value}, URL(base))


async def state_checks(bench: Any, bases: list[str], world: dict[str, Any]) -> list[dict[str, Any]]:
    """Sessions, lock-outs, throttles and the store-code cache across web1 and web2."""
    a, b = bases
    log = load.Log(time.perf_counter())
    slug, rows = world["slug"], []
    first, second = bench.Client(a, log), bench.Client(b, log)
    try:
        signed = await load.sign_in(first, checks.OWNER, checks.PASSWORD)
        _carry(first, second, b)
        there = await second.call("overview", "GET", f"/m/{slug}/", expect=(200,))
        rows.append(_row("a session made on web1 works on web2", there is not None and there[0], 200,
                         signed and there is not None))  # fmt: skip
        # Throttle: the signed-in owner on the API, 20 calls on each node against a limit of 30 a minute.
        statuses = []
        for client in [first] * 20 + [second] * 20:
            answer = await client.call("api_me", "GET", "/api/v1/me/", expect=(200, 429))
            statuses.append(answer[0] if answer else 0)
        rows.append(_row(f"API throttle ({CHECK_THROTTLE}) counted across nodes: 200s / 429s of 20+20",
                         f"{statuses.count(200)}/{statuses.count(429)}", "30/10",
                         statuses.count(200) == 30 and statuses.count(429) == 10,
                         f"429s on web1 {statuses[:20].count(429)}, on web2 {statuses[20:].count(429)}"))  # fmt: skip
    finally:
        await first.close()
        await second.close()
    rows.append(await _lockout(bench, bases, log))
    rows.append(await _store_cache(bench, bases, world, log))
    return rows


async def _lockout(bench: Any, bases: list[str], log: Any) -> dict[str, Any]:
    """3 wrong passwords on web1, 2 on web2 (the limit is 5), then the right one on web1: refused."""
    clients = [bench.Client(base, log) for base in bases]
    try:
        answers = []
        for client in [clients[0]] * 3 + [clients[1]] * 2 + [clients[0]]:
            password = checks.PASSWORD if len(answers) == 5 else "wrong-password"
            await client.call("sign_in", "GET", "/accounts/login/")
            answer = await client.call(
                "sign_in", "POST", "/accounts/login/",
                data={"username": LOCK_USER, "password": password, "csrfmiddlewaretoken": client.csrf()},
                expect=(200, 302, 403, 429),
            )  # fmt: skip
            answers.append(answer[0] if answer else 0)
    finally:
        for client in clients:
            await client.close()
    return _row("lock-out: 3 failures on web1 + 2 on web2, then the right password on web1",
                answers[-1], "429 (locked)", answers[-1] == 429, f"answers {answers}")  # fmt: skip


async def _store_cache(bench: Any, bases: list[str], world: dict[str, Any], log: Any) -> dict[str, Any]:
    """The store closed: how long each node still serves its pages from the process's store-code cache."""
    from django.conf import settings

    code = bench.STORE_CODE
    clients = [bench.Client(base, log) for base in bases]
    try:
        for _ in range(8):  # every process of both nodes has the store in its cache
            for client in clients:
                await client.call("store_page", "GET", f"/s/{code}/")
        bound = float(getattr(settings, "SHOPPER_STORE_CACHE_SECONDS", 10) or 10)
        await asyncio.to_thread(_store_active, world["shop"], False)
        closed = time.monotonic()
        # Polled for longer than the cache's time: the last page still served from a cache, per node.
        stale = dict.fromkeys(bases, 0.0)
        while time.monotonic() - closed < bound + 5:
            for base, client in zip(bases, clients, strict=True):
                answer = await client.call("store_page", "GET", f"/s/{code}/", expect=(200, 404))
                if answer and answer[0] == 200:
                    stale[base] = round(time.monotonic() - closed, 1)
            await asyncio.sleep(0.2)
    finally:
        await asyncio.to_thread(_store_active, world["shop"], True)
        for client in clients:
            await client.close()
    worst = max(stale.values())
    return _row("store-code cache: a closed store's pages last served (from a cache) after closing",
                f"{worst} s", f"<= {bound:g} s + 1", worst <= bound + 1,
                f"per node {stale}; each process keeps its own copy for SHOPPER_STORE_CACHE_SECONDS")  # fmt: skip


def _store_active(shop: Any, active: bool) -> None:
    from merchants.models import Store
    from merchants.tenancy import merchant_context

    with merchant_context(shop.merchant_id):
        Store.objects.filter(pk=shop.store_id).update(is_active=active)


def run(args: Any, bench: Any, world: dict[str, Any], scratch: Path) -> dict[str, Any]:
    """The network, the servers on it, the state checks, then the soak through both web nodes."""
    import soak

    media = scratch / "media"
    checks.user(LOCK_USER)
    with (
        network(),
        postgres_on_bridge() as pg_options,
        redis_server(bind=("127.0.0.1", HOST)) as (redis, port),
        faults.Tmpfs(media),
    ):
        from django.db import connections

        connections.close_all()  # PostgreSQL was restarted under them
        soak.cameras_add(args, world, scratch, media)
        redis_url = f"redis://{HOST}:{port}"
        servers_type = soak.servers_class(bench)
        servers_type.extra = soak.run_env(redis_url, media)
        servers_type.pg_options = pg_options
        host_url = world["database_url"].replace("127.0.0.1", HOST)
        with servers_type(database_url=host_url, workers=2, threads=4, web=False) as servers:
            stripe = servers.stripe_url.replace("127.0.0.1", HOST)
            allowed = ",".join(["127.0.0.1", *NODES.values()])

            def env_for(_: str) -> dict[str, str]:
                return {**servers.env(), "STRIPE_API_BASE": stripe, "ALLOWED_HOSTS": allowed}

            servers.webhooks_to(f"http://{NODES['web1']}:{PORT}")
            throttled = {"API_THROTTLE_ANON": CHECK_THROTTLE, "API_THROTTLE_USER": CHECK_THROTTLE}
            with web_nodes(env_for, servers.logs, throttled) as bases:
                state = asyncio.run(state_checks(bench, bases, world))
            # The load: the workers of the Procfile on each worker node (beat once), through both web nodes.
            workers_env = env_for("work")
            with (
                web_nodes(env_for, servers.logs, {}) as bases,
                faults.Workers(workers_env, servers.logs, netns="lsoak-work1") as workers,
                faults.Workers(workers_env, servers.logs, netns="lsoak-work2", only={"worker", "sensing", "ordering", "analytics"}),
            ):  # fmt: skip
                workers.wait_ready()
                before = access_counts(servers.logs)
                plan = faults.faults_plan(
                    args.faults, workers=workers, servers=servers, redis=redis, media=media,
                    database=world["database_url"].rsplit("/", 1)[-1],
                )  # fmt: skip
                result = asyncio.run(soak.soak(args, bench, bases, world, plan, servers))
                drained, left = checks.drain(
                    world["shop"], world["after_id"], world["camera_merchant"], f"{redis_url}/0", args.drain
                )
                after = access_counts(servers.logs)
                result["drain_s"] = round(drained, 1)
                result["invariants"] = checks.invariants(
                    world["shop"], world["after_id"], world["camera_merchant"], world["tally"], world["outcomes"],
                    bench, left, servers.logs,
                ) + state  # fmt: skip
    served = {name: {k: after[name][k] - before[name][k] for k in after[name]} for name in after}
    frames_client = result["requests_ok"].get("frame", 0)
    frames_nodes = sum(node["frames_2xx"] for node in served.values())
    result["nodes"] = served
    result["invariants"].append(
        {"check": "frames answered 2xx to the cameras = frames the two nodes' access logs served 2xx",
         "result": f"{frames_client}={frames_nodes}", "expected": "equal", "ok": frames_client == frames_nodes,
         "note": " + ".join(f"{n} {v['frames_2xx']}" for n, v in served.items())}
    )  # fmt: skip
    return result
