"""Parking: a Celery task that failed for good is kept, counted and logged until the operator acts on it.

One mechanism for every task: config.celery's ``task_failure`` receiver calls ``task_park``, which
Celery sends only when a task is out of retries or raised an error it does not retry (a retry sends
no failure), in the pool child or, for a hard time limit or a lost child, in the worker's main
process. The row is written in its own transaction, after the task's own has rolled back; the alert
is ``lingshou_tasks_parked_total`` (core.metrics), the gauge of rows still parked (config.metrics)
and an ERROR log line, which Sentry reports.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from celery import current_app
from django.db import DatabaseError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from core.metrics import TASKS_PARKED
from core.models import ParkedStatus, ParkedTask

logger = logging.getLogger("lingshou.tasks")

# A traceback is kept to its last lines: the frames nearest the error are the ones that explain it.
TRACEBACK_MAX_CHARS = 20_000
MESSAGE_MAX_CHARS = 2_000


def _json(value: object) -> Any:
    """``value`` as JSON would carry it (the tasks' serializer); what JSON cannot hold is kept as its repr."""
    return json.loads(json.dumps(value, default=repr))


def task_fingerprint(task: str, args: Sequence[object], kwargs: Mapping[str, object]) -> str:
    """The same task with the same arguments: one row, whatever order its keyword arguments came in."""
    canonical = json.dumps([task, _json(list(args)), _json(dict(kwargs))], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def task_queue(task: str, args: Sequence[object], kwargs: Mapping[str, object]) -> str:
    """The queue the task's routes send it to (where a failure seen outside the task does not say)."""
    return str(current_app.amqp.router.route({}, task, tuple(args), dict(kwargs))["queue"].name)


_UPSERT = """
INSERT INTO core_parkedtask (task, queue, args, kwargs, fingerprint, task_id, exception_type, exception_message,
                             traceback, first_failed_at, last_failed_at, times_parked, status, resolved_at, resolved_by)
VALUES (%s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s, %s, %s, 1, %s, NULL, '')
ON CONFLICT (fingerprint) DO UPDATE SET
    queue = EXCLUDED.queue, task_id = EXCLUDED.task_id, exception_type = EXCLUDED.exception_type,
    exception_message = EXCLUDED.exception_message, traceback = EXCLUDED.traceback,
    last_failed_at = EXCLUDED.last_failed_at, times_parked = core_parkedtask.times_parked + 1,
    status = EXCLUDED.status, resolved_at = NULL, resolved_by = ''
-- The same delivery reported twice (Celery signals a hard time limit from the worker and again from the pool)
-- is parked once: no row comes back.
WHERE NOT (core_parkedtask.task_id = EXCLUDED.task_id AND core_parkedtask.status = 'parked')
RETURNING id, times_parked
"""


def _upsert(values: list[Any]) -> tuple[int, int] | None:
    """(id, times parked) of the row written; None when this delivery was parked already."""
    # One statement: two pool children parking the same task at once cannot both insert.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_UPSERT, values)
        row = cursor.fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def task_park(
    *,
    task: str,
    queue: str,
    task_id: str,
    args: Sequence[object],
    kwargs: Mapping[str, object],
    exception: BaseException,
    traceback: str,
) -> int | None:
    """Park a task that failed for good: one row per task and arguments (upserted in its own transaction),
    counted and logged at ERROR. Returns the row's id; None when the database would not take it (logged) or
    this delivery (its task id) was parked already."""
    now = timezone.now()
    exception_type = f"{type(exception).__module__}.{type(exception).__qualname__}"
    values: list[Any] = [
        task[:200],
        queue[:100],
        json.dumps(_json(list(args))),
        json.dumps(_json(dict(kwargs))),
        task_fingerprint(task, args, kwargs),
        task_id[:255],
        exception_type[:200],
        str(exception)[:MESSAGE_MAX_CHARS],
        traceback[-TRACEBACK_MAX_CHARS:],
        now,
        now,
        ParkedStatus.PARKED,
    ]
    parked: tuple[int, int] | None = None
    for attempt in (1, 2):
        if not connection.in_atomic_block:
            # The task's own failure may have been its connection's (a killed backend): start afresh.
            connection.close_if_unusable_or_obsolete()
        try:
            parked = _upsert(values)
        except DatabaseError:
            if attempt == 2 or connection.in_atomic_block:
                # The alert still goes out, with what is needed to send the task again by hand.
                logger.exception(
                    "task parked but not recorded: %s",
                    task,
                    extra={"task": task, "task_args": values[2], "task_kwargs": values[3]},
                )
                break
            connection.close()
        else:
            if parked is None:
                return None  # this delivery is parked already, and was counted and logged then
            break
    TASKS_PARKED.labels(task=task).inc()
    extra: dict[str, object] = {"task": task, "task_id": task_id, "queue": queue, "exception_type": exception_type}
    if parked is not None:
        extra |= {"parked_id": parked[0], "times_parked": parked[1]}
    logger.error("task parked: %s raised %s: %s", task, exception_type, str(exception)[:200], extra=extra)
    return None if parked is None else parked[0]


def parked_task_run_again(*, parked_id: int, by: str) -> bool:
    """Send a parked task again with its arguments and mark it sent, once (under the row's lock); False when
    it was not parked. A broker that refuses the message raises, and the row stays parked."""
    with transaction.atomic():
        row = ParkedTask.objects.select_for_update().filter(pk=parked_id, status=ParkedStatus.PARKED).first()
        if row is None:
            return False
        # Sent before the commit, not after: a send that fails leaves the row parked and the operator told,
        # where after the commit it would leave a row marked sent for a task that never left. The price is
        # a task sent while its commit fails, which stays parked: run again, it runs twice (it is idempotent).
        current_app.send_task(row.task, args=row.args, kwargs=row.kwargs, queue=row.queue)
        ParkedTask.objects.filter(pk=row.pk).update(
            status=ParkedStatus.REQUEUED, resolved_at=timezone.now(), resolved_by=by[:200]
        )
    return True


def parked_task_discard(*, parked_id: int, by: str) -> bool:
    """Give up on a parked task (compare-and-swap: only a parked row); False when it was not parked."""
    return bool(
        ParkedTask.objects.filter(pk=parked_id, status=ParkedStatus.PARKED).update(
            status=ParkedStatus.DISCARDED, resolved_at=timezone.now(), resolved_by=by[:200]
        )
    )


def parked_counts() -> dict[str, int]:
    """Rows still parked, by task name (the scrape's gauge)."""
    rows = ParkedTask.objects.filter(status=ParkedStatus.PARKED).values_list("task").annotate(n=Count("pk"))
    return {str(task): int(n) for task, n in rows}  # (task, count) pairs
