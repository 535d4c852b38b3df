"""The shopper's path under load: scan, add to cart, check out, pay, and Stripe's webhook.

    python -m config.database run -- .venv/bin/python bench/checkout.py [--json] [--shoppers 50]

Runs the real thing on loopback: gunicorn (gthread) with the production settings against
PostgreSQL (the scratch database test_lingshou_bench, 500 products in one store), localstripe
for payments, and 50 concurrent HTTP clients (closed loop, no think time) that keep their own
cookies like a phone's browser. Phases:

  A  bare endpoint: GET /healthz (Django, middleware, JSON, no database): the baseline;
  B  scan + add: the product page and POST add-to-cart, then add-to-cart alone;
  B' the same with shoppers who pause between requests (2 s on average; real ones take longer),
     so latency is measured at a load the server can carry instead of at saturation;
  C  the whole path: scan and add two products, check out (order + PaymentIntent), pay with
     4242 (localstripe), then wait for localstripe's signed webhooks to mark the orders paid;
  D  webhooks: signed payment_intent.succeeded events for pending orders, posted concurrently,
     then one event replayed 100 times (it must pay its order exactly once).

  O  open loop: the product page and add-to-cart alone at fixed arrival rates, half and four fifths
     of the capacity each showed closed-loop (B), p50 and p99 from each request's scheduled time
     (bench/_open_loop.py); the latency a shop sees at a load it carries.

  F  the floor of B and D: the same load on minimal views that run only each path's necessary SQL
     under the same row-level security (bench/floor_views.py, mounted by bench/floor_urls.py, which
     only this bench's settings name: bench/floor_settings.py is production's but for the URL conf).

Throughput and latency are also given as ratios to phase A (x_tput, x_p50, x_p99), measured
in the same run against the same server; x_floor is a path's throughput as a ratio to its floor's
in the same run. Closed-loop latency is concurrency / throughput (Little's law), so p99 at 50
clients is mostly queueing. Two columns need no load: "queries",
the SQL statements one such request runs, and "alone_ms", its median time one at a time, both
measured in this process with the same views (test settings); x_alone is that time as a ratio
to /healthz's. The last column splits the machine's CPU during the phase between the app
server, the bench database's PostgreSQL backends, localstripe, this load generator, and
everything else; a large "other" share means the machine was not quiet and the run is noisy.

Production needs the hashed static files the pages name, so the run starts with
``manage.py collectstatic`` (into .data/staticfiles, as a deployment would).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import django_setup, p, report
from _open_loop import open_loop

ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = 500
STOCK_LEVEL = 5_000  # units of every product before each phase that sells
STORE_CODE = "BENCHCHK"
SLUG = "bench-checkout"
SECRET_KEY = "bench-checkout-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105  # nosec B105
STRIPE_SECRET_KEY = "sk_test_bench"  # noqa: S105  # nosec B105
WEBHOOK_SECRET = "whsec_bench"  # noqa: S105  # nosec B105
PAYING_CARD = "4242424242424242"
REPLAYS = 100
FLOOR = "/floor"  # the prefix of the floor endpoints (bench/floor_urls.py)


# --- the database and its data (in this process, test settings, the app's role) ---


def _setup(database: str = "lingshou_bench") -> str:
    """Migrated scratch database (test_<database>); returns its URL for the server."""
    from config.database import url_with

    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is not set: run through `python -m config.database run -- ...`.")
    os.environ["DATABASE_URL"] = url_with(url, database=database)
    django_setup("config.settings.test")
    from django.db import connection
    from django.test.utils import setup_databases

    setup_databases(verbosity=0, interactive=False, keepdb=True)
    return url_with(url, database=connection.settings_dict["NAME"])


@dataclass(frozen=True)
class Shop:
    merchant_id: int
    store_id: int
    items: list[tuple[int, str, int]]  # (store product id, GTIN, price)


def _data() -> Shop:
    """The bench merchant, its store and 500 products, created once; earlier runs' orders removed."""
    from django.contrib.sessions.models import Session
    from django.db import connection

    from catalog.models import Product, ProductLookup, StoreProduct
    from checkout.models import Order, Visit, WebhookEvent
    from demo.products import product_specs_bulk
    from merchants.models import Merchant, Store, Wholesaler
    from merchants.tenancy import merchant_context, platform_access

    with platform_access(reason="bench: checkout data", actor="bench"):
        wholesaler, _ = Wholesaler.objects.get_or_create(slug=SLUG, defaults={"name": "Bench checkout"})
        merchant, _ = Merchant.objects.get_or_create(
            slug=SLUG, defaults={"name": "Bench checkout", "wholesaler": wholesaler}
        )
        store, _ = Store.objects.get_or_create(
            merchant=merchant, name="Bench checkout store", defaults={"code": STORE_CODE}
        )
        if Product.objects.filter(wholesaler=wholesaler).count() < PRODUCTS:
            products = Product.objects.bulk_create(
                Product(
                    wholesaler=wholesaler, gtin=s.gtin, name=s.name, brand=s.brand, unit_size=s.unit_size,
                    case_pack=s.case_pack, wholesale_cost=s.wholesale_cost, suggested_retail_price=s.suggested_retail_price,
                    tax_class=s.tax_class,
                )
                for s in product_specs_bulk(count=PRODUCTS, seed=23)
            )  # fmt: skip
            with merchant_context(merchant.pk):
                StoreProduct.objects.bulk_create(
                    StoreProduct(merchant=merchant, store=store, product=p, price=p.suggested_retail_price)
                    for p in products
                )
        # Every run starts from the same state: no orders, carts, lookups or webhook events.
        Order.objects.filter(merchant=merchant).delete()
        Visit.objects.filter(merchant=merchant).delete()
        ProductLookup.objects.filter(merchant=merchant).delete()
        WebhookEvent.objects.all().delete()  # platform-wide; only this bench writes them here
        Session.objects.all().delete()
    with merchant_context(merchant.pk):
        items = [
            (pk, gtin, price)
            for pk, gtin, price in StoreProduct.objects.filter(store=store, is_active=True)
            .order_by("pk")
            .values_list("pk", "product__gtin", "price")
        ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_storeproduct; ANALYZE checkout_order; ANALYZE checkout_orderline")
    return Shop(merchant.pk, store.pk, items)


def _restock(shop: Shop) -> None:
    """Bring every product back to STOCK_LEVEL units with one delivery (receipt movements)."""
    from catalog.models import MovementKind, StoreProduct
    from catalog.services.stock import Move, stock_moves
    from merchants.models import Merchant
    from merchants.tenancy import merchant_context

    with merchant_context(shop.merchant_id):
        merchant = Merchant.objects.get(pk=shop.merchant_id)
        levels = StoreProduct.objects.filter(store_id=shop.store_id).values_list("pk", "on_hand")
        moves = [Move(pk, STOCK_LEVEL - on_hand) for pk, on_hand in levels if on_hand < STOCK_LEVEL]
    if moves:
        stock_moves(merchant=merchant, kind=MovementKind.RECEIPT, moves=moves, reference="bench:restock")


def _last_order_id() -> int:
    from checkout.models import Order
    from merchants.tenancy import platform_access

    with platform_access(reason="bench: count orders", actor="bench"):
        return Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _pending_orders(shop: Shop, count: int) -> list[tuple[int, str, int]]:
    """``count`` pending orders of 1-3 units, written directly; returns (order id, intent id, total)."""
    from django.utils import timezone

    from catalog.models import StoreProduct
    from checkout import taxes
    from checkout.models import Channel, Order, OrderLine, OrderStatus
    from checkout.services.orders import RESERVATION
    from checkout.services.pricing import order_line_price, order_totals
    from merchants.models import Store
    from merchants.tenancy import merchant_context

    rng = random.Random(count)
    run = int(time.time() * 1000)
    with merchant_context(shop.merchant_id):
        store = Store.objects.get(pk=shop.store_id)
        tax_of = dict(StoreProduct.objects.filter(store=store).values_list("pk", "product__tax_class"))
        lines, orders = [], []
        for n in range(count):
            (pk, _, price), quantity = rng.choice(shop.items), rng.randint(1, 3)
            line = OrderLine(
                merchant_id=shop.merchant_id, store_product_id=pk, name="Bench product", unit_price=price,
                tax_class=tax_of[pk], tax_rate=taxes.rate(country=store.country, tax_class=tax_of[pk]),
            )  # fmt: skip
            # Priced by the checkout's own arithmetic, as order_place prices a shopper's lines.
            order_line_price(line, quantity=quantity, prices_include_tax=store.prices_include_tax)
            subtotal, tax_total, total = order_totals([line], prices_include_tax=store.prices_include_tax)
            orders.append(
                Order(
                    merchant_id=shop.merchant_id, store=store, channel=Channel.SHOPPER, status=OrderStatus.PENDING,
                    currency=store.currency, prices_include_tax=store.prices_include_tax, subtotal=subtotal,
                    tax_total=tax_total, total=total,
                    reserved_until=timezone.now() + RESERVATION, payment_intent=f"pi_bench_{run}_{n}",
                )
            )  # fmt: skip
            lines.append(line)
        Order.objects.bulk_create(orders)
        for order, line in zip(orders, lines, strict=True):
            line.order = order
        OrderLine.objects.bulk_create(lines)
    return [(o.pk, o.payment_intent, o.total) for o in orders]


def _event(shop: Shop, order_id: int, intent: str, total: int, event_id: str) -> bytes:
    """A payment_intent.succeeded event as Stripe sends it (the fields the handler reads, and more)."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": intent,
                    "object": "payment_intent",
                    "amount": total,
                    "amount_received": total,
                    "currency": "eur",
                    "status": "succeeded",
                    "metadata": {"merchant_id": str(shop.merchant_id), "order_id": str(order_id), "store": STORE_CODE},
                }
            },
        }
    ).encode()


def _sign(payload: bytes) -> str:
    stamp = str(int(time.time()))
    digest = hmac.new(WEBHOOK_SECRET.encode(), stamp.encode() + b"." + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


# --- the servers ---


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(
    url: str, *, process: subprocess.Popen[bytes], log: Path, timeout: float = 60, headers: dict[str, str] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2) as answer:  # noqa: S310 - loopback  # nosec B310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


class Servers:
    """localstripe and gunicorn, each in a session of its own; stopped on exit, error or Ctrl-C."""

    boot_timeout = 60.0  # seconds for a server to answer after it was started
    # Production's settings with the floor endpoints mounted after its own routes (bench/floor_settings.py).
    settings_module = "bench.floor_settings"

    def __init__(self, *, database_url: str, workers: int, threads: int, web: bool = True) -> None:
        self.database_url = database_url
        self.web = web  # False: localstripe only (the caller runs its own web servers)
        self.workers = workers
        self.threads = threads
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs = Path(tempfile.mkdtemp(prefix="bench-checkout-"))
        self.stripe_url = ""
        self.base_url = ""
        self.named: dict[str, subprocess.Popen[bytes]] = {}

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": self.database_url,
            "SECURE_SSL_REDIRECT": "false",
            "STRIPE_API_BASE": self.stripe_url,
            "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_CONNECT_WEBHOOK_SECRET": "",  # nosec B105 # empty: the bench runs without a Connect endpoint
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        env.pop("DATABASE_ADMIN_URL", None)
        return env

    def _start(
        self, name: str, command: list[str], env: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.logs / f"{name}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                command, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT, env=env, start_new_session=True
            )
        self.processes.append(process)
        self.named[{"gunicorn": "app", "localstripe": "stripe"}.get(name, name)] = process
        return process, log

    def __enter__(self) -> Servers:
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_all(self) -> None:
        bin_dir = Path(sys.executable).parent
        port = _free_port()
        # --from-scratch: ignore the state other localstripe runs pickled to /tmp.
        process, log = self._start("localstripe", [str(bin_dir / "localstripe"), "--port", str(port), "--from-scratch"])
        self.stripe_url = f"http://127.0.0.1:{port}"
        _wait_http(
            f"{self.stripe_url}/v1/events?limit=1", process=process, log=log,
            headers={"Authorization": f"Bearer {STRIPE_SECRET_KEY}"},
        )  # fmt: skip
        env = self.env()
        # Production serves the hashed copies of the static files the pages name: collect them.
        collected = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        if collected.returncode:
            raise RuntimeError(f"collectstatic failed:\n{collected.stderr[-3000:]}")
        if not self.web:
            return
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        process, log = self._start(
            "gunicorn",
            [
                str(bin_dir / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
                "--worker-class", "gthread", "--workers", str(self.workers), "--threads", str(self.threads),
                "--keep-alive", "5", "--timeout", "60", "--graceful-timeout", "5", "--backlog", "2048",
            ],
            env,
        )  # fmt: skip
        _wait_http(f"{self.base_url}/healthz", process=process, log=log, timeout=self.boot_timeout)
        self.webhooks_to(self.base_url)

    def webhooks_to(self, base_url: str) -> None:
        """localstripe posts its signed events to the server at ``base_url``, as Stripe would."""
        body = json.dumps(
            {
                "url": f"{base_url}/webhooks/stripe/",
                "secret": WEBHOOK_SECRET,
                "events": ["payment_intent.succeeded", "payment_intent.payment_failed"],
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{self.stripe_url}/_config/webhooks/bench", data=body, method="POST",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback  # nosec B310
            pass

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.stop()
        if kind is None:
            shutil.rmtree(self.logs, ignore_errors=True)
        else:
            print(f"server logs kept in {self.logs}", file=sys.stderr)

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


# --- the load ---


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _process_ticks(servers: Servers) -> dict[int, tuple[str, int]]:
    """CPU jiffies used so far, per process: the app server (gunicorn), the bench database's
    PostgreSQL backends, localstripe, and this client. Other people's processes are left out."""
    found: dict[int, tuple[str, int]] = {}
    roots = {process.pid: name for name, process in servers.named.items()}
    database = servers.database_url.rsplit("/", 1)[-1].split("?")[0]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
            rest = raw[raw.rindex(")") + 2 :].split()
            pid, ppid, used = int(entry.name), int(rest[1]), int(rest[11]) + int(rest[12])
            if pid == os.getpid():
                found[pid] = ("client", used)
            elif pid in roots or ppid in roots:
                found[pid] = (roots.get(pid) or roots[ppid], used)
            elif raw[raw.index("(") + 1 : raw.rindex(")")] == "postgres":
                # A backend's title names its database: "postgres: role database host(port) state".
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
                if len(title) > 2 and title[2] == database:
                    found[pid] = ("db", used)
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
    return found


def _cpu_split(before: dict[int, tuple[str, int]], after: dict[int, tuple[str, int]]) -> Counter[str]:
    """Jiffies per role between two snapshots (a process that ended in between is not counted)."""
    used: Counter[str] = Counter()
    for pid, (role, ticks) in after.items():
        used[role] += ticks - (before[pid][1] if pid in before else 0)
    return used


@dataclass
class Recorder:
    deadline: float = 0.0
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    in_time: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    error_examples: dict[str, str] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)

    def ok(self, name: str, started: float, ended: float) -> None:
        self.samples[name].append((ended - started) * 1000)
        if ended <= self.deadline:
            self.in_time[name] += 1

    def fail(self, name: str, detail: str, *, status: int | None = None, seconds: float = 0.0) -> None:  # noqa: ARG002 - for recorders that classify failures
        self.errors[name] += 1
        self.error_examples.setdefault(name, detail[:300])


