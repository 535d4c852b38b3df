"""Stripe for the checkout tests: a real localstripe per session, and a recording stand-in for
api.stripe.com (Connect cannot run here) that answers with Stripe's own example objects."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from pytest_django import Settings

from checkout import stripe_http
from checkout.localstripe_run import localstripe_webhook_register

SECRET_KEY = "sk_test_lingshou"
WEBHOOK_SECRET = "whsec_test_lingshou"
# Stripe's published example objects (stripe/openapi fixtures3.json, MIT): vendored next to this
# file if present, else the shared copy.
FIXTURES3_PATHS = (
    Path(__file__).with_name("stripe_fixtures3.json"),
    Path("/work/shared/stripe/fixtures3.json"),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    request = urllib.request.Request(f"{url}/v1/events?limit=1", headers={"Authorization": f"Bearer {SECRET_KEY}"})  # noqa: S310 - loopback URL built above
    try:
        with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310 - loopback URL built above
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A localstripe server of its own for the session, empty at start, on a free loopback port."""
    binary = Path(sys.executable).with_name("localstripe")
    command = str(binary) if binary.exists() else shutil.which("localstripe")
    if command is None:
        pytest.fail("localstripe is not installed (pip install -e '.[dev]')")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with log_path.open("wb") as log:
        # --from-scratch: ignore the state other localstripe runs pickled to /tmp/localstripe.pickle.
        process = subprocess.Popen([command, "--port", str(port), "--from-scratch"], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"localstripe did not start on port {port}:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def stripe_settings(settings: Settings, localstripe_url: str) -> Settings:
    """The gateway pointed at this session's localstripe, in test mode, with a 1.5 % platform fee."""
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_lingshou"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = ""
    settings.PLATFORM_FEE_BASIS_POINTS = 150
    return settings


@pytest.fixture
def localstripe_webhook(stripe_settings: Settings, live_server: Any) -> Iterator[str]:
    """localstripe posts its signed events to this test's live server, and stops when the test ends.

    localstripe keeps its webhooks for the whole session: one left on would post every later
    test's events to the live server, whose error logs then run in a thread beside the tests.
    """
    del stripe_settings  # requested for its effect: the Stripe settings of localstripe
    name = f"test-{live_server.url.rsplit(':', 1)[-1]}"
    url = f"{live_server.url}/webhooks/stripe/"
    localstripe_webhook_register(url=url, name=name)
    yield url
    localstripe_webhook_register(url=url, name=name, events=[])  # localstripe cannot delete one


@pytest.fixture
def localstripe(localstripe_url: str) -> stripe.StripeClient:
    """A plain client straight to localstripe, to look behind the gateway's back."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe_url})


# --- a recording stand-in for api.stripe.com ---


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


class FakeStripeHTTPClient(stripe.HTTPClient):
    """Records every request the stripe library sends and answers from canned (status, body) pairs."""

    name = "lingshou-fake"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[RecordedRequest] = []
        self._answers: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}

    def answer(self, method: str, path: str, body: dict[str, Any], *, status: int = 200) -> None:
        """Queue an answer; the last one queued for a route repeats."""
        self._answers.setdefault((method.upper(), path), []).append((status, body))

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        parts = urlsplit(url)
        self.requests.append(
            RecordedRequest(
                method=method.upper(),
                path=parts.path,
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                form=dict(parse_qsl(post_data or "", keep_blank_values=True)),
                headers=dict(headers or {}),
            )
        )
        queue = self._answers.get((method.upper(), parts.path))
        if not queue:
            status, body = 404, {"error": {"type": "invalid_request_error", "message": f"No fake answer: {url}"}}
        else:
            status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        return json.dumps(body), status, {"Request-Id": f"req_fake_{len(self.requests)}"}

    def _sleep_time_seconds(self, _num_retries: int) -> float:
        return 0.0  # the retries themselves are under test, not the back-off

    def close(self) -> None:
        pass


@pytest.fixture(scope="session")
def stripe_fixtures() -> dict[str, dict[str, Any]]:
    """Stripe's example object per resource ("account", "account_link", "payment_intent", ...)."""
    for path in FIXTURES3_PATHS:
        if path.exists():
            resources: dict[str, dict[str, Any]] = json.loads(path.read_text())["resources"]
            return resources
    pytest.fail(f"Stripe's fixtures3.json not found in {[str(p) for p in FIXTURES3_PATHS]}")


@pytest.fixture
def fake_stripe(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> FakeStripeHTTPClient:
    """The gateway in real-Stripe test mode, talking to a FakeStripeHTTPClient instead of the network."""
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_lingshou"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = ""
    settings.PLATFORM_FEE_BASIS_POINTS = 150
    client = FakeStripeHTTPClient()
    monkeypatch.setattr(stripe_http, "http_client", lambda _connect, _read, _pid: client)
    return client
