"""A whole worker SIGKILLed mid-task on Redis: its task comes back after the broker's visibility timeout (from the
environment), not an hour later, and its effect is applied once; a killed pool child's comes back at once."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from celery import Celery

import bench._common as common
from tests.worker import celery_worker, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

SLOW = "tests.core.worker_tasks.slow_the_first_time"
VISIBILITY_S = 10


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.parametrize("killed", ["worker", "child"])
def test_a_killed_workers_task_runs_again_after_the_visibility_timeout_once(
    killed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Celery prefers the environment's CELERY_BROKER_URL (CI's own Redis) to the app's broker_url.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    with common.redis_server() as (_, port):
        broker = f"redis://127.0.0.1:{port}/0"
        env = {
            "DJANGO_SETTINGS_MODULE": "tests.core.worker_settings",
            "PARKING_TEST_DIR": str(tmp_path),
            "CELERY_BROKER_URL": broker,
            "CELERY_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_S),
            "CELERY_TASK_TIME_LIMIT": str(VISIBILITY_S - 2),
        }
        sender = Celery("sender", broker=broker, set_as_current=False)
        with celery_worker(extra_env=env, purge=False) as worker:
            sender.send_task(SLOW, args=["k", VISIBILITY_S - 4], queue="celery")
            assert wait_for(lambda: (tmp_path / "k.pid").exists(), timeout=60), worker.stderr
            child = int((tmp_path / "k.pid").read_text())
            killed_at = time.monotonic()
            os.kill(child, signal.SIGKILL)
            if killed == "worker":
                # The whole worker, parent and child: nobody is left to give the message back.
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()
            else:
                # acks_late and reject_on_worker_lost: the worker puts it back at once, a new child runs it.
                assert wait_for(lambda: bool(_lines(tmp_path / "k.done")), timeout=30), worker.stderr
                back_s = time.monotonic() - killed_at
        if killed == "worker":
            with celery_worker(extra_env=env, purge=False):
                assert wait_for(lambda: bool(_lines(tmp_path / "k.done")), timeout=VISIBILITY_S + 40)
                back_s = time.monotonic() - killed_at
                time.sleep(2)

    # Run twice (the killed run and the one after it), its effect recorded once.
    assert len(_lines(tmp_path / "k.started")) == 2
    assert len(_lines(tmp_path / "k.done")) == 1
    if killed == "worker":
        # Not before the visibility timeout (counted from the delivery, a moment before the kill), and soon after
        # it: a worker gives back the messages past their timeout every 10 s.
        assert VISIBILITY_S - 3 < back_s < VISIBILITY_S + 25, back_s
    else:
        assert back_s < 15, back_s
