"""Sentry: with SENTRY_DSN set, a web process's and a worker's unhandled exceptions reach the DSN's
server (a small HTTP server of this test on loopback), without the request's cookies; without it the SDK is off."""

from __future__ import annotations

import gzip
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.gunicorn import gunicorn
from tests.worker import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True)]

SESSION_COOKIE = "session-secret-4711"


class _Sentry(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _EnvelopeHandler)
        self.envelopes: queue.Queue[tuple[str, str]] = queue.Queue()
        self.seen: list[str] = []

    @property
    def dsn(self) -> str:
        return f"http://public-key@127.0.0.1:{self.server_address[1]}/4242"

    def envelope_with(self, text: str, *, timeout: float = 120.0) -> str | None:
        """The first envelope received that contains ``text``; None when none arrives in time.

        The time covers a worker's start on a busy machine (it imports the whole project first).
        """
        deadline = time.monotonic() + timeout
        try:
            while True:
                _, body = self.envelopes.get(timeout=max(0.1, deadline - time.monotonic()))
                self.seen.append(body)
                if text in body:
                    return body
        except queue.Empty:
            return None


class _EnvelopeHandler(BaseHTTPRequestHandler):
    server: _Sentry

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.envelopes.put((self.path, body.decode(errors="replace")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def sentry() -> Iterator[_Sentry]:
    server = _Sentry()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _misconfigured_webhook(url: str) -> int:
    """POST a webhook to a server without a webhook secret: the gateway raises, the answer is 500."""
    request = urllib.request.Request(  # noqa: S310 - loopback URL of the test's own server
        f"{url}/webhooks/stripe/",
        data=b'{"id": "evt_1"}',
        headers={"Stripe-Signature": "t=1,v1=00", "Cookie": f"sessionid={SESSION_COOKIE}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback URL as above
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
def test_an_exception_in_a_view_is_delivered_to_sentry_without_cookies(sentry: _Sentry) -> None:
    with gunicorn(extra_env={"SENTRY_DSN": sentry.dsn, "STRIPE_WEBHOOK_SECRET": ""}) as served:
        assert _misconfigured_webhook(served.url) == 500
        envelope = sentry.envelope_with("GatewayError")
        assert envelope is not None, served.output()

    assert "STRIPE_WEBHOOK_SECRET is not set." in envelope
    assert '"environment":"production"' in envelope
    assert "/webhooks/stripe/" in envelope
    # send_default_pii is off: the session cookie stays on this side.
    assert SESSION_COOKIE not in envelope


@pytest.mark.parametrize(("dsn", "initialised"), [("", "False"), ("http://key@127.0.0.1:9/1", "True")])
def test_the_sdk_starts_only_when_a_dsn_is_set(dsn: str, initialised: str) -> None:
    script = "import django; django.setup(); import sentry_sdk; print(sentry_sdk.is_initialized())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "SENTRY_DSN": dsn}

    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == initialised


@pytest.mark.worker
def test_a_failed_task_on_a_worker_is_delivered_to_sentry(sentry: _Sentry) -> None:
    from merchants.tasks import invitation_send

    with celery_worker(extra_env={"SENTRY_DSN": sentry.dsn}) as worker:
        invitation_send.apply_async(args=("not-a-merchant", 1, "token"))
        envelope = sentry.envelope_with("merchant_context takes the merchant's id")
        assert envelope is not None, sentry.seen or worker.stderr

    assert "TypeError" in envelope
    assert "merchants.tasks.invitation_send" in envelope
