"""Shared by the bench scripts: Django set-up, timing, and the table / JSON output."""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def django_setup(settings: str = "config.settings.test") -> None:
    # Assigned, not defaulted: importing config (for its Celery app) defaults it to dev.
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    import django

    django.setup()


def bench_module(name: str) -> Any:
    """bench/<name>.py as the module bench_<name> (imported by its own name it would shadow the app's)."""
    import importlib.util

    if f"bench_{name}" in sys.modules:
        return sys.modules[f"bench_{name}"]
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(f"{name}.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = module
    spec.loader.exec_module(module)
    return module


def timed(fn: Callable[[], object], *, repeat: int) -> list[float]:
    """Milliseconds of each of ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] if len(samples) > 1 else samples[0]


def report(title: str, rows: list[dict[str, object]], *, as_json: bool) -> None:
    """Print the figures as a table, or as one JSON object with --json."""
    if as_json:
        print(json.dumps({"bench": title, "rows": rows}))
        return
    print(title)
    columns = list(rows[0])
    widths = [max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in columns]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths, strict=True)))


@contextmanager
def redis_server(*, bind: tuple[str, ...] = ("127.0.0.1",)) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A private redis-server (no persistence) on a free port of ``bind``'s addresses; yields it and its port."""
    executable = shutil.which("redis-server")
    if executable is None:
        sys.exit("redis-server is not on the PATH.")
    with socket.socket() as sock:
        sock.bind((bind[0], 0))
        port = int(sock.getsockname()[1])
    # protected-mode refuses clients on any address but loopback without a password: the other addresses are veths.
    server = subprocess.Popen(
        [executable, "--port", str(port), "--bind", *bind, "--save", "", "--appendonly", "no",
         "--protected-mode", "no" if len(bind) > 1 else "yes"],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((bind[0], port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield server, port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
