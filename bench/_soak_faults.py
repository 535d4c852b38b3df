"""bench/soak.py's processes and faults: Celery workers from the Procfile, beat, the frame storage
on a small tmpfs, and one function per fault (each returns when the fault is over).

Every process runs in a session of its own so that a fault can kill a worker's whole process
group, and the harness can stop everything it started, and only that, on the way out.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MEDIA_MB = 256  # the frame storage's tmpfs: a run's frames fit, and it fills at once


def procfile_workers() -> dict[str, list[str]]:
    """The Procfile's Celery processes (every worker queue, and beat), by name, as argument lists."""
    found = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        words = shlex.split(command)
        if words[:3] == ["celery", "-A", "config"] and words[3] in {"worker", "beat"}:
            found[name.strip()] = words
    return found


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                raw = (entry / "stat").read_text()
                if int(raw[raw.rindex(")") + 2 :].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


class Workers:
    """The Procfile's Celery workers and beat with one environment, each in its own session (and network
    namespace when ``netns`` names one); logs in ``logs``."""

    def __init__(self, env: dict[str, str], logs: Path, *, netns: str = "", only: set[str] | None = None) -> None:
        self.env = env
        self.logs = logs
        self.netns = netns
        self.commands = {n: c for n, c in procfile_workers().items() if only is None or n in only}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> subprocess.Popen[bytes]:
        bin_dir = Path(sys.executable).parent
        words = [str(bin_dir / "celery"), *self.commands[name][1:]]
        words = [w.replace(".data/celerybeat-schedule", str(self.logs / f"beat-{self.netns}")) for w in words]
        # WARNING, not INFO: a log line per task would be most of the run's disk writes.
        words = [("WARNING" if w == "INFO" else w) for w in words] + ["--without-gossip", "--without-mingle"] * (
            words[3] == "worker"
        )
        if self.netns:
            words = ["ip", "netns", "exec", self.netns, *words]
        with (self.logs / f"{name}{'-' + self.netns if self.netns else ''}.log").open("ab") as log:
            process = subprocess.Popen(
                words, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes[name] = process
        return process

    def __enter__(self) -> Workers:
        for name in self.commands:
            self.start(name)
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def wait_ready(self, timeout: float = 180) -> None:
        """Until every worker has its prefork children (booted, connected, consuming)."""
        deadline = time.monotonic() + timeout
        for name, words in self.commands.items():
            if words[3] != "worker":
                continue
            wanted = int(words[words.index("--concurrency") + 1]) if "--concurrency" in words else 1
            while len(_children(self.worker_pid(name))) < wanted:
                if time.monotonic() > deadline or self.processes[name].poll() is not None:
                    raise RuntimeError(f"the {name} worker did not start its pool: see {self.logs}")
                time.sleep(0.5)

    def worker_pid(self, name: str) -> int:
        """The celery parent's pid (under ``ip netns exec`` it is the exec'd process itself)."""
        return self.processes[name].pid


class Tmpfs:
    """A tmpfs of ``size_mb`` mounted at ``path`` (we run as root); unmounted on exit."""

    def __init__(self, path: Path, size_mb: int = MEDIA_MB) -> None:
        self.path = path
        self.size_mb = size_mb
        self.mounted = False

    def __enter__(self) -> Tmpfs:
        self.path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            subprocess.run(
                [
                    shutil.which("mount") or "/bin/mount",
                    "-t",
                    "tmpfs",
                    "-o",
                    f"size={self.size_mb}m,mode=0777",
                    "tmpfs",
                    str(self.path),
                ],
                check=True,
            )
            self.mounted = True
        return self

    def __exit__(self, *_: object) -> None:
        if self.mounted:
            subprocess.run([shutil.which("umount") or "/bin/umount", "-l", str(self.path)], check=False)


# --- the faults: each returns a note once the fault is over ---


def worker_child_kill(workers: Workers, name: str = "sensing") -> str:
    """SIGKILL one prefork child of the ``name`` worker (the parent starts another)."""
    children = _children(workers.worker_pid(name))
    if not children:
        return f"{name} had no child to kill"
    os.kill(children[-1], signal.SIGKILL)
    return f"killed child {children[-1]} of the {name} worker"


def worker_kill(workers: Workers, name: str = "worker", down_s: float = 5.0) -> str:
    """SIGKILL the ``name`` worker's whole process group; start it again ``down_s`` later."""
    process = workers.processes[name]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(down_s)
    workers.start(name)
    return f"killed the {name} worker (pid {process.pid}) and its children; restarted after {down_s:g} s"


def process_stop(process: subprocess.Popen[bytes], seconds: float, what: str) -> str:
    """SIGSTOP ``process`` for ``seconds`` (it holds its connections and answers nothing), then SIGCONT."""
    os.kill(process.pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.kill(process.pid, signal.SIGCONT)
    return f"{what} stopped (SIGSTOP) for {seconds:g} s"


def backends_terminate(admin_url: str, database: str, role: str) -> str:
    """pg_terminate_backend every connection of the app's role to the run's database."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE usename = %s AND datname = %s AND pid <> pg_backend_pid()",
            [role, database],
        ).fetchone()
    return f"terminated {killed[0] if killed else 0} backends of {role}"


def postgres_restart(options: str = "") -> str:
    """Stop the embedded PostgreSQL (fast: clients disconnected) and start it again on the same port."""
    from config.database import embedded_port, embedded_start, embedded_stop

    port = embedded_port()
    started = time.monotonic()
    embedded_stop()
    embedded_start(options=options)
    return (
        f"restarted the embedded PostgreSQL on port {port} -> {embedded_port()} in {time.monotonic() - started:.1f} s"
    )


def storage_fill(path: Path, seconds: float) -> str:
    """Fill the file system at ``path`` with one big file for ``seconds``, then free it."""
    filler = path / "filler.bin"
    stats = os.statvfs(path)
    free = stats.f_bavail * stats.f_frsize
    # Written until the file system refuses (fallocate of the free space fails whole when uploads take
    # a few blocks meanwhile, and then fills nothing).
    block = b"\0" * 2**20
    with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
        while handle.write(block):
            pass
    left = os.statvfs(path).f_bavail * stats.f_frsize
    try:
        time.sleep(seconds)
    finally:
        filler.unlink()
    return f"filled {free // 2**20} MiB of {path} ({left // 1024} KiB left) for {seconds:g} s"


Fault = tuple[str, float, Callable[[], str]]  # name, planned length (s), the fault itself


def faults_plan(
    names: list[str], *, workers: Workers, servers: Any, redis: Any, media: Path, database: str
) -> list[Fault]:
    """The faults asked for, in the brief's order, each as (name, planned seconds, function)."""
    admin_url = os.environ.get("DATABASE_ADMIN_URL", "")
    from config.database import APP_ROLE

    every: dict[str, Fault] = {
        "worker_child": ("worker_child", 0, lambda: worker_child_kill(workers)),
        "worker": ("worker", 5, lambda: worker_kill(workers)),
        "redis": ("redis", 10, lambda: process_stop(redis, 10, "Redis")),
        "pg_backends": ("pg_backends", 0, lambda: backends_terminate(admin_url, database, APP_ROLE)),
        "pg_restart": ("pg_restart", 3, lambda: postgres_restart(getattr(servers, "pg_options", ""))),
        "disk_full": ("disk_full", 15, lambda: storage_fill(media, 15)),
        "stripe": ("stripe", 30, lambda: process_stop(servers.named["stripe"], 30, "localstripe")),
    }
    unknown = set(names) - set(every)
    if unknown:
        sys.exit(f"unknown faults: {sorted(unknown)}; known: {list(every)}")
    if ("pg_backends" in names or "pg_restart" in names) and not admin_url:
        sys.exit("the PostgreSQL faults need DATABASE_ADMIN_URL: run through `python -m config.database run --`.")
    return [every[name] for name in every if name in names]
