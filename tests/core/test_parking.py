"""Parking on real Celery workers: a task that always fails is retried, then parked once, counted and logged,
while another queue keeps flowing; the operator runs it again (or discards it) in an admin closed to anybody else."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from celery import current_app
from django.contrib.auth.models import Permission
from django.test import Client
from pytest_django import Settings

from core.models import ParkedStatus, ParkedTask
from core.parking import parked_task_discard, task_fingerprint, task_park
from merchants.models import WholesalerStaff
from tests.config.test_metrics import TOKEN, Samples, parse, value
from tests.factories import UserFactory, WholesalerFactory, signed_in_two_step
from tests.worker import celery_worker, wait_for

FAILS = "tests.core.worker_tasks.fails_until_healed"
TICK = "tests.core.worker_tasks.tick"
OUTLIVES = "tests.core.worker_tasks.outlives_its_limits"
CHANGELIST = "/admin/core/parkedtask/"


@pytest.fixture
def scrape(settings: Settings) -> Callable[[], Samples]:
    settings.METRICS_TOKEN = TOKEN
    client = Client()

    def read() -> Samples:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content[:500]
        return parse(response.content.decode())

    return read


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The workers' environment: the test tasks, their files, and the metrics directory the scrape reads."""
    metrics = tmp_path / "prometheus"
    metrics.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics))
    return {
        "DJANGO_SETTINGS_MODULE": "tests.core.worker_settings",
        "PARKING_TEST_DIR": str(tmp_path),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _operator() -> Client:
    # The platform operator always signs in with two steps.
    return signed_in_two_step(UserFactory(username="operator@lingshou.example", is_staff=True, is_superuser=True))


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_task_that_always_fails_is_retried_then_parked_once_and_runs_again_from_the_admin(
    scrape: Callable[[], Samples], shared: dict[str, str], tmp_path: Path
) -> None:
    before = scrape()
    with celery_worker(extra_env=shared, queues="celery,parking-other") as worker:
        current_app.send_task(FAILS, args=["order-7"], kwargs={"store": 3})
        for number in range(20):
            current_app.send_task(TICK, args=[number], queue="parking-other")
        parked = wait_for(lambda: ParkedTask.objects.filter(task=FAILS).exists(), timeout=90)
        assert parked, worker.stderr
        assert wait_for(lambda: len(_lines(tmp_path / "ticks")) == 20, timeout=30)
        time.sleep(3)  # a second parking, or a retry after the parking, would show by now
        row = ParkedTask.objects.get(task=FAILS)
        attempts = _lines(tmp_path / "order-7.attempts")
        ticks = [float(line.split()[0]) for line in _lines(tmp_path / "ticks")]
        after = scrape()

        # One run and its two retries, two seconds apart; then parked, once.
        assert len(attempts) == 3
        assert [row.args, row.kwargs, row.queue, row.times_parked] == [["order-7"], {"store": 3}, "celery", 1]
        assert row.status == ParkedStatus.PARKED
        assert row.exception_type == "builtins.ConnectionError"
        assert row.exception_message == "order-7: the far end is down"
        assert "fails_until_healed" in row.traceback
        assert row.fingerprint == task_fingerprint(FAILS, ["order-7"], {"store": 3})
        # The other queue's tasks kept running while the failing one waited for its retries (the worker has
        # one process: a retry waiting in it would otherwise hold up every queue it serves).
        first_attempt = float(attempts[0].split()[0])
        assert sum(first_attempt < at < row.first_failed_at.timestamp() for at in ticks) >= 2, (ticks, attempts)
        assert (
            value(after, "lingshou_tasks_parked_total", task=FAILS)
            - value(before, "lingshou_tasks_parked_total", task=FAILS)
            == 1
        )
        assert value(after, "lingshou_tasks_parked_waiting", task=FAILS) == 1
        assert value(after, "lingshou_celery_task_failures_total", task=FAILS) == 1

        # The operator runs it again with the same arguments; this time the far end answers.
        (tmp_path / "order-7.heal").touch()
        operator = _operator()
        assert operator.get(CHANGELIST).status_code == 200
        response = operator.post(CHANGELIST, {"action": "run_again", "_selected_action": [row.pk], "index": 0})
        assert response.status_code == 302
        assert wait_for(lambda: _lines(tmp_path / "order-7.done") == ["3"], timeout=60), worker.stderr

    row.refresh_from_db()
    assert len(_lines(tmp_path / "order-7.attempts")) == 4
    assert [row.status, row.times_parked, row.resolved_by] == [
        ParkedStatus.REQUEUED,
        1,
        f"user:{operator.session['_auth_user_id']}",
    ]
    final = scrape()
    assert value(final, "lingshou_tasks_parked_waiting", task=FAILS) == 0
    assert (
        value(final, "lingshou_tasks_parked_total", task=FAILS)
        - value(before, "lingshou_tasks_parked_total", task=FAILS)
        == 1
    )


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_task_killed_at_its_hard_time_limit_is_parked_by_the_workers_main_process(
    shared: dict[str, str], tmp_path: Path
) -> None:
    with celery_worker(extra_env={**shared, "CELERY_TASK_TIME_LIMIT": "3"}) as worker:
        current_app.send_task(OUTLIVES, args=["slow-1"])
        assert wait_for(lambda: ParkedTask.objects.filter(task=OUTLIVES).exists(), timeout=60), worker.stderr
        time.sleep(2)
    row = ParkedTask.objects.get(task=OUTLIVES)
    # Acknowledged when killed (it would only be killed again): parked, not lost, and not run twice.
    assert len(_lines(tmp_path / "slow-1.attempts")) == 1
    assert [row.args, row.queue, row.times_parked] == [["slow-1"], "celery", 1]
    assert row.exception_type == "billiard.exceptions.TimeLimitExceeded"


@pytest.mark.django_db
def test_the_same_task_and_arguments_failing_again_update_one_row() -> None:
    def park(error: Exception, **kwargs: Any) -> int | None:
        return task_park(
            task=FAILS, queue="celery", task_id="t", args=[7], kwargs=kwargs, exception=error, traceback=""
        )

    first = park(ConnectionError("down"), store=1, till=2)
    assert parked_task_discard(parked_id=first or 0, by="user:1")
    # Keyword arguments in another order are the same call; a discarded row comes back parked.
    again = park(TimeoutError("slow"), till=2, store=1)
    other = park(ConnectionError("down"), store=2, till=2)
    # The same delivery (task id) reported twice while parked is parked once.
    assert park(TimeoutError("slow"), till=2, store=1) is None

    assert again == first
    assert other != first
    row = ParkedTask.objects.get(pk=first)
    assert [row.times_parked, row.status, row.resolved_at, row.exception_type] == [
        2, ParkedStatus.PARKED, None, "builtins.TimeoutError",
    ]  # fmt: skip
    assert row.first_failed_at < row.last_failed_at


@pytest.mark.django_db
def test_a_parked_task_is_discarded_once_and_no_more_sent(django_capture_on_commit_callbacks: Any) -> None:
    parked_id = task_park(
        task=FAILS,
        queue="celery",
        task_id="t",
        args=["x"],
        kwargs={"store": 1},
        exception=ValueError("no"),
        traceback="",
    )
    operator = _operator()
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(CHANGELIST, {"action": "discard", "_selected_action": [parked_id], "index": 0})
    assert response.status_code == 302
    row = ParkedTask.objects.get(pk=parked_id)
    assert row.status == ParkedStatus.DISCARDED
    # Neither action acts on a row that is no longer parked.
    operator.post(CHANGELIST, {"action": "run_again", "_selected_action": [parked_id], "index": 0})
    assert not parked_task_discard(parked_id=parked_id, by="user:1")
    assert ParkedTask.objects.get(pk=parked_id).status == ParkedStatus.DISCARDED


@pytest.mark.django_db
def test_the_parked_tasks_admin_does_not_exist_for_wholesaler_staff_with_every_permission() -> None:
    parked_id = task_park(
        task=FAILS,
        queue="celery",
        task_id="t",
        args=["x"],
        kwargs={"store": 1},
        exception=ValueError("no"),
        traceback="",
    )
    staff = UserFactory(username="everything@greenline.example", is_staff=True)
    staff.user_permissions.set(Permission.objects.all())
    WholesalerStaff.objects.create(user=staff, wholesaler=WholesalerFactory())
    client = Client()
    client.force_login(staff)

    answers = [
        client.get(CHANGELIST).status_code,
        client.get(f"{CHANGELIST}{parked_id}/change/").status_code,
        client.post(CHANGELIST, {"action": "run_again", "_selected_action": [parked_id], "index": 0}).status_code,
        client.post(CHANGELIST, {"action": "discard", "_selected_action": [parked_id], "index": 0}).status_code,
    ]
    index = client.get("/admin/")

    assert answers == [403, 403, 403, 403]
    assert b"parkedtask" not in index.content.lower()
    assert ParkedTask.objects.get(pk=parked_id).status == ParkedStatus.PARKED
    # The platform operator sees it.
    assert _operator().get(f"{CHANGELIST}{parked_id}/change/").status_code == 200
