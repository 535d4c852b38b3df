"""A Redis that stops answering (SIGSTOP: connections open, nothing replies) while it is both the cache and the
broker of a real gunicorn: the shopper's add-to-cart and checkout, a camera's frame upload (its throttle reads
the cache) and a dashboard page answer within a bound, most at once while the breaker is open; the frames'
processing tasks that could not be sent are found by the sweep once Redis is back.

The figures (seconds per request while Redis is stopped, per endpoint) are printed: ``pytest -s`` shows them.
"""

from __future__ import annotations

import shutil
import signal
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from django.test import Client
from django.utils import timezone
from pytest_django import Settings

import bench._common as common
from catalog.models import MovementKind
from catalog.services.stock import stock_move
from checkout.models import CartLine, Order
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from sensing.choices import FrameStatus
from sensing.services import processing
from tests.catalog.factories import StoreProductFactory
from tests.checkout.conftest import SECRET_KEY, localstripe_url  # noqa: F401 - the session's localstripe
from tests.gunicorn import gunicorn
from tests.sensing import shelf
from tests.sensing.conftest import camera_make, frames_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

# The first request pays one socket timeout (REDIS_SOCKET_TIMEOUT, 2 s), then the breaker answers.
FIRST_S = 2.5
# The middle request of each endpoint while the breaker is open.
AT_ONCE_S = 0.5
ROUNDS = 4
FRAME = shelf.jpeg(shelf.shelf({"s1": 4, "s2": 4}))


def _timed(call: Callable[[], requests.Response]) -> tuple[requests.Response, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def test_a_stopped_redis_slows_no_request_past_the_bound_and_loses_no_frame(
    merchant: Merchant,
    store: Store,
    owner: object,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    settings: Settings,
) -> None:
    localstripe = request.getfixturevalue("localstripe_url")
    cola = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola")
    stock_move(merchant=merchant, store_product_id=cola.pk, kind=MovementKind.RECEIPT, quantity=100)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    camera = camera_make(merchant, store)
    dashboard = Client()
    dashboard.force_login(owner)  # type: ignore[arg-type]
    with common.redis_server() as (redis, port):
        env = {
            "DJANGO_SETTINGS_MODULE": "tests.core.redis_settings",
            "REDIS_URL": f"redis://127.0.0.1:{port}/1",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "MEDIA_ROOT": settings.MEDIA_ROOT,
            "STRIPE_API_BASE": localstripe,
            "STRIPE_SECRET_KEY": SECRET_KEY,
        }
        with gunicorn(extra_env=env) as served:
            shopper = requests.Session()
            landing = shopper.get(f"{served.url}/s/{store.code}/", timeout=30)
            assert landing.status_code == 200
            csrf = {"csrfmiddlewaretoken": shopper.cookies["csrftoken"]}
            owner_session = requests.Session()
            owner_session.cookies.set("sessionid", dashboard.cookies["sessionid"].value)
            device = {"Authorization": f"Device {camera.token}"}

            def add() -> requests.Response:
                return shopper.post(
                    f"{served.url}/s/{store.code}/cart/add/",
                    {**csrf, "item": cola.pk},
                    allow_redirects=False,
                    timeout=30,
                )

            def checkout() -> requests.Response:
                return shopper.post(f"{served.url}/s/{store.code}/checkout/", csrf, allow_redirects=False, timeout=30)

            def orders() -> requests.Response:
                return owner_session.get(f"{served.url}/m/{merchant.slug}/orders/", timeout=30)

            sequence = iter(range(1, 100))

            def frame() -> requests.Response:
                number = next(sequence)
                return requests.post(
                    f"{served.url}/api/v1/sensing/frames",
                    data={"sequence": number, "captured_at": timezone.now().isoformat()},
                    files={"image": (f"{number}.jpg", FRAME, "image/jpeg")},
                    headers=device,
                    timeout=30,
                )

            endpoints = {"frames API": (frame, 202), "add to cart": (add, 302), "checkout": (checkout, 302),
                         "dashboard orders": (orders, 200)}  # fmt: skip
            assert [call().status_code for call, _ in endpoints.values()] == [s for _, s in endpoints.values()]

            redis.send_signal(signal.SIGSTOP)
            try:
                seconds: dict[str, list[float]] = {name: [] for name in endpoints}
                for _ in range(ROUNDS):
                    for name, (call, status) in endpoints.items():
                        answer, took = _timed(call)
                        # Answered as if Redis were there: the throttle fails open, the tasks wait for the sweep.
                        assert answer.status_code == status, (name, answer.status_code, answer.text[:300])
                        seconds[name].append(took)
            finally:
                redis.send_signal(signal.SIGCONT)
            log = served.output()

    for name, taken in seconds.items():
        figures = f"p50={statistics.median(taken):.3f} s max={max(taken):.3f} s"
        print(f"\n{name} while Redis is stopped: n={len(taken)} {figures}")  # noqa: T201 - the figures
    every = [took for taken in seconds.values() for took in taken]
    assert max(every) < FIRST_S, seconds
    # At most one request per breaker pause waits out the socket timeout; the rest are answered at once.
    assert sorted(every)[len(every) // 2] < AT_ONCE_S, seconds
    assert all(statistics.median(taken) < AT_ONCE_S for taken in seconds.values()), seconds
    assert "Traceback" not in log, log[-3000:]

    # Nothing lost: every frame is kept, and the sweep finds the camera whose processing task was not sent.
    frames = frames_of(camera.camera)
    assert [f.sequence for f in frames] == list(range(1, ROUNDS + 2))
    assert (merchant.pk, camera.camera.pk) in processing.cameras_with_waiting_frames()
    assert processing.camera_process(merchant_id=merchant.pk, camera_id=camera.camera.pk) == ROUNDS + 1
    assert {f.status for f in frames_of(camera.camera)} == {FrameStatus.PROCESSED}
    with merchant_context(merchant.pk):
        assert Order.objects.filter(store=store).count() >= 1
        assert CartLine.objects.filter(store_product=cola).exists()