@dataclass
class Phase:
    recorder: Recorder
    seconds: float
    cpu_busy: float  # share of the machine's CPUs busy during the phase
    cpu_split: dict[str, float]  # share of the machine's CPUs by app server, database, localstripe, client


def _retry_after(value: str) -> str:
    """The detail's mark of an answer that asked to be retried later (a 503 from core.outages)."""
    return f"[Retry-After {value}] " if value else ""


class Client:
    """One shopper's browser: its own connection and cookie jar (Secure cookies sent over loopback)."""

    def __init__(self, base: str, recorder: Recorder, *, timeout: float = 60) -> None:
        import aiohttp

        self.base = base
        self.recorder = recorder
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[base])
        self.http = aiohttp.ClientSession(
            cookie_jar=jar,
            connector=aiohttp.TCPConnector(limit=1, force_close=False),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
        origin = base.replace("http://", "https://")
        # Behind the TLS proxy: production settings trust X-Forwarded-Proto.
        self.headers = {"X-Forwarded-Proto": "https", "Accept": "text/html"}
        self.post_headers = {**self.headers, "Origin": origin, "Referer": f"{origin}/"}

    def csrf(self) -> str:
        for morsel in self.http.cookie_jar:
            if morsel.key == "csrftoken":
                return morsel.value
        return ""

    def new_visit(self) -> None:
        """A fresh shopper session (cart); the CSRF cookie stays, as it would in the same browser."""
        self.http.cookie_jar.clear(lambda morsel: morsel.key != "csrftoken")

    async def call(
        self, name: str, method: str, path: str, *, data: Any = None,
        expect: tuple[int, ...] = (200,), location: str = "", headers: dict[str, str] | None = None,
    ) -> tuple[int, str, bytes] | None:  # fmt: skip
        import aiohttp

        sent = dict(self.post_headers if method == "POST" else self.headers)
        if method == "POST" and headers is None:
            sent["X-CSRFToken"] = self.csrf()
        if headers:
            sent.update(headers)
        started = time.perf_counter()
        try:
            async with self.http.request(method, self.base + path, data=data, headers=sent, allow_redirects=False) as r:
                body = await r.read()
                status, where = r.status, r.headers.get("Location", "")
                retry_after = r.headers.get("Retry-After", "")
        except (aiohttp.ClientError, TimeoutError) as error:
            self.recorder.fail(name, f"{type(error).__name__}: {error}", seconds=time.perf_counter() - started)
            return None
        ended = time.perf_counter()
        if status not in expect or (location and location not in where):
            self.recorder.fail(
                name,
                f"{status} {method} {path} -> {where} {_retry_after(retry_after)}{_text(body)}",
                status=status,
                seconds=ended - started,
            )
            return None
        self.recorder.ok(name, started, ended)
        return status, where, body

    async def close(self) -> None:
        await self.http.close()


async def _load(
    servers: Servers, *, clients: int, seconds: float, step: Callable[[Client, int], Awaitable[bool]],
) -> Phase:  # fmt: skip
    """``clients`` concurrent clients each running ``step`` until the time is up (or it returns False).

    ``seconds=0``: until every client's ``step`` returned False; then every request counts.
    """
    recorder = Recorder()
    pool = [Client(servers.base_url, recorder) for _ in range(clients)]
    busy0, total0 = _cpu_times()
    ticks0 = _process_ticks(servers)
    started = time.perf_counter()
    recorder.deadline = started + seconds if seconds else float("inf")

    async def run(client: Client, index: int) -> None:
        while time.perf_counter() < recorder.deadline:
            if not await step(client, index):
                break

    try:
        await asyncio.gather(*(run(c, i) for i, c in enumerate(pool)))
    finally:
        wall = time.perf_counter() - started
        busy1, total1 = _cpu_times()
        ticks1 = _process_ticks(servers)
        await asyncio.gather(*(c.close() for c in pool))
    capacity = wall * os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1)
    used = _cpu_split(ticks0, ticks1)
    split = {name: used[name] / capacity for name in ("app", "db", "stripe", "client")}
    busy = (busy1 - busy0) / max(total1 - total0, 1)
    # Whatever else ran meanwhile (the kernel, PostgreSQL's own processes, other people's jobs): a noisy run shows here.
    split["other"] = max(busy - sum(split.values()), 0.0)
    return Phase(recorder, min(wall, seconds) if seconds else wall, busy, split)


