"""The demo's process runner: starts the Procfile's processes, says where the site is once it
answers, and stops them in order on Ctrl-C or SIGTERM.

Each process runs in a session of its own, so the terminal's Ctrl-C (sent to the whole foreground
process group) reaches this runner only, never a Celery pool child behind its parent's back (the
parent would log the lost child as an error). The runner then stops the processes in stages, each
with SIGTERM to the process itself and a timeout:

1. the web server and the camera agent: nothing new comes in;
2. the Celery workers and beat: SIGTERM is Celery's warm shutdown, which lets each worker finish
   the tasks in hand and stop its own pool;
3. localstripe, last, since a task in hand may still be talking to it.

A process still running when its stage's time is up is killed (SIGKILL, with whatever it started)
and the runner says so and ends with status 1. Output is prefixed with each process's name.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import string
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

# Which stage stops each process (see the module's docstring); everything else stops in stage 2.
STOP_STAGES = {"web": 1, "camera": 1, "stripe": 3}
WORKER_STAGE = 2
STOP_TIMEOUT = 30.0
READY_TIMEOUT = 120.0


@dataclass(frozen=True)
class Process:
    """One line of the Procfile: a name and the command, with $VARIABLES still to fill in."""

    name: str
    command: str

    @property
    def stage(self) -> int:
        return STOP_STAGES.get(self.name, WORKER_STAGE)


def procfile_read(path: Path, *, only: Sequence[str] = ()) -> list[Process]:
    """The Procfile's processes in file order (those named in ``only``, when given)."""
    processes = []
    for line in path.read_text().splitlines():
        name, _, command = line.partition(":")
        if line.strip().startswith("#") or not command.strip():
            continue
        if not only or name.strip() in only:
            processes.append(Process(name.strip(), command.strip()))
    missing = set(only) - {process.name for process in processes}
    if missing:
        raise ValueError(f"{path} has no process named {', '.join(sorted(missing))}")
    return processes


