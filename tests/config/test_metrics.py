"""GET /metrics: closed without its bearer token, and each metric moves when its thing happens
(a request, a failed task on a real worker, a frame stored, a webhook applied, a task queued)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import stripe
from celery import current_app
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from pytest_django import Settings

from merchants.models import Merchant, PlatformAccess, Store
from merchants.services import api_token_create
from merchants.tenancy import platform_access
from tests.factories import UserFactory, signed_in_two_step
from tests.gunicorn import gunicorn
from tests.sensing import shelf
from tests.sensing.conftest import camera_make
from tests.worker import celery_worker, queue_purge, wait_for

TOKEN = "metrics-token-for-the-tests-0123456789"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0 when the series is not there yet (a counter that never moved)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How far a series moved between two scrapes."""
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def scrape(settings: Settings) -> Callable[[], Samples]:
    settings.METRICS_TOKEN = TOKEN
    client = Client()

    def read() -> Samples:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content[:500]
        assert response["Content-Type"].startswith("text/plain; version=")
        return parse(response.content.decode())

    return read


def test_metrics_do_not_exist_without_a_token(settings: Settings) -> None:
    settings.METRICS_TOKEN = ""

    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ")

    assert response.status_code == 404
    assert b"lingshou_" not in response.content


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x", "Bearer "],
    ids=["none", "wrong", "other scheme", "no scheme", "longer", "empty"],
)
def test_metrics_refuse_a_missing_or_wrong_token(settings: Settings, header: str | None) -> None:
    settings.METRICS_TOKEN = TOKEN
    response = Client().get("/metrics", headers={} if header is None else {"Authorization": header})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"lingshou_" not in response.content


@pytest.mark.django_db
def test_a_merchants_staff_cannot_read_the_metrics_with_their_session_or_api_token(
    settings: Settings, owner: Any
) -> None:
    settings.METRICS_TOKEN = TOKEN
    platform_operator = UserFactory(username="ops@lingshou.example", is_staff=True, is_superuser=True)
    _, api_token = api_token_create(user=owner, name="scripts")
    signed_in = Client()
    signed_in.force_login(owner)
    operator = signed_in_two_step(platform_operator)  # the platform operator always signs in with two steps

    answers = [
        signed_in.get("/metrics").status_code,
        Client().get("/metrics", headers={"Authorization": f"Bearer {api_token}"}).status_code,
        # Not even the platform operator's session: a scraper has the token, people do not need one.
        operator.get("/metrics").status_code,
    ]

    assert answers == [401, 401, 401]


@pytest.mark.django_db
def test_request_latency_is_counted_by_the_urls_name_not_its_path(
    scrape: Callable[[], Samples], merchant: Merchant
) -> None:
    client = Client()
    picture = {"route": "sensing:camera_frame_picture", "method": "GET", "status": "3xx"}
    before = scrape()

    client.get(f"/m/{merchant.slug}/cameras/frames/918273.jpg")  # not signed in: sent to sign in
    client.get(f"/m/{merchant.slug}/cameras/frames/918274.jpg")
    client.get("/no-such-page/564738")
    client.generic("BREW", "/healthz")
    after = scrape()

    count = "lingshou_http_request_duration_seconds_count"
    assert moved(before, after, count, **picture) == 2
    assert moved(before, after, "lingshou_http_request_duration_seconds_sum", **picture) > 0
    assert moved(before, after, count, route="unmatched", method="GET", status="4xx") == 1
    assert moved(before, after, count, route="healthz", method="other", status="4xx") == 1
    # The paths' numbers never become labels: one series per route, however many ids are asked for.
    routes = {dict(labels).get("route", "") for name, labels in after if name == count}
    assert not any(number in route for route in routes for number in ("918273", "918274", "564738"))


