"""``make demo`` (``python -m demo``): database, migrations, seed, then web, worker and beat together (Procfile).

Uses DATABASE_URL and CELERY_BROKER_URL when they are set; otherwise the embedded PostgreSQL
under .data/pg and kombu's filesystem broker under .data/broker. Ctrl-C stops every process this
started, the embedded database included; the data stays for the next run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from config import database

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Explicit handlers: a shell that starts `make demo` in the background hands it SIGINT
    # ignored, and a supervisor stops it with SIGTERM; both must stop everything below.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    port = os.environ.get("PORT", "8000")
    extra, started = database.environment()
    env = {
        **os.environ,
        **extra,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.dev"),
        "SITE_URL": os.environ.get("SITE_URL", f"http://127.0.0.1:{port}"),
        "PYTHONUNBUFFERED": "1",
    }
    if not os.environ.get("STRIPE_SECRET_KEY"):
        # No Stripe keys: payments go to localstripe on loopback, through the real stripe client.
        env.setdefault("STRIPE_API_BASE", f"http://127.0.0.1:{int(port) + 420}")
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    honcho = None
    try:
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
        subprocess.run([*manage, "demo_seed"], env=env, check=True)
        print(f"\nLingshou is starting on http://127.0.0.1:{port}/  (Ctrl-C stops everything)\n", flush=True)
        honcho = subprocess.Popen(
            [str(VENV_BIN / "honcho"), "start", "--procfile", str(BASE_DIR / "Procfile"), "--port", port],
            env=env,
            cwd=BASE_DIR,
            start_new_session=True,
        )
        return honcho.wait()
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as error:
        print(f"make demo: {' '.join(map(str, error.cmd[1:3]))} failed (exit {error.returncode}).", file=sys.stderr)
        return error.returncode
    finally:
        if honcho is not None and honcho.poll() is None:
            # honcho passes the signal on to web, worker and beat and waits for them.
            os.killpg(honcho.pid, signal.SIGTERM)
            try:
                honcho.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(honcho.pid, signal.SIGKILL)
        if started:
            database.embedded_stop()
            print("Stopped the embedded database; its data stays in .data/pg.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