# --- the phases ---


def _healthz() -> Callable[[Client, int], Awaitable[bool]]:
    async def step(client: Client, _: int) -> bool:
        await client.call("healthz", "GET", "/healthz")
        return True

    return step


def _scan_add(
    shop: Shop, *, lookups: bool, items_per_visit: int, think: float = 0.0, prefix: str = ""
) -> Callable[[Client, int], Awaitable[bool]]:
    """Scan a product and add it; a new visit every ``items_per_visit``; ``think`` s (mean) between requests.

    ``prefix``: FLOOR for the same requests to the floor endpoints.
    """
    rng = random.Random(7)
    count: Counter[int] = Counter()

    async def pause() -> None:
        if think:
            await asyncio.sleep(rng.expovariate(1 / think))

    async def step(client: Client, index: int) -> bool:
        if count[index] % items_per_visit == 0:
            client.new_visit()
        count[index] += 1
        pk, gtin, _ = rng.choice(shop.items)
        if lookups or not client.csrf():
            await pause()
            await client.call("lookup", "GET", f"{prefix}/s/{STORE_CODE}/p/{gtin}/")
        await pause()
        await client.call(
            "add", "POST", f"{prefix}/s/{STORE_CODE}/cart/add/", data={"item": str(pk), "quantity": "1"},
            expect=(302,), location="/cart/",
        )  # fmt: skip
        return True

    return step


