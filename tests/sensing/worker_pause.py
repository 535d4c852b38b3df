"""Loaded only into the Celery worker of test_worker: hold a frame's transaction open, once, so the test can kill the
worker inside it.

It wraps the last write of a frame's transaction (the pipeline state, stored after the events, alerts, slots, frame
and cursor): for the sequences listed in SENSING_TEST_PAUSE_SEQUENCES it writes a marker file named
``<camera>-<sequence>`` in SENSING_TEST_PAUSE_DIR holding the process id, then sleeps before the commit.
"""

from __future__ import annotations

import os
import time

from sensing.models import CameraCursor
from sensing.services import processing

_state_store = processing._state_store


def _state_store_then_pause(cursor_id: int, data: bytes) -> None:
    _state_store(cursor_id, data)
    folder = os.environ["SENSING_TEST_PAUSE_DIR"]
    wanted = {int(s) for s in os.environ.get("SENSING_TEST_PAUSE_SEQUENCES", "").split(",") if s.strip()}
    # The cursor already holds this frame's sequence: it is read back inside the frame's own transaction.
    camera_id, sequence = CameraCursor.objects.filter(pk=cursor_id).values_list("camera_id", "sequence").get()
    marker = os.path.join(folder, f"{camera_id}-{sequence}")
    if sequence not in wanted or os.path.exists(marker):
        return
    with open(marker, "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(float(os.environ.get("SENSING_TEST_PAUSE_SECONDS", "60")))


processing._state_store = _state_store_then_pause
