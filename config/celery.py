"""The Celery app: tasks are found in every app's tasks.py; settings come from CELERY_* in Django settings."""

import os
from typing import Any

from celery import Celery, Task
from celery.signals import task_failure

from config import broker
from core.metrics import TASK_FAILURES
from core.outages import redis_call

broker.register()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")


class Lingshou(Celery):
    def send_task(self, *args: Any, **kwargs: Any) -> Any:
        """Every publish (``delay``, ``apply_async``, ``send_task``) through the Redis breaker (core.outages):
        while the broker is known to be away, fail at once rather than wait out a socket timeout per task."""
        return redis_call(lambda: super(Lingshou, self).send_task(*args, **kwargs))


app = Lingshou("lingshou")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _broker_folders(sender: Celery, **kwargs: object) -> None:  # noqa: ARG001 - signal receivers take **kwargs
    """The filesystem broker needs its folders before the first message."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)


@task_failure.connect
def _task_failure_count(sender: Task | None = None, **kwargs: object) -> None:  # noqa: ARG001 - signal receivers take **kwargs
    """A task that failed for good (Celery sends no failure for a retry) counts once, by its registered name."""
    TASK_FAILURES.labels(task=getattr(sender, "name", None) or "unknown").inc()


@task_failure.connect
def _task_failure_park(
    sender: Task | None = None,
    task_id: str = "",
    exception: BaseException | None = None,
    args: Any = None,
    kwargs: Any = None,
    einfo: Any = None,
    **_: object,
) -> None:
    """Every task that failed for good is parked (core.parking), by this one receiver; none has code of its own."""
    # Imported here: this module is loaded with the settings, before the models are.
    from core.parking import task_park, task_queue

    if sender is None or exception is None:
        return
    request = sender.request
    if getattr(request, "is_eager", False):
        return  # run in the caller's process: the caller has the exception, there is no message to park
    name = sender.name
    args, kwargs = list(args or ()), dict(kwargs or {})
    # The queue the message came from; a failure seen by the worker's main process (a hard time limit)
    # has no request of the task at hand, and the task's routes say where it goes.
    delivered = (getattr(request, "delivery_info", None) or {}).get("routing_key")
    task_park(
        task=name,
        queue=delivered or task_queue(name, args, kwargs),
        task_id=task_id or "",
        args=args,
        kwargs=kwargs,
        exception=exception,
        traceback=str(getattr(einfo, "traceback", "") or ""),
    )