def _purchase(shop: Shop, outcomes: Counter[str]) -> Callable[[Client, int], Awaitable[bool]]:
    rng = random.Random(11)

    async def step(client: Client, _: int) -> bool:
        client.new_visit()
        started = time.perf_counter()
        for pk, gtin, _price in rng.sample(shop.items, 2):
            if not await client.call("lookup", "GET", f"/s/{STORE_CODE}/p/{gtin}/"):
                return True
            if not await client.call(
                "add", "POST", f"/s/{STORE_CODE}/cart/add/", data={"item": str(pk), "quantity": "1"},
                expect=(302,), location="/cart/",
            ):  # fmt: skip
                return True
        placed = await client.call("checkout", "POST", f"/s/{STORE_CODE}/checkout/", expect=(302,), location="/pay/")
        if not placed:
            return True
        outcomes["placed"] += 1
        paid = await client.call(
            "pay", "POST", placed[1], data={"card": PAYING_CARD}, expect=(302,), location="/orders/"
        )
        if paid:
            outcomes["pay accepted"] += 1
            client.recorder.ok("purchase", started, time.perf_counter())
        return True

    return step


def _webhooks(
    events: list[bytes], answers: Counter[str], *, prefix: str = ""
) -> Callable[[Client, int], Awaitable[bool]]:
    queue = iter(events)

    async def step(client: Client, _: int) -> bool:
        payload = next(queue, None)
        if payload is None:
            return False
        answer = await client.call(
            "webhook", "POST", f"{prefix}/webhooks/stripe/", data=payload,
            headers={"Content-Type": "application/json", "Stripe-Signature": _sign(payload)},
        )  # fmt: skip
        if answer:
            answers["applied" if json.loads(answer[2]).get("applied") else "not applied"] += 1
        return True

    return step


