"""The demo's stand-in for Stripe: localstripe on STRIPE_API_BASE's port, sending its webhooks to this app.

Started by the Procfile. localstripe keeps webhook endpoints in memory only, so they are
registered again at every start.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit


def main() -> int:
    base = os.environ.get("STRIPE_API_BASE", "")
    if not base:
        print("STRIPE_API_BASE is not set: payments go to Stripe itself, no localstripe.", flush=True)  # noqa: T201
        return 0
    port = urlsplit(base).port or 8420
    server = subprocess.Popen(  # noqa: S603 - our own executable and a port number
        [str(Path(sys.executable).parent / "localstripe"), "--port", str(port), "--from-scratch"]
    )
    try:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
        django.setup()
        from checkout.gateway import localstripe_webhook_register

        site = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
        localstripe_webhook_register(url=f"{site}/webhooks/stripe/", wait_seconds=30)
        print(f"localstripe on {base} sends its webhooks to {site}/webhooks/stripe/", flush=True)  # noqa: T201
        return server.wait()
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
