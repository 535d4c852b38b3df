"""Shared by the bench scripts: Django set-up, timing, and the table / JSON output."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def django_setup(settings: str = "config.settings.test") -> None:
    # Assigned, not defaulted: importing config (for its Celery app) defaults it to dev.
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    import django

    django.setup()


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