def _settle(shop: Shop, after_id: int, *, expected: int, timeout: float) -> tuple[dict[str, int], float]:
    """Wait until ``expected`` orders placed after ``after_id`` are paid; returns counts by status and the wait."""
    from django.db.models import Count

    from checkout.models import Order
    from merchants.tenancy import merchant_context

    started = time.monotonic()
    while True:
        with merchant_context(shop.merchant_id):
            counts = dict(
                Order.objects.filter(merchant_id=shop.merchant_id, pk__gt=after_id)
                .values_list("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            )
        if counts.get("paid", 0) >= expected or time.monotonic() - started > timeout:
            return counts, time.monotonic() - started
        time.sleep(0.25)


def _integrity(shop: Shop, after_id: int) -> dict[str, int]:
    """Paid orders, oversold ones, units on paid orders, units the ledger sold for them, exit passes."""
    from django.db.models import Sum

    from catalog.models import MovementKind, StockMovement
    from checkout.models import ExitPass, Order, OrderLine, OrderStatus
    from merchants.tenancy import merchant_context

    with merchant_context(shop.merchant_id):
        paid = Order.objects.filter(merchant_id=shop.merchant_id, pk__gt=after_id, status=OrderStatus.PAID)
        refs = [f"checkout.order:{pk}" for pk in paid.values_list("pk", flat=True)]
        sold = StockMovement.objects.filter(
            merchant_id=shop.merchant_id, kind=MovementKind.SALE, reference__in=refs
        ).aggregate(u=Sum("quantity"))["u"]
        return {
            "paid": paid.count(),
            "oversold": Order.objects.filter(merchant_id=shop.merchant_id, pk__gt=after_id, is_oversold=True).count(),
            "units_paid": OrderLine.objects.filter(order__in=paid).aggregate(u=Sum("quantity"))["u"] or 0,
            "units_ledger": -(sold or 0),
            "exit_passes": ExitPass.objects.filter(merchant_id=shop.merchant_id, order__in=paid).count(),
        }


@dataclass(frozen=True)
class Serial:
    """One request of a kind, alone, in this process (same views, test settings): SQL statements and time."""

    queries: int
    ms: float  # median


def _serial(shop: Shop, stripe_url: str, repeat: int = 30) -> dict[str, Serial]:
    """What each kind of request costs with no concurrency: its SQL statements and its median time."""
    import statistics

    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext, override_settings

    found: dict[str, Serial] = {}
    stripe = {
        "STRIPE_API_BASE": stripe_url, "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_CONNECT_WEBHOOK_SECRET": "", "ALLOWED_HOSTS": ["127.0.0.1"],  # nosec B105 # empty: the bench runs without a Connect endpoint
    }  # fmt: skip

    def measure(name: str, calls: list[Callable[[], Any]], expect: int) -> list[Any]:
        answers, times, counts = [], [], []
        for call in calls:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                answer = call()
                times.append((time.perf_counter() - started) * 1000)
            if answer.status_code != expect:
                raise RuntimeError(f"{name}: {answer.status_code} {_text(answer.content)}")
            counts.append(len(captured))
            answers.append(answer)
        found[name] = Serial(max(counts), statistics.median(times))
        return answers

    def webhook(browser: DjangoClient, payload: bytes, prefix: str = "") -> Callable[[], Any]:
        return lambda: browser.post(
            f"{prefix}/webhooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=_sign(payload)
        )

    items = shop.items[:repeat]
    with override_settings(**stripe):
        browser = DjangoClient(HTTP_HOST="127.0.0.1")
        measure("healthz", [lambda: browser.get("/healthz")] * repeat, 200)
        measure("lookup (new shopper)", [lambda: browser.get(f"/s/{STORE_CODE}/p/{items[0][1]}/")], 200)
        measure("add (new visit)", [lambda: browser.post(f"/s/{STORE_CODE}/cart/add/", {"item": items[0][0]})], 302)
        measure("lookup", [lambda g=g: browser.get(f"/s/{STORE_CODE}/p/{g}/") for _, g, _ in items], 200)
        measure("add", [lambda i=i: browser.post(f"/s/{STORE_CODE}/cart/add/", {"item": i}) for i, _, _ in items], 302)
        buyers = [DjangoClient(HTTP_HOST="127.0.0.1") for _ in range(5)]
        for buyer, (pk, _, _) in zip(buyers, items, strict=False):
            buyer.post(f"/s/{STORE_CODE}/cart/add/", {"item": pk})
        placed = measure("checkout", [lambda b=b: b.post(f"/s/{STORE_CODE}/checkout/") for b in buyers], 302)
        pays = [
            lambda b=b, to=to["Location"]: b.post(to, {"card": PAYING_CARD})
            for b, to in zip(buyers, placed, strict=True)
        ]
        measure("pay", pays, 302)
        run = int(time.time())
        events = [_event(shop, o, i, t, f"evt_bench_serial_{run}_{o}") for o, i, t in _pending_orders(shop, repeat)]
        measure("webhook", [webhook(browser, e) for e in events], 200)
        measure("webhook (replay)", [webhook(browser, events[0])] * repeat, 200)
    # The floors, with their URL conf mounted here as the server's settings mount it.
    with override_settings(**stripe, ROOT_URLCONF="bench.floor_urls"):
        floor = DjangoClient(HTTP_HOST="127.0.0.1")
        measure("floor lookup", [lambda g=g: floor.get(f"{FLOOR}/s/{STORE_CODE}/p/{g}/") for _, g, _ in items], 200)
        add = f"{FLOOR}/s/{STORE_CODE}/cart/add/"
        measure("floor add (new visit)", [lambda: floor.post(add, {"item": items[0][0]})], 302)
        measure("floor add", [lambda i=i: floor.post(add, {"item": i}) for i, _, _ in items], 302)
        events = [_event(shop, o, i, t, f"evt_bench_floor_{run}_{o}") for o, i, t in _pending_orders(shop, repeat)]
        measure("floor webhook", [webhook(floor, e, prefix=FLOOR) for e in events], 200)
    return found


def _text(body: bytes) -> str:
    """The readable part of an HTML answer, for error messages."""
    import re

    page = body.decode(errors="replace")
    page = page[page.find("<main") :] if "<main" in page else page
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).strip()[:300]


def _rate(phase: Phase, name: str) -> float:
    """Requests of ``name`` answered within the phase, per second."""
    return phase.recorder.in_time[name] / phase.seconds if phase.seconds else 0.0


def _row(
    case: str, phase: Phase, name: str, base: dict[str, float], serial: dict[str, Serial], *, kind: str = "",
    target: str = "", floor: float | None = None,
) -> dict[str, object]:  # fmt: skip
    """One line of the table; ``floor``: the throughput of the path's floor in this run (x_floor)."""
    samples = phase.recorder.samples.get(name) or []
    rate = _rate(phase, name)
    p50, p99 = (p(samples, 50), p(samples, 99)) if samples else (None, None)
    return {
        "case": case,
        "n": len(samples),
        "errors": phase.recorder.errors[name],
        "req/s": round(rate, 1),
        "p50_ms": round(p50, 1) if p50 is not None else "-",
        "p99_ms": round(p99, 1) if p99 is not None else "-",
        "x_tput": round(rate / base["rate"], 3) if base["rate"] else "-",
        "x_p50": round(p50 / base["p50"], 1) if p50 is not None else "-",
        "x_p99": round(p99 / base["p99"], 1) if p99 is not None else "-",
        "x_floor": round(rate / floor, 3) if floor else "-",
        "queries": serial[kind or name].queries if (kind or name) in serial else "-",
        "alone_ms": round(serial[kind or name].ms, 1) if (kind or name) in serial else "-",
        "x_alone": round(serial[kind or name].ms / serial["healthz"].ms, 1) if (kind or name) in serial else "-",
        "cpu_app/db/stripe/client/other": "/".join(
            f"{phase.cpu_split[k]:.0%}" for k in ("app", "db", "stripe", "client", "other")
        ),
        "aim": target,
    }


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


async def _bench(args: argparse.Namespace, shop: Shop, servers: Servers, serial: dict[str, Serial]) -> dict[str, Any]:
    n = args.shoppers
    # Warm up: every worker thread opens its database connection and compiles its templates.
    await _load(servers, clients=n, seconds=2, step=_healthz())
    await _load(servers, clients=n, seconds=3, step=_scan_add(shop, lookups=True, items_per_visit=5))
    await _load(servers, clients=n, seconds=2, step=_scan_add(shop, lookups=True, items_per_visit=5, prefix=FLOOR))

    a = await _load(servers, clients=n, seconds=args.seconds, step=_healthz())
    if not a.recorder.samples["healthz"]:
        raise RuntimeError(f"/healthz never answered: {dict(a.recorder.error_examples)}")
    base = {
        "rate": a.recorder.in_time["healthz"] / a.seconds,
        "p50": p(a.recorder.samples["healthz"], 50),
        "p99": p(a.recorder.samples["healthz"], 99),
    }
    b = await _load(servers, clients=n, seconds=args.seconds, step=_scan_add(shop, lookups=True, items_per_visit=5))
    fb = await _load(
        servers, clients=n, seconds=args.seconds, step=_scan_add(shop, lookups=True, items_per_visit=5, prefix=FLOOR)
    )
    paced = _scan_add(shop, lookups=True, items_per_visit=5, think=args.think)
    b_paced = await _load(servers, clients=n, seconds=args.seconds, step=paced)
    b_add = await _load(
        servers, clients=n, seconds=args.seconds, step=_scan_add(shop, lookups=False, items_per_visit=8)
    )
    fb_add = await _load(
        servers, clients=n, seconds=args.seconds, step=_scan_add(shop, lookups=False, items_per_visit=8, prefix=FLOOR)
    )

    await asyncio.to_thread(_restock, shop)
    before_c = await asyncio.to_thread(_last_order_id)
    outcomes: Counter[str] = Counter()
    c = await _load(servers, clients=n, seconds=args.pay_seconds, step=_purchase(shop, outcomes))
    counts, settle_s = await asyncio.to_thread(
        _settle, shop, before_c, expected=outcomes["pay accepted"], timeout=args.settle
    )
    c_check = await asyncio.to_thread(_integrity, shop, before_c)

    await asyncio.to_thread(_restock, shop)
    before_d = await asyncio.to_thread(_last_order_id)
    pending = await asyncio.to_thread(_pending_orders, shop, args.events)
    run = int(time.time())
    events = [_event(shop, o, i, t, f"evt_bench_{run}_{o}") for o, i, t in pending]
    answers: Counter[str] = Counter()
    d = await _load(servers, clients=n, seconds=0, step=_webhooks(events, answers))
    d_check = await asyncio.to_thread(_integrity, shop, before_d)

    before_r = await asyncio.to_thread(_last_order_id)
    [(order_id, intent, total)] = await asyncio.to_thread(_pending_orders, shop, 1)
    replay = _event(shop, order_id, intent, total, f"evt_bench_replay_{run}_{order_id}")
    replay_answers: Counter[str] = Counter()
    r = await _load(servers, clients=n, seconds=0, step=_webhooks([replay] * REPLAYS, replay_answers))
    r_check = await asyncio.to_thread(_integrity, shop, before_r)

    # The webhook's floor: as many events for as many fresh pending orders, after the same restock.
    await asyncio.to_thread(_restock, shop)
    before_f = await asyncio.to_thread(_last_order_id)
    floor_pending = await asyncio.to_thread(_pending_orders, shop, args.events)
    floor_events = [_event(shop, o, i, t, f"evt_bench_floor_{run}_{o}") for o, i, t in floor_pending]
    floor_answers: Counter[str] = Counter()
    fd = await _load(servers, clients=n, seconds=0, step=_webhooks(floor_events, floor_answers, prefix=FLOOR))
    fd_check = await asyncio.to_thread(_integrity, shop, before_f)

    # O: open loop at half and four fifths of the capacity each path showed alone, closed-loop.
    b_look = await _load(servers, clients=n, seconds=args.seconds, step=_lookups(shop))
    capacity = {"lookup": _rate(b_look, "lookup"), "add": _rate(b_add, "add")}
    open_rows = []
    for name in ("lookup", "add"):
        for share in (0.5, 0.8):
            measured = await _open(servers, shop, name, rate=share * capacity[name], seconds=args.seconds)
            label = "product page" if name == "lookup" else "add to cart"
            open_rows.append(measured.row(f"O  {label}, open loop", capacity[name], share))
    for row in open_rows:
        p99 = row["p99_ms"]
        row["aim"] = (
            f"p99<100ms: {_verdict(isinstance(p99, float) and p99 < 100)}" if row["share_of_capacity"] == "80%" else ""
        )

    add = b_add.recorder
    paced_p99 = p(b_paced.recorder.samples["add"], 99) if b_paced.recorder.samples["add"] else float("inf")
    add_rate = add.in_time["add"] / b_add.seconds
    add_p99 = p(add.samples["add"], 99) if add.samples["add"] else float("inf")
    hook_rate = len(d.recorder.samples["webhook"]) / d.seconds if d.seconds else 0.0
    floors = {"lookup": _rate(fb, "lookup"), "add": _rate(fb, "add"), "add alone": _rate(fb_add, "add")}
    floors["webhook"] = _rate(fd, "webhook")
    rows = [
        _row("A  bare endpoint GET /healthz (baseline)", a, "healthz", base, serial),
        _row(
            "B  product page (scan), mixed with add",
            b,
            "lookup",
            base,
            serial,
            floor=floors["lookup"],
            target=f">=0.6x floor: {_verdict(_rate(b, 'lookup') >= 0.6 * floors['lookup'])}",
        ),
        _row("B  add to cart, mixed with scan", b, "add", base, serial, floor=floors["add"]),
        _row("F  floor: product page, mixed with add", fb, "lookup", base, serial, kind="floor lookup"),
        _row("F  floor: add to cart, mixed with scan", fb, "add", base, serial, kind="floor add"),
        _row(f"B' product page, shoppers pausing {args.think:g} s (mean)", b_paced, "lookup", base, serial),
        _row(
            f"B' add to cart, shoppers pausing {args.think:g} s (mean)",
            b_paced,
            "add",
            base,
            serial,
            target=f"p99<100ms: {_verdict(paced_p99 < 100)}",
        ),
        _row(
            "B  add to cart alone",
            b_add,
            "add",
            base,
            serial,
            target=f">=0.5x tput: {_verdict(add_rate >= 0.5 * base['rate'])}; p99<100ms: {_verdict(add_p99 < 100)}; "
            f">=0.6x floor: {_verdict(add_rate >= 0.6 * floors['add alone'])}",
            floor=floors["add alone"],
        ),
        _row("F  floor: add to cart alone", fb_add, "add", base, serial, kind="floor add"),
        _row("C  product page (scan)", c, "lookup", base, serial),
        _row("C  add to cart", c, "add", base, serial),
        _row("C  checkout (order + PaymentIntent)", c, "checkout", base, serial),
        _row("C  pay 4242 (localstripe)", c, "pay", base, serial),
        _row("C  whole purchase (2 scans, 2 adds, checkout, pay)", c, "purchase", base, serial),
        _row(
            f"D  webhook payment_intent.succeeded x{args.events}",
            d,
            "webhook",
            base,
            serial,
            target=f">=200 events/s: {_verdict(hook_rate >= 200)}; "
            f">=0.5x floor: {_verdict(_rate(d, 'webhook') >= 0.5 * floors['webhook'])}",
            floor=floors["webhook"],
        ),
        _row(
            f"F  floor: webhook payment_intent.succeeded x{args.events}",
            fd,
            "webhook",
            base,
            serial,
            kind="floor webhook",
        ),
        _row(f"D  one webhook event replayed x{REPLAYS}", r, "webhook", base, serial, kind="webhook (replay)"),
    ]
    placed = outcomes["placed"]
    checks = [
        {"check": "C  orders paid by localstripe's webhook / placed", "result": f"{c_check['paid']}/{placed}",
         "expected": f"{outcomes['pay accepted']}/{placed}", "ok": c_check["paid"] == outcomes["pay accepted"] == placed,
         "note": f"settled {settle_s:.1f} s after the load; statuses {counts}"},
        {"check": "C  oversold orders", "result": c_check["oversold"], "expected": 0, "ok": c_check["oversold"] == 0,
         "note": ""},
        {"check": "C  units sold in the ledger = units on paid orders", "result": f"{c_check['units_ledger']}={c_check['units_paid']}",
         "expected": "equal", "ok": c_check["units_ledger"] == c_check["units_paid"], "note": ""},
        {"check": "C  exit passes / paid orders", "result": f"{c_check['exit_passes']}/{c_check['paid']}",
         "expected": "equal", "ok": c_check["exit_passes"] == c_check["paid"], "note": ""},
        {"check": "D  webhooks applied / sent", "result": f"{answers['applied']}/{len(events)}",
         "expected": f"{len(events)}/{len(events)}", "ok": answers["applied"] == len(events) == d_check["paid"],
         "note": f"orders paid {d_check['paid']}, oversold {d_check['oversold']}, ledger {d_check['units_ledger']}={d_check['units_paid']} units"},
        {"check": f"D  one event x{REPLAYS}: applied / 2xx answers", "result": f"{replay_answers['applied']}/{sum(replay_answers.values())}",
         "expected": f"1/{REPLAYS}", "ok": replay_answers["applied"] == 1 and sum(replay_answers.values()) == REPLAYS
         and r_check["paid"] == 1 and r_check["exit_passes"] == 1 and r_check["units_ledger"] == r_check["units_paid"],
         "note": f"orders paid {r_check['paid']}, exit passes {r_check['exit_passes']}, ledger {r_check['units_ledger']}={r_check['units_paid']} units"},
        {"check": "F  floor webhooks applied / sent", "result": f"{floor_answers['applied']}/{len(floor_events)}",
         "expected": f"{len(floor_events)}/{len(floor_events)}",
         "ok": floor_answers["applied"] == len(floor_events) == fd_check["paid"]
         and fd_check["units_ledger"] == fd_check["units_paid"],
         "note": f"orders paid {fd_check['paid']}, ledger {fd_check['units_ledger']}={fd_check['units_paid']} units (no exit passes: not in the floor)"},
    ]  # fmt: skip
    errors = {
        f"{phase}:{name}": example
        for phase, rec in (("A", a.recorder), ("B", b.recorder), ("B'", b_paced.recorder), ("B-add", add), ("C", c.recorder), ("D", d.recorder), ("replay", r.recorder),
                              ("F-B", fb.recorder), ("F-add", fb_add.recorder), ("F-D", fd.recorder))
        for name, example in rec.error_examples.items()
    }  # fmt: skip
    return {"rows": rows, "open_loop": open_rows, "checks": checks, "errors": errors}


def _lookups(shop: Shop) -> Callable[[Client, int], Awaitable[bool]]:
    """Product pages alone (a shopper scanning and not adding)."""
    rng = random.Random(13)

    async def step(client: Client, _: int) -> bool:
        _pk, gtin, _price = rng.choice(shop.items)
        await client.call("lookup", "GET", f"/s/{STORE_CODE}/p/{gtin}/")
        return True

    return step


async def _open(servers: Servers, shop: Shop, name: str, *, rate: float, seconds: float) -> Any:
    """One path at a fixed arrival rate (bench/_open_loop.py), on 64 browsers that each scanned once (so that
    they hold the CSRF cookie an add needs) and start a new visit every eight adds."""
    recorder = Recorder()
    recorder.deadline = float("inf")
    clients = [Client(servers.base_url, recorder) for _ in range(64)]
    adds: Counter[int] = Counter()
    try:
        for client in clients:
            await client.call("lookup", "GET", f"/s/{STORE_CODE}/p/{shop.items[0][1]}/")

        async def request(client: Client, rng: random.Random) -> bool:
            pk, gtin, _price = rng.choice(shop.items)
            if name == "lookup":
                return await client.call("lookup", "GET", f"/s/{STORE_CODE}/p/{gtin}/") is not None
            if adds[id(client)] % 8 == 7:
                client.new_visit()
            adds[id(client)] += 1
            answer = await client.call(
                "add", "POST", f"/s/{STORE_CODE}/cart/add/", data={"item": str(pk), "quantity": "1"},
                expect=(302,), location="/cart/",
            )  # fmt: skip
            return answer is not None

        return await open_loop(clients, request, rate=rate, seconds=seconds)
    finally:
        await asyncio.gather(*(c.close() for c in clients))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--seconds", type=float, default=10, help="length of phases A and B (default 10)")
    parser.add_argument(
        "--think", type=float, default=2.0, help="mean pause between a shopper's requests in phase B' (default 2 s)"
    )
    parser.add_argument("--pay-seconds", type=float, default=15, help="length of phase C (default 15)")
    parser.add_argument("--settle", type=float, default=30, help="longest wait for phase C's webhooks (default 30)")
    parser.add_argument("--events", type=int, default=1000, help="webhook events in phase D (default 1000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as the Procfile)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4, as the Procfile)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    # Ctrl-C (even when started in the background, where the shell ignores it) and SIGTERM end
    # the run with an exception, so the servers are stopped on the way out.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    database_url = _setup()
    shop = _data()
    _restock(shop)
    with Servers(database_url=database_url, workers=args.workers, threads=args.threads) as servers:
        serial = _serial(shop, servers.stripe_url)
        try:
            result = asyncio.run(_bench(args, shop, servers, serial))
        except Exception:
            print(servers.log_tail("gunicorn"), file=sys.stderr)
            raise
    config = {
        "shoppers": args.shoppers, "workers": args.workers, "threads": args.threads, "worker_class": "gthread",
        "settings": Servers.settings_module, "cpus": os.cpu_count(), "products": len(shop.items),
        "seconds": args.seconds, "think_s": args.think, "pay_seconds": args.pay_seconds, "events": args.events,
        "runtime_s": round(time.monotonic() - started, 1),
        # How the app servers held their database connections (config/settings/base.py).
        "connections": "psycopg pool" if os.environ.get("DATABASE_POOL") else
        f"persistent, health checks {os.environ.get('DATABASE_CONN_HEALTH_CHECKS', 'on')}",
    }  # fmt: skip
    if args.json:
        print(json.dumps({"bench": "checkout", "config": config, **result}))
        return
    report(
        f"Shopper path on gunicorn ({args.workers} workers x {args.threads} threads, production settings), "
        f"{args.shoppers} concurrent clients; x_ = ratio to GET /healthz in the same run",
        result["rows"],
        as_json=False,
    )
    print()
    report("Open loop: fixed arrival rates, latency from each request's scheduled time", result["open_loop"],
           as_json=False)  # fmt: skip
    print()
    report("Correctness under load", result["checks"], as_json=False)
    if result["errors"]:
        print("\nFirst error of each kind:")
        for name, example in result["errors"].items():
            print(f"  {name}: {example}")
    print(f"\n{json.dumps(config)}")


if __name__ == "__main__":
    main()
