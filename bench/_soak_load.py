"""bench/soak.py's load: who sends what, every answer on one clock, and the figures cut into windows.

Each actor is an asyncio task with its own browser (bench/checkout.py's Client: cookies, CSRF);
every request lands in a ``Log`` with when it started, how long it took and how it failed, so the
faults can be judged from the same samples: fast (a 4xx/5xx, a 503 with Retry-After told apart, or a refused connection within
``hung_s``), hung (any answer, even a success, after more than ``hung_s``) or timed out (no answer
within the client's timeout).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from _common import p

# A request answered after this many seconds counts as hung, whatever its status.
HUNG_S = 5.0


@dataclass(frozen=True)
class Sample:
    kind: str
    started: float  # seconds since the run's start
    seconds: float
    # ok | slow (a success after hung_s) | fast_4xx | fast_5xx | fast_503_retry (503 with Retry-After: the outage
    # answered as designed) | fast_refused | hung_4xx | hung_5xx | hung_503_retry | hung_refused | timeout
    how: str

    @property
    def failed(self) -> bool:
        """Answered with an error or not at all (a slow success is not a failure, only hung)."""
        return self.how not in {"ok", "slow"}

    @property
    def hung(self) -> bool:
        return self.how == "slow" or self.how.startswith("hung") or self.how == "timeout"


def _how(status: int | None, seconds: float, detail: str, hung_s: float) -> str:
    if detail.startswith(("TimeoutError", "ServerTimeoutError", "ConnectionTimeoutError", "SocketTimeoutError")):
        return "timeout"
    speed = "fast" if seconds <= hung_s else "hung"
    if status is None:
        return f"{speed}_refused"  # reset, refused, closed without an answer
    if status == 503 and "[Retry-After " in detail:
        return f"{speed}_503_retry"
    return f"{speed}_{status // 100}xx"


class Log:
    """The bench Client's recorder (``ok``/``fail``), keeping every request as a ``Sample``."""

    def __init__(self, started: float, hung_s: float = HUNG_S) -> None:
        self.t0 = started
        self.hung_s = hung_s
        self.samples: list[Sample] = []
        self.examples: dict[str, str] = {}
        self.deadline = float("inf")

    def ok(self, name: str, started: float, ended: float) -> None:
        seconds = ended - started
        self.samples.append(Sample(name, started - self.t0, seconds, "ok" if seconds <= self.hung_s else "slow"))

    def fail(self, name: str, detail: str, *, status: int | None = None, seconds: float = 0.0) -> None:
        how = _how(status, seconds, detail, self.hung_s)
        self.samples.append(Sample(name, time.perf_counter() - seconds - self.t0, seconds, how))
        self.examples.setdefault(f"{name} {how}", detail[:240])


@dataclass
class Tally:
    """What the actors were told: the harness's side of each invariant."""

    placed: int = 0
    pay_accepted: int = 0
    counter_paid: int = 0
    frames_accepted: set[tuple[int, int]] = field(default_factory=set)  # (camera id, sequence)
    events_sent: set[str] = field(default_factory=set)
    events_applied: Counter[str] = field(default_factory=Counter)  # event id -> answers saying "applied"


# --- the actors ---


def paced(
    step: Callable[[Any, int], Awaitable[bool]], think: float, seed: int
) -> Callable[[Any, int], Awaitable[bool]]:
    """``step`` after a pause of ``think`` seconds on average (exponential), as people pause."""
    rng = random.Random(seed)

    async def run(client: Any, index: int) -> bool:
        await asyncio.sleep(rng.expovariate(1 / think))
        return await step(client, index)

    return run


async def sign_in(client: Any, username: str, password: str) -> bool:
    """Django's sign-in form, as a browser fills it: the page for the CSRF cookie, then the post."""
    if not await client.call("sign_in", "GET", "/accounts/login/"):
        return False
    answer = await client.call(
        "sign_in", "POST", "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": client.csrf()}, expect=(302,),
    )  # fmt: skip
    return answer is not None


_PAY_CASH = re.compile(rb"/counter/sales/(\d+)/pay/cash/")


