"""The demo's stand-in for Stripe: localstripe on STRIPE_API_BASE's port, sending its webhooks to this app.

Started by the Procfile. localstripe keeps webhook endpoints in memory only, so they are
registered again at every start (``localstripe_webhook_register``, which the tests use too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from checkout.gateway import GatewayError, GatewayUnavailable


def localstripe_webhook_register(
    *, url: str, name: str = "lingshou", events: list[str] | None = None, wait_seconds: float = 0
) -> None:
    """Makes localstripe POST its events (all, or ``events``) to ``url``, signed with STRIPE_WEBHOOK_SECRET; idempotent.

    localstripe keeps webhooks in memory only: register again after every start. ``wait_seconds``
    lets this run next to a localstripe that is still starting.
    """
    base = getattr(settings, "STRIPE_API_BASE", "")
    secret = getattr(settings, "STRIPE_WEBHOOK_SECRET", "")
    if not base or not base.startswith(("http://", "https://")):
        raise GatewayError("STRIPE_API_BASE must point at localstripe to register its webhooks.")
    if not secret:
        raise GatewayError("STRIPE_WEBHOOK_SECRET is not set.")
    body = json.dumps({"url": url, "secret": secret, "events": events}).encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        f"{base.rstrip('/')}/_config/webhooks/{name}",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the scheme is checked above
                return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise GatewayUnavailable(f"localstripe did not take the webhook: {error}") from error
            time.sleep(0.2)


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
