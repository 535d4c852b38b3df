"""Open-loop load: requests arrive at a fixed rate whatever the answers do (shoppers do not wait for each
other), so a slow answer shows as queueing, not as a lower request rate (closed-loop load hides it: the
clients wait instead). Latency runs from each request's scheduled time, so time spent waiting for a free
connection counts (no coordinated omission).

Used by bench/checkout.py: each path at half and four fifths of the capacity it measured closed-loop.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from _common import p

# One request on a client, True when it was answered as expected.
Request = Callable[[Any, random.Random], Awaitable[bool]]


@dataclass
class OpenLoop:
    rate: float  # arrivals per second asked for
    sent: int
    answered: int
    errors: int
    late: int  # arrivals still waiting for a client when the phase ended
    p50_ms: float | None
    p99_ms: float | None

    def row(self, case: str, capacity: float, share: float) -> dict[str, object]:
        return {
            "case": case,
            "share_of_capacity": f"{share:.0%}",
            "capacity_req/s": round(capacity, 1),
            "rate_req/s": round(self.rate, 1),
            "sent": self.sent,
            "answered": self.answered,
            "errors": self.errors,
            "late": self.late,
            "p50_ms": "-" if self.p50_ms is None else round(self.p50_ms, 1),
            "p99_ms": "-" if self.p99_ms is None else round(self.p99_ms, 1),
        }


async def open_loop(clients: list[Any], request: Request, *, rate: float, seconds: float, seed: int = 5) -> OpenLoop:
    """Poisson arrivals at ``rate`` per second for ``seconds``; each takes a free client (waiting for one when
    all are busy, which counts in its latency) and makes one ``request``."""
    rng = random.Random(seed)
    free: asyncio.Queue[Any] = asyncio.Queue()
    for client in clients:
        free.put_nowait(client)
    latencies: list[float] = []
    errors = 0

    async def arrival(scheduled: float) -> None:
        nonlocal errors
        client = await free.get()
        try:
            ok = await request(client, rng)
        finally:
            free.put_nowait(client)
        if ok:
            latencies.append((time.perf_counter() - scheduled) * 1000)
        else:
            errors += 1

    loop_started = time.perf_counter()
    end = loop_started + seconds
    scheduled = loop_started
    tasks = []
    while True:
        scheduled += rng.expovariate(rate)
        if scheduled >= end:
            break
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(arrival(scheduled)))
    # The last arrivals finish; those that never got a client within a grace period count as late.
    pending: set[asyncio.Task[None]] = set()
    if tasks:
        _done, pending = await asyncio.wait(tasks, timeout=max(5.0, seconds))
    for task in pending:
        task.cancel()
    return OpenLoop(
        rate=rate,
        sent=len(tasks),
        answered=len(latencies),
        errors=errors,
        late=len(pending),
        p50_ms=p(latencies, 50) if latencies else None,
        p99_ms=p(latencies, 99) if latencies else None,
    )