def counter_sales(
    shop: Any, slug: str, shift_id: int, tally: Tally, credentials: tuple[str, str]
) -> Callable[[Any, int], Awaitable[bool]]:
    """A clerk at the till: sign in once, then scan one or two products and take cash for them."""
    rng = random.Random(shift_id)
    signed: set[int] = set()
    hx = {"HX-Request": "true"}

    async def step(client: Any, index: int) -> bool:
        if index not in signed:
            if not await sign_in(client, *credentials):
                return True
            signed.add(index)
        body = b""
        for _pk, gtin, _price in rng.sample(shop.items, rng.randint(1, 2)):
            answer = await client.call(
                "counter_scan", "POST", f"/m/{slug}/counter/shifts/{shift_id}/scan/", data={"code": gtin[1:]},
                headers={**hx, "X-CSRFToken": client.csrf()},
            )  # fmt: skip
            if answer is None:
                return True
            body = answer[2]
        found = _PAY_CASH.search(body)
        if found is None:
            return True
        paid = await client.call(
            "counter_pay", "POST", f"/m/{slug}/counter/sales/{found.group(1).decode()}/pay/cash/",
            data={"quick": "10000"}, headers={**hx, "X-CSRFToken": client.csrf()},
        )  # fmt: skip
        if paid is not None:
            tally.counter_paid += 1
        return True

    return step


def dashboard_reader(slug: str, credentials: tuple[str, str]) -> Callable[[Any, int], Awaitable[bool]]:
    """An owner reading the Overview and the Sales page, signed in once."""
    signed: set[int] = set()

    async def step(client: Any, index: int) -> bool:
        if index not in signed:
            if not await sign_in(client, *credentials):
                return True
            signed.add(index)
        await client.call("overview", "GET", f"/m/{slug}/")
        await client.call("sales_page", "GET", f"/m/{slug}/analytics/sales/")
        return True

    return step


def camera(
    cameras: list[tuple[int, str]], frames: list[bytes], tally: Tally, fps: float
) -> Callable[[Any, int], Awaitable[bool]]:
    """Camera ``index`` uploads its frames in order with its device token, ``fps`` a second, like the agent."""
    import aiohttp

    sequence: Counter[int] = Counter()
    next_at: dict[int, float] = {}

    async def step(client: Any, index: int) -> bool:
        camera_id, token = cameras[index]
        now = time.monotonic()
        due = next_at.setdefault(index, now + index / (len(cameras) * fps))
        await asyncio.sleep(max(0.0, due - now))
        next_at[index] = max(due + 1 / fps, time.monotonic() - 1 / fps)
        number = sequence[index]
        form = aiohttp.FormData()
        form.add_field("sequence", str(number))
        form.add_field("captured_at", dt.datetime.now(dt.UTC).isoformat())
        form.add_field("image", frames[number % len(frames)], filename="f.jpg", content_type="image/jpeg")
        answer = await client.call(
            "frame", "POST", "/api/v1/sensing/frames", data=form, expect=(200, 202),
            headers={"Authorization": f"Device {token}", "Accept": "application/json"},
        )  # fmt: skip
        if answer is not None:
            tally.frames_accepted.add((camera_id, number))
            sequence[index] += 1
        # A frame refused for a full disk or a broken connection is sent again, as the agent's spool does.
        return True

    return step


