"""The demo's stand-in for Stripe: localstripe on STRIPE_API_BASE's port, sending its webhooks to this app.

Started by the Procfile (``python -m checkout.localstripe_run``). It runs localstripe's own server
in this process, with two changes:

- Its objects outlive a restart. localstripe already saves its whole store after every write and
  loads it at start, but always to ``/tmp/localstripe.pickle``, a file every localstripe on the
  machine shares (each test session's too). Here the same two hooks read and write
  ``--state`` (``.data/localstripe.pickle``), replaced atomically, so a payment made before a
  restart can still be refunded after it.
- Its webhook endpoint is registered in-process before the server answers. localstripe keeps
  webhooks in memory only; ``localstripe_webhook_register`` does the same over HTTP, for a
  localstripe started elsewhere (the tests').

SIGINT and SIGTERM stop it cleanly (aiohttp's own handling); the state is on disk after every write.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pickle
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from checkout.gateway import GatewayError, GatewayUnavailable

logger = logging.getLogger("lingshou.localstripe")


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
            with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the scheme is checked above  # nosec B310
                return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise GatewayUnavailable(f"localstripe did not take the webhook: {error}") from error
            time.sleep(0.2)


def state_keep(path: Path) -> None:
    """Make localstripe load its objects from ``path`` at start and save them there after every write.

    The file is replaced whole (written aside, then renamed), so a crash mid-write leaves the last
    good state; a file that cannot be read is set aside and localstripe starts empty.
    """
    from localstripe.resources import Store

    def load(store: Store) -> None:
        try:
            with path.open("rb") as file:
                saved = pickle.load(file)  # noqa: S301 - our own file, written by dump below  # nosec B301
        except FileNotFoundError:
            return
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
            broken = path.with_suffix(".unreadable")
            path.replace(broken)
            logger.warning("localstripe state unreadable, starting empty (kept as %s): %s", broken, error)
            return
        store.clear()
        store.update(saved)

    def dump(store: Store) -> None:
        aside = path.with_suffix(".writing")
        with aside.open("wb") as file:
            pickle.dump(dict(store), file, protocol=pickle.HIGHEST_PROTOCOL)
        aside.replace(path)

    path.parent.mkdir(parents=True, exist_ok=True)
    Store.try_load_from_disk = load
    Store.dump_to_disk = dump


def serve(*, port: int, state: Path, webhook_url: str, webhook_secret: str) -> None:
    """Run localstripe on 127.0.0.1:``port`` with its objects kept in ``state``, until SIGINT or SIGTERM."""
    state_keep(state)
    from aiohttp import web
    from localstripe import server
    from localstripe.resources import store
    from localstripe.webhooks import register_webhook

    store.try_load_from_disk()
    register_webhook("lingshou", webhook_url, webhook_secret, None)
    # Webhook deliveries are logged (localstripe's "aiohttp.access" logger, through Django's logging);
    # the requests themselves are not: the demo's output is for what happens, not every API call.
    print(  # noqa: T201
        f"localstripe on http://127.0.0.1:{port} ({len(store)} objects kept in {state}) "
        f"sends its webhooks to {webhook_url}",
        flush=True,
    )
    web.run_app(server.app, host="127.0.0.1", port=port, access_log=None, print=None)
    print(f"localstripe stopped; its {len(store)} objects are kept in {state}", flush=True)  # noqa: T201


def main(argv: list[str] | None = None) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    django.setup()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--state",
        type=Path,
        default=Path(settings.DATA_DIR) / "localstripe.pickle",
        help="where localstripe keeps its objects between runs (default: .data/localstripe.pickle)",
    )
    args = parser.parse_args(argv)
    base: str = settings.STRIPE_API_BASE
    if not base:
        print("STRIPE_API_BASE is not set: payments go to Stripe itself, no localstripe.", flush=True)  # noqa: T201
        return 0
    site: str = settings.SITE_URL
    serve(
        port=urlsplit(base).port or 8420,
        state=args.state,
        webhook_url=f"{site.rstrip('/')}/webhooks/stripe/",
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
