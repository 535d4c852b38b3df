"""A real Celery worker process for integration tests, on the configured broker and the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from config.celery import app
from config.database import url_with


def queue_purge(queues: str = "celery") -> None:
    with app.connection_for_write() as conn:
        for queue in queues.split(","):
            conn.default_channel.queue_purge(queue)


@contextmanager
def celery_worker(
    *, extra_env: dict[str, str] | None = None, queues: str = "celery", concurrency: int = 1, purge: bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``celery worker`` on ``queues`` against the test database; stop it (TERM, then KILL) afterwards."""
    settings = connection.settings_dict
    database_url = url_with(
        os.environ["DATABASE_URL"],
        database=settings["NAME"],
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        **(extra_env or {}),
    }
    if purge:
        queue_purge(queues)
    celery = Path(sys.executable).parent / "celery"
    process = subprocess.Popen(
        [str(celery), "-A", "config", "worker", "--pool", "prefork", "--concurrency", str(concurrency), "--queues", queues,
         "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition: Callable[[], bool], *, timeout: float = 45.0, interval: float = 0.2) -> bool:
    """Poll until ``condition()`` holds; False when it never did within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
