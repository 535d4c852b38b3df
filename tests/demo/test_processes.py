"""The demo's process runner, with real processes: it says where the site is once it answers, and
Ctrl-C or SIGTERM stops everything in order, cleanly; a process that hangs is killed and said so.

The first tests run the project's own Procfile (web, two Celery workers, beat, localstripe) on the
test database, on free ports, with its files in a temporary folder instead of .data/.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection

from config.database import url_with
from demo.processes import procfile_read

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
# The demo's processes but the camera (it needs a seeded camera's token): the web server, a worker
# with a prefork pool of two, a second queue's worker, beat and localstripe.
RUN = ("web", "worker", "sensing", "beat", "stripe")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Started:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if found := re.search(pattern, line):
                    return found
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        return None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def start_runner() -> Iterator[Callable[..., Started]]:
    """start_runner(procfile, env, *args) -> a `python -m demo.processes` in a session of its own, like a terminal's job."""
    started: list[Started] = []

    def start(procfile: Path, env: dict[str, str], *args: str) -> Started:
        process = subprocess.Popen(
            [sys.executable, "-m", "demo.processes", "--procfile", str(procfile), *args],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        run = Started(process)
        threading.Thread(target=run.read, daemon=True).start()
        started.append(run)
        return run

    yield start
    for run in started:
        if run.process.poll() is None:  # a failed test: leave nothing running
            os.killpg(run.process.pid, signal.SIGKILL)
            run.process.wait()


def _demo_procfile(folder: Path) -> Path:
    """The project's Procfile, its files under ``folder`` instead of .data/ (a running demo keeps its own)."""
    lines = []
    for process in procfile_read(BASE_DIR / "Procfile", only=RUN):
        command = process.command.replace(".data/", f"{folder}/")
        if process.name == "stripe":
            command += f" --state {folder}/localstripe.pickle"
        lines.append(f"{process.name}: {command}")
    procfile = folder / "Procfile"
    procfile.write_text("\n".join(lines) + "\n")
    return procfile


def _demo_env(port: int, stripe_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url_with(os.environ["DATABASE_URL"], database=connection.settings_dict["NAME"]),
        "PORT": str(port),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_the_demo_says_where_it_is_once_it_answers_and_stops_cleanly_in_order(
    stop: str, tmp_path: Path, start_runner: Callable[..., Started]
) -> None:
    port, stripe_port = _free_port(), _free_port()
    run = start_runner(_demo_procfile(tmp_path), _demo_env(port, stripe_port), "--site", f"http://127.0.0.1:{port}")

    announced = run.wait_for(r"Lingshou is running on (http://\S+)", timeout=240)
    assert announced is not None, run.output[-4000:]
    assert announced.group(1) == f"http://127.0.0.1:{port}/"
    # Announced only once it answers: nothing about the site before the web server listened.
    announced_at = next(i for i, line in enumerate(run.lines) if "Lingshou is running on" in line)
    assert any(line.startswith("web") and "Listening at" in line for line in run.lines[:announced_at])
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert response.status == 200
    # The workers are up too before they are stopped (their warm shutdown is the point here).
    assert run.wait_for(r"^worker\s+\|.*ready\.", timeout=120), run.output[-4000:]
    assert run.wait_for(r"^sensing\s+\|.*ready\.", timeout=120), run.output[-4000:]

    if stop == "ctrl-c":
        os.killpg(run.process.pid, signal.SIGINT)  # what the terminal does: the whole foreground group
    else:
        run.process.send_signal(signal.SIGTERM)  # what a supervisor does
    assert run.process.wait(timeout=150) == 0, run.output[-4000:]
    time.sleep(0.5)  # the last lines reach the reader

    output = run.output
    assert "ERROR" not in output, output[-4000:]
    assert "Traceback" not in output, output[-4000:]
    assert "killed" not in output, output[-4000:]
    assert not _answers(port)
    assert not _answers(stripe_port)
    # In order: the web server was gone before the workers began their warm shutdown, localstripe last.
    web_stopped = max(i for i, line in enumerate(run.lines) if line.startswith("web") and "Shutting down" in line)
    warm = [i for i, line in enumerate(run.lines) if re.match(r"^(worker|sensing)\s+\|.*[Ww]arm shutdown", line)]
    assert len(warm) == 2, output[-4000:]
    assert web_stopped < min(warm)
    last_worker_line = max(i for i, line in enumerate(run.lines) if re.match(r"^(worker|sensing|beat)\s+\|", line))
    stripe_stopped = next(i for i, line in enumerate(run.lines) if re.match(r"^stripe\s+\| localstripe stopped", line))
    assert stripe_stopped > last_worker_line


def test_a_process_that_ignores_the_stop_is_killed_after_the_timeout_and_said_so(
    tmp_path: Path, start_runner: Callable[..., Started]
) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "healthz").write_text("ok")
    port = _free_port()
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f"web: {sys.executable} -m http.server {port} --bind 127.0.0.1 --directory {tmp_path / 'site'}\n"
        f"stubborn: {sys.executable} -c \"import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(120)\"\n"
    )
    run = start_runner(procfile, dict(os.environ), "--site", f"http://127.0.0.1:{port}", "--stop-timeout", "2")
    assert run.wait_for(r"Lingshou is running on", timeout=60), run.output
    assert run.wait_for(r"^stubborn\s+\| up", timeout=30), run.output

    os.killpg(run.process.pid, signal.SIGINT)

    assert run.process.wait(timeout=30) == 1
    time.sleep(0.3)
    assert "stubborn | did not stop within 2 s: killed" in run.output


def test_a_process_that_ends_on_its_own_stops_the_others(tmp_path: Path, start_runner: Callable[..., Started]) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "healthz").write_text("ok")
    port = _free_port()
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f"web: {sys.executable} -m http.server {port} --bind 127.0.0.1 --directory {tmp_path / 'site'}\n"
        f'short: {sys.executable} -c "import time; time.sleep(3)"\n'
    )
    run = start_runner(procfile, dict(os.environ), "--site", f"http://127.0.0.1:{port}")

    assert run.process.wait(timeout=60) == 1
    time.sleep(0.3)
    assert "short ended: stopping everything." in run.output
    assert not _answers(port)
