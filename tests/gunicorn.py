"""gunicorn serving the project as the Procfile does, on a free loopback port, against the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from config.database import url_with
from tests.worker import wait_for


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: tempfile._TemporaryFileWrapper[bytes]

    def output(self) -> str:
        """What gunicorn and Django wrote to stderr so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:  # noqa: S310 - loopback URL built here
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def gunicorn(
    *, extra_env: dict[str, str] | None = None, workers: int = 1, extra_args: tuple[str, ...] = ()
) -> Iterator[Served]:
    """Start ``gunicorn config.wsgi`` with the test settings; stop it (TERM, then KILL) afterwards."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url_with(os.environ["DATABASE_URL"], database=connection.settings_dict["NAME"]),
        **(extra_env or {}),
    }
    port = free_port()
    binary = Path(sys.executable).parent / "gunicorn"
    # A file, not a pipe: a pipe nobody reads fills up and stops the server mid-test.
    log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [str(binary), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "2",
         "--graceful-timeout", "5", *extra_args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )  # fmt: skip
    served = Served(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        # Every worker imports the whole project (OpenCV, statsforecast): on a busy machine that takes a while.
        started = wait_for(lambda: process.poll() is not None or _answers(served.url), timeout=180)
        if not started or process.poll() is not None:
            raise RuntimeError(f"gunicorn did not start:\n{served.output()}")
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
