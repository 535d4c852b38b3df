"""Loaded only into the Celery worker of test_worker: hold one fact's transaction open after its increments, once,
so that the test can kill the worker inside it.

It wraps ``analytics.services.facts.cells_add`` and ``cells_add_many`` (the upserts, after the facts' applied rows
are inserted): the first fact or batch to get there writes a marker ``<kind>-<key>`` (of its first fact) in
ANALYTICS_TEST_PAUSE_DIR holding the process id, then sleeps before the commit.
"""

from __future__ import annotations

import os
import time
from typing import Any

from analytics.services import facts

_cells_add = facts.cells_add
_cells_add_many = facts.cells_add_many


def _cells_add_then_pause(cursor: Any, *, kind: str, key: int) -> None:
    _cells_add(cursor, kind=kind, key=key)
    _pause(kind, key)


def _cells_add_many_then_pause(cursor: Any, *, kinds: list[str], keys: list[int]) -> None:
    _cells_add_many(cursor, kinds=kinds, keys=keys)
    _pause(kinds[0], keys[0])


def _pause(kind: str, key: int) -> None:
    folder = os.environ["ANALYTICS_TEST_PAUSE_DIR"]
    try:
        # Exclusive create: only the first fact pauses, even with two pool processes.
        descriptor = os.open(os.path.join(folder, "claimed"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(descriptor)
    with open(os.path.join(folder, f"{kind}-{key}"), "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(float(os.environ.get("ANALYTICS_TEST_PAUSE_SECONDS", "120")))


facts.cells_add = _cells_add_then_pause  # type: ignore[assignment]
facts.cells_add_many = _cells_add_many_then_pause  # type: ignore[assignment]
