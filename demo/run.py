"""``make demo`` (``python -m demo``): database, migrations, seed, then every Procfile process together.

Uses DATABASE_URL and CELERY_BROKER_URL when they are set; otherwise the embedded PostgreSQL
under .data/pg and kombu's filesystem broker under .data/broker. The processes run under
``demo.processes``: the address is printed once the site answers, and Ctrl-C (or SIGTERM) stops
the web server, then the workers (Celery's warm shutdown), then localstripe, and last the embedded
database. The data stays for the next run, localstripe's objects included (.data/localstripe.pickle).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from config import database
from demo import processes

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


class Interrupted(Exception):
    """Ctrl-C or SIGTERM while the database was prepared, before the processes ran."""


def _interrupt(_signum: int, _frame: object) -> None:
    raise Interrupted


def _manage(*args: str, env: dict[str, str]) -> None:
    # A session of its own: the terminal's Ctrl-C reaches this runner, which decides what stops.
    command = [sys.executable, str(BASE_DIR / "manage.py"), *args]
    process = subprocess.Popen(command, env=env, cwd=BASE_DIR, start_new_session=True)  # nosec B603 # this checkout's manage.py
    try:
        returncode = process.wait()
    except Interrupted:
        process.terminate()
        process.wait()
        raise
    if returncode:
        raise subprocess.CalledProcessError(returncode, command)


def main() -> int:
    # Explicit handlers: a shell that starts `make demo` in the background hands it SIGINT
    # ignored, and a supervisor stops it with SIGTERM; both must stop everything below.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    port = os.environ.get("PORT", "8000")
    site = os.environ.get("SITE_URL", f"http://127.0.0.1:{port}")
    extra, started = database.environment()
    env = {
        **os.environ,
        **extra,
        "PORT": port,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.dev"),
        "SITE_URL": site,
        "PYTHONUNBUFFERED": "1",
    }
    uses_localstripe = not os.environ.get("STRIPE_SECRET_KEY")
    if uses_localstripe:
        # No Stripe keys: payments go to localstripe on loopback, through the real stripe client.
        env.setdefault("STRIPE_API_BASE", f"http://127.0.0.1:{int(port) + 420}")

    def stripe_objects() -> None:
        # The seeded orders an owner sees first get their payments at localstripe (see the command).
        if not uses_localstripe:
            return
        try:
            _manage("demo_stripe_objects", env=env)
        except subprocess.CalledProcessError:
            print("make demo: refunding the seeded orders will not work this time (see above).", flush=True)

    try:
        _manage("migrate", "--noinput", "-v", "0", env=env)
        _manage("demo_seed", env=env)
        return processes.run(
            processes.procfile_read(BASE_DIR / "Procfile"), env=env, cwd=BASE_DIR, site=site, on_ready=stripe_objects
        )
    except Interrupted:
        return 0
    except subprocess.CalledProcessError as error:
        print(f"make demo: {' '.join(map(str, error.cmd[1:3]))} failed (exit {error.returncode}).", file=sys.stderr)
        return error.returncode
    finally:
        if started:
            database.embedded_stop()
            print("Stopped the embedded database; its data stays in .data/pg.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
