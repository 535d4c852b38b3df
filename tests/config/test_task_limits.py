"""No task outlives the broker's visibility timeout: its hard time limit plus the longest retry wait it spends
delivered and unacknowledged stay below it, or a live worker's task would be delivered a second time."""

from __future__ import annotations

from celery import Task
from django.conf import settings

from config.celery import app

PROJECT = ("core.", "merchants.", "catalog.", "checkout.", "sensing.", "ordering.", "analytics.", "demo.")
CELERY_RETRY_BACKOFF_MAX = 600  # Celery's default for a task that sets retry_backoff without a maximum


def longest_retry_wait(task: Task) -> float:
    """The longest countdown a retry of ``task`` can be given (Celery's autoretry; no task calls retry itself)."""
    if not getattr(task, "autoretry_for", ()) or not task.max_retries:
        return 0.0
    backoff = getattr(task, "retry_backoff", False)
    if backoff:
        factor = 1 if backoff is True else int(backoff)
        most = getattr(task, "retry_backoff_max", CELERY_RETRY_BACKOFF_MAX)
        return float(min(most, factor * 2 ** (task.max_retries - 1)))
    countdown = (getattr(task, "retry_kwargs", None) or {}).get("countdown")
    return float(task.default_retry_delay if countdown is None else countdown)


def test_every_tasks_time_limit_and_retry_wait_fit_in_the_visibility_timeout() -> None:
    app.loader.import_default_modules()
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(
        "visibility_timeout", settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    )
    tasks = {name: task for name, task in app.tasks.items() if name.startswith(PROJECT)}
    assert len(tasks) >= 15
    over = {}
    for name, task in tasks.items():
        limit = task.time_limit or app.conf.task_time_limit
        assert limit, f"{name} has no hard time limit"
        if limit + longest_retry_wait(task) >= visibility:
            over[name] = (limit, longest_retry_wait(task))
    assert over == {}, f"visibility timeout {visibility} s"


def test_the_defaults_keep_a_killed_workers_task_minutes_away_not_an_hour() -> None:
    assert settings.CELERY_BROKER_VISIBILITY_TIMEOUT == 300
    assert settings.CELERY_TASK_TIME_LIMIT == 150
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT == 135
    assert app.tasks["analytics.tasks.store_rollups_rebuild"].time_limit == 220
    # The longest wait of all: sensing's frames retry with backoff up to 2**7 s.
    assert longest_retry_wait(app.tasks["sensing.tasks.camera_process"]) == 128
