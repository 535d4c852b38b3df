"""Tasks loaded only into the Celery workers of test_parking (tests.core.worker_settings).

Each writes what it did to files in PARKING_TEST_DIR, one line per run, so the test process can
count attempts and effects without sharing anything else with the worker.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from billiard.exceptions import SoftTimeLimitExceeded
from celery import shared_task


def _folder() -> Path:
    return Path(os.environ["PARKING_TEST_DIR"])


def _append(name: str, line: str) -> int:
    """Append a line to the file; the number of lines it held before."""
    path = _folder() / name
    before = len(path.read_text().splitlines()) if path.exists() else 0
    with path.open("a") as handle:
        handle.write(f"{line}\n")
    return before


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), max_retries=2, retry_kwargs={"countdown": 2})
def fails_until_healed(key: str, *, store: int) -> str:
    """Raises a retried error on every run until a file ``<key>.heal`` exists; then records its effect."""
    _append(f"{key}.attempts", f"{time.time()} store={store}")
    if (_folder() / f"{key}.heal").exists():
        _append(f"{key}.done", str(store))
        return key
    raise ConnectionError(f"{key}: the far end is down")


@shared_task(acks_late=True)
def tick(number: int) -> None:
    """A quick task on another queue: one line per run."""
    _append("ticks", f"{time.time()} {number}")


@shared_task(acks_late=True)
def outlives_its_limits(key: str) -> None:
    """Sleeps through its soft time limit, so that only the hard one ends it."""
    _append(f"{key}.attempts", str(os.getpid()))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            time.sleep(0.1)
        except SoftTimeLimitExceeded:
            continue


@shared_task(acks_late=True, reject_on_worker_lost=True)
def slow_the_first_time(key: str, seconds: float) -> None:
    """The first run writes ``<key>.pid`` and sleeps (to be killed in); every run records its effect once done."""
    if _append(f"{key}.started", str(os.getpid())) == 0:
        (_folder() / f"{key}.pid").write_text(str(os.getpid()))
        time.sleep(seconds)
    _append(f"{key}.done", f"{time.time()}")