@dataclass
class Runner:
    """Runs ``processes`` with ``env`` in ``cwd``; see the module's docstring."""

    processes: list[Process]
    env: Mapping[str, str]
    cwd: Path
    out: IO[str] = field(default_factory=lambda: sys.stdout)
    stop_timeout: float = STOP_TIMEOUT
    _running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _readers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop_asked: threading.Event = field(default_factory=threading.Event)

    def say(self, name: str, text: str) -> None:
        width = max(len(process.name) for process in self.processes)
        with self._lock:
            self.out.write(f"{name:<{width}} | {text}\n")
            self.out.flush()

    def _relay(self, name: str, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self.say(name, raw.decode(errors="replace").rstrip())
        stream.close()

    def start(self) -> None:
        for process in self.processes:
            command = shlex.split(string.Template(process.command).safe_substitute(self.env))
            popen = subprocess.Popen(  # noqa: S603 - the project's own Procfile  # nosec B603
                command,
                env=dict(self.env),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self._running[process.name] = popen
            assert popen.stdout is not None
            reader = threading.Thread(target=self._relay, args=(process.name, popen.stdout), daemon=True)
            reader.start()
            self._readers.append(reader)

    def exited(self) -> list[str]:
        """The processes that ended on their own."""
        return [name for name, popen in self._running.items() if popen.poll() is not None]

    def wait_ready(self, url: str, *, timeout: float = READY_TIMEOUT) -> bool:
        """Whether ``url`` answered 200 before ``timeout``, while every process kept running (and no stop was asked)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stop_asked.is_set() and not self.exited():
            try:
                # A long wait: a request sent while the workers boot waits in the listen queue
                # and is answered once they are up; a short one would pile up retries there.
                with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 - our own loopback URL  # nosec B310
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            self._stop_asked.wait(0.25)
        return False

    def ask_stop(self, signum: int = signal.SIGTERM, _frame: object = None) -> None:
        """A signal handler: stop at the next chance (the main loop does the stopping)."""
        del signum
        self._stop_asked.set()

    @property
    def stop_asked(self) -> bool:
        return self._stop_asked.is_set()

    def wait(self) -> None:
        """Until a stop is asked or a process ends on its own."""
        while not self._stop_asked.wait(0.2):
            if self.exited():
                return

    def stop(self) -> bool:
        """Stop every process, stage by stage; False when one had to be killed."""
        clean = True
        for stage in sorted({process.stage for process in self.processes}):
            names = [p.name for p in self.processes if p.stage == stage and self._running[p.name].poll() is None]
            for name in names:
                self._running[name].send_signal(signal.SIGTERM)
            deadline = time.monotonic() + self.stop_timeout
            for name in names:
                popen = self._running[name]
                try:
                    popen.wait(timeout=max(deadline - time.monotonic(), 0))
                except subprocess.TimeoutExpired:
                    self.say(name, f"did not stop within {self.stop_timeout:.0f} s: killed")
                    clean = False
                if self._kill_left_behind(popen):
                    self.say(name, "left processes behind: killed")
                    clean = False
        for reader in self._readers:
            reader.join(timeout=5)
        return clean

    @staticmethod
    def _kill_left_behind(popen: subprocess.Popen[bytes]) -> bool:
        """Kill what is still running in the process's session (itself, if it hung; a pool child); whether any was."""
        try:
            os.killpg(popen.pid, 0)
        except (ProcessLookupError, PermissionError):
            popen.wait()
            return False
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait()
        return True


def run(
    processes: list[Process],
    *,
    env: Mapping[str, str],
    cwd: Path,
    site: str,
    on_ready: Callable[[], None] | None = None,
    out: IO[str] | None = None,
    stop_timeout: float = STOP_TIMEOUT,
) -> int:
    """Start the processes, announce ``site`` once its /healthz answers, and run until Ctrl-C or SIGTERM.

    Returns 0 after a stop that every process obeyed in time, 1 when one ended on its own, never
    answered, or had to be killed. ``on_ready`` runs once the site answers, before it is announced.
    """
    runner = Runner(processes, env, cwd, out=out or sys.stdout, stop_timeout=stop_timeout)
    previous = {number: signal.signal(number, runner.ask_stop) for number in (signal.SIGINT, signal.SIGTERM)}
    stopped: bool | None = None
    try:
        runner.start()
        if runner.wait_ready(f"{site.rstrip('/')}/healthz"):
            if on_ready is not None:
                on_ready()
            runner.out.write(f"\nLingshou is running on {site.rstrip('/')}/  (Ctrl-C stops everything)\n\n")
            runner.out.flush()
            runner.wait()
        ended = runner.exited()
        if not runner.stop_asked:
            what = f"{', '.join(ended)} ended" if ended else f"{site} did not answer"
            runner.out.write(f"\n{what}: stopping everything.\n")
        stopped = runner.stop()
        return 0 if stopped and runner.stop_asked and not ended else 1
    finally:
        if stopped is None:  # an exception on the way: nothing is left running
            runner.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)


def main(argv: list[str] | None = None) -> int:
    """``python -m demo.processes``: run Procfile processes as the demo does (``--only web,worker``)."""
    parser = argparse.ArgumentParser(description="Run the Procfile's processes; Ctrl-C stops them in order.")
    parser.add_argument("--procfile", type=Path, default=Path("Procfile"))
    parser.add_argument("--only", default="", help="comma-separated process names (default: all)")
    parser.add_argument("--site", default=os.environ.get("SITE_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--stop-timeout", type=float, default=STOP_TIMEOUT, help="seconds each stage may take")
    args = parser.parse_args(argv)
    only = [name for name in args.only.split(",") if name]
    processes = procfile_read(args.procfile, only=only)
    # The processes run where this was started (the project, for `celery -A config`).
    return run(processes, env=dict(os.environ), cwd=Path.cwd(), site=args.site, stop_timeout=args.stop_timeout)


if __name__ == "__main__":
    sys.exit(main())