def webhooks(
    bench: Any, shop: Any, tally: Tally, *, rate: float, replay_every: int = 10
) -> Callable[[Any, int], Awaitable[bool]]:
    """Signed payment_intent.succeeded events for orders written pending, ``rate`` a second; every
    ``replay_every``-th event is sent a second time (Stripe delivers at least once)."""
    run = int(time.time())
    queue: list[bytes] = []
    sent: list[bytes] = []
    state = {"next": 0.0}

    async def step(client: Any, _: int) -> bool:
        now = time.monotonic()
        await asyncio.sleep(max(0.0, state["next"] - now))
        state["next"] = max(state["next"] + 1 / rate, time.monotonic() - 1)
        if not queue:
            try:  # written by this process straight into the database, which a fault may have taken away
                pending = await asyncio.to_thread(bench._pending_orders, shop, max(1, int(rate * 20)))
            except Exception:  # noqa: BLE001 - the database is down: try again on the next beat
                from django.db import connections

                await asyncio.to_thread(connections.close_all)
                return True
            queue.extend(bench._event(shop, o, i, t, f"evt_soak_{run}_{o}") for o, i, t in pending)
        payload = queue.pop(0)
        if len(sent) % replay_every == replay_every - 1:
            queue.insert(0, sent[-1])  # the previous event once more, next time
        event_id = json.loads(payload)["id"]
        answer = await client.call(
            "webhook", "POST", "/webhooks/stripe/", data=payload,
            headers={"Content-Type": "application/json", "Stripe-Signature": bench._sign(payload)},
        )  # fmt: skip
        if answer is None:
            queue.insert(0, payload)  # Stripe retries a delivery that failed
            return True
        if event_id not in tally.events_sent:
            sent.append(payload)
        tally.events_sent.add(event_id)
        if json.loads(answer[2]).get("applied"):
            tally.events_applied[event_id] += 1
        return True

    return step


async def run_actors(
    bench: Any, bases: list[str], log: Log, actors: list[tuple[int, Callable[[Any, int], Awaitable[bool]]]],
    *, timeout: float, stop: asyncio.Event,
) -> None:  # fmt: skip
    """Every actor's clients, spread over ``bases`` (web nodes) in turn, until ``stop`` is set."""
    clients: list[Any] = []

    async def loop(client: Any, index: int, step: Callable[[Any, int], Awaitable[bool]]) -> None:
        while not stop.is_set():
            if not await step(client, index):
                return

    tasks = []
    for count, step in actors:
        for index in range(count):
            client = bench.Client(bases[len(clients) % len(bases)], log, timeout=timeout)
            clients.append(client)
            tasks.append(asyncio.create_task(loop(client, index, step)))
    try:
        await stop.wait()
        # Let the requests in flight finish (or time out) so that none is counted half.
        await asyncio.wait(tasks, timeout=timeout + 5)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


# --- the figures ---


@dataclass(frozen=True)
class Window:
    requests: int
    error_rate: float
    p95_ms: float


# A shopper's whole purchase (six requests) is timed as one sample too; the windows judge requests.
COMPOSITE = {"purchase"}


def window(samples: list[Sample], start: float, end: float) -> Window:
    """Requests started in [start, end): how many, the share that failed, and the p95 of their times."""
    inside = [s for s in samples if start <= s.started < end and s.kind not in COMPOSITE]
    if not inside:
        return Window(0, 0.0, 0.0)
    failed = sum(s.failed for s in inside)
    return Window(len(inside), failed / len(inside), p([s.seconds * 1000 for s in inside], 95))


def recovered(w: Window, base: Window) -> bool:
    """Back to the baseline: errors no more than twice the baseline's (at least 1 %), p95 within 1.5x (+50 ms)."""
    return w.requests > 0 and w.error_rate <= max(2 * base.error_rate, 0.01) and w.p95_ms <= 1.5 * base.p95_ms + 50


def recovery(samples: list[Sample], base: Window, fault_end: float, slice_s: float, until: float) -> float | None:
    """Seconds from the fault's end to the start of the first ``slice_s`` window that is back to the
    baseline (windows slid by one second); None when none is before ``until``."""
    t = fault_end
    while t + slice_s <= until:
        if recovered(window(samples, t, t + slice_s), base):
            return round(t - fault_end, 1)
        t += 1.0
    return None


def failures(samples: list[Sample], start: float, end: float) -> dict[str, Any]:
    """The requests started in [start, end) that failed or hung, by how and by kind, and the slowest answer."""
    inside = [s for s in samples if start <= s.started < end and s.kind not in COMPOSITE]
    bad = [s for s in inside if s.failed or s.hung]
    return {
        "requests": len(inside),
        "failed": sum(s.failed for s in inside),
        "hung": sum(s.hung for s in inside),
        "how": dict(Counter(s.how for s in bad)),
        "by_kind": {
            kind: dict(Counter(s.how for s in bad if s.kind == kind)) for kind in sorted({s.kind for s in bad})
        },
        "slowest_s": round(max((s.seconds for s in inside), default=0.0), 2),
    }