@pytest.mark.django_db
def test_frames_waiting_are_counted_per_camera_across_merchants(
    scrape: Callable[[], Samples],
    settings: Settings,
    tmp_path: Path,
    store: Store,
    other_store: Store,
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    mine = camera_make(store.merchant, store)
    theirs = camera_make(other_store.merchant, other_store, name="Other shelf")
    labels_mine = {"merchant": str(store.merchant_id), "store": str(store.pk), "camera": str(mine.camera.pk)}
    labels_theirs = {
        "merchant": str(other_store.merchant_id),
        "store": str(other_store.pk),
        "camera": str(theirs.camera.pk),
    }
    audited = PlatformAccess.objects.filter(reason="metrics: frames waiting per camera")
    with platform_access(reason="test: count the audit rows", actor="test"):
        audited_before = audited.count()
    before = scrape()

    picture = shelf.jpeg(shelf.shelf({"s1": 4, "s2": 4}))
    # Stored, not processed: the test's transaction never commits, so no task is sent for it.
    response = mine.client().post(
        "/api/v1/sensing/frames",
        {
            "sequence": 1,
            "captured_at": timezone.now().isoformat(),
            "image": SimpleUploadedFile("1.jpg", picture, content_type="image/jpeg"),
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    after = scrape()

    assert value(before, "lingshou_sensing_frames_waiting", **labels_mine) == 0
    assert value(after, "lingshou_sensing_frames_waiting", **labels_mine) == 1
    assert ("lingshou_sensing_frames_waiting", frozenset(labels_theirs.items())) in after
    assert value(after, "lingshou_sensing_frames_waiting", **labels_theirs) == 0
    # Reading every merchant's cameras went through the audited bypass, once per scrape.
    with platform_access(reason="test: count the audit rows", actor="test"):
        assert audited.count() - audited_before == 2


@pytest.mark.django_db
def test_webhook_lag_is_the_time_from_the_events_creation_to_its_effect(
    scrape: Callable[[], Samples], settings: Settings, django_capture_on_commit_callbacks: Any
) -> None:
    event = {
        "id": "evt_metrics_lag_1",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()) - 42,
        "data": {"object": {"id": "pi_metrics_lag_1", "object": "payment_intent", "metadata": {}}},
    }
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, settings.STRIPE_WEBHOOK_SECRET)
    before = scrape()

    for _ in range(2):  # the second delivery is a replay: applied once, its lag counted once
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post(
                "/webhooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
        assert response.status_code == 200
    after = scrape()

    assert moved(before, after, "lingshou_stripe_webhook_lag_seconds_count") == 1
    assert 42 <= moved(before, after, "lingshou_stripe_webhook_lag_seconds_sum") < 42 + 60
    # Under a minute: not yet in the 15 s bucket, already in the one of a minute.
    assert moved(before, after, "lingshou_stripe_webhook_lag_seconds_bucket", le="15.0") == 0
    assert moved(before, after, "lingshou_stripe_webhook_lag_seconds_bucket", le="60.0") == 1


@pytest.mark.django_db
def test_queue_lengths_are_read_from_the_broker_at_scrape_time(scrape: Callable[[], Samples]) -> None:
    # The analytics queue: no worker of this test consumes it, and the purge leaves it as found.
    queue_purge("analytics")
    try:
        before = scrape()
        for _ in range(3):
            current_app.send_task("analytics.tasks.facts_sweep")
        after = scrape()
    finally:
        queue_purge("analytics")
    emptied = scrape()

    assert value(before, "lingshou_celery_queue_length", queue="analytics") == 0
    assert value(after, "lingshou_celery_queue_length", queue="analytics") == 3
    assert value(emptied, "lingshou_celery_queue_length", queue="analytics") == 0
    for queue in ("celery", "sensing", "ordering"):
        assert ("lingshou_celery_queue_length", frozenset({("queue", queue)})) in after


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_failed_task_on_a_worker_is_counted_through_the_multiprocess_directory(
    scrape: Callable[[], Samples], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from merchants.tasks import invitation_send

    shared = tmp_path / "prometheus"
    shared.mkdir()
    # The web processes read what the worker's pool children wrote (gunicorn and Celery on one host).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))
    failures = {"task": "merchants.tasks.invitation_send"}
    before = scrape()
    with celery_worker(extra_env={"PROMETHEUS_MULTIPROC_DIR": str(shared)}) as worker:
        # A merchant id that is no number: the task fails at once (TypeError), and is not retried.
        invitation_send.apply_async(args=("not-a-merchant", 1, "token"))
        counted = wait_for(lambda: value(scrape(), "lingshou_celery_task_failures_total", **failures) == 1)
        assert counted, worker.stderr

    assert value(before, "lingshou_celery_task_failures_total", **failures) == 0
    assert value(scrape(), "lingshou_celery_task_failures_total", **failures) == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_scrape_of_gunicorn_adds_up_every_worker_process(tmp_path: Path) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    # Not /healthz: a start-up poll that gave up early may still be served after the first scrape.
    missing = {"route": "unmatched", "method": "GET", "status": "4xx"}
    # Each worker is replaced after 10 requests: 40 requests are served by at least four processes,
    # live and gone, whose files one scrape must add up. Preloaded, so that a replacement starts at once.
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared), "METRICS_TOKEN": TOKEN}
    with gunicorn(extra_env=env, workers=2, extra_args=("--max-requests", "10", "--preload")) as served:

        def read() -> Samples:
            request = urllib.request.Request(f"{served.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})  # noqa: S310 - loopback
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback URL of the test's server
                return parse(response.read().decode())

        before = read()
        for number in range(40):
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(f"{served.url}/no-such-page/{number}", timeout=30)  # noqa: S310 - loopback
            assert answer.value.code == 404
        after = read()

    assert moved(before, after, "lingshou_http_request_duration_seconds_count", **missing) == 40
    processes = {path.stem.rsplit("_", 1)[-1] for path in shared.glob("histogram_*.db")}
    assert len(processes) >= 4
