"""The transactional outbox: a task that nothing else would send again is written with the change it follows.

``transaction.on_commit(task.delay)`` loses the task when the publish fails (Redis away, the breaker of
core.outages open) or the process dies between the commit and the publish; without ``robust=True`` the
failure also turns a committed request into a 503. Here:

- ``send_on_commit(task, args, kwargs)`` writes an ``OutboxMessage`` in the caller's transaction (a rolled
  back change sends nothing) and, once it commits, publishes it and deletes the row under the row's lock.
  A publish that fails is logged (a warning for an outage) and the request answers as if it had worked.
- ``outbox_relay`` (core.tasks, every 30 s from beat) publishes the rows that outlived their commit by
  RELAY_AFTER, a bounded batch a run, ``FOR UPDATE SKIP LOCKED``: two relays, or a relay and a commit's own
  publish, never take the same row.

A row is deleted only in the transaction after its publish succeeded, so a process that dies between the
two publishes it again: at least once. The tasks sent this way are idempotent for it; a mail's task holds
``delivery_exclusive`` while it checks its sent mark, sends, and sets the mark, so two deliveries at once
send one mail. The alert is the age of the oldest row waiting (config.metrics: ``lingshou_outbox_*``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

from celery import current_app
from django.db import connection, transaction
from django.db.models import Count, Min
from django.utils import timezone

from core.models import OutboxMessage
from core.outages import outage_of

logger = logging.getLogger("lingshou.outbox")

# A commit publishes its own rows within milliseconds; one older than this was not published.
RELAY_AFTER = timedelta(seconds=10)
# Rows a relay run takes (and locks) at most: a long outage's backlog drains over a few runs.
RELAY_BATCH = 200


def send_on_commit(task: str, args: Sequence[object], kwargs: Mapping[str, object] | None = None) -> None:
    """Send the task named ``task`` once the caller's transaction commits, and later if that publish fails:
    the message is a row of that transaction (call it inside the change's atomic block). JSON arguments only."""
    message = OutboxMessage.objects.create(task=task[:200], args=list(args), kwargs=dict(kwargs or {}))
    # robust: whatever the publish raises, the change is committed and its request must still answer.
    transaction.on_commit(partial(outbox_publish, message_id=message.pk), robust=True)


def _publish(message: OutboxMessage) -> BaseException | None:
    """Publish ``message`` (its task's routes choose the queue); the error when the broker refused it, logged."""
    try:
        current_app.send_task(message.task, args=message.args, kwargs=message.kwargs)
    except Exception as error:  # any refusal leaves the row for the relay
        extra = {"task": message.task, "outbox_id": message.pk, "attempts": message.attempts + 1}
        if outage_of(error) is not None:
            # The broker is away: expected now and then, and the relay sends it later; no traceback.
            logger.warning("outbox: publish deferred: %s: %s", type(error).__name__, error, extra=extra)
        else:
            logger.error("outbox: publish failed", exc_info=error, extra=extra)
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=message.attempts + 1, last_error=f"{type(error).__name__}: {error}"[:300]
        )
        return error
    return None


def outbox_publish(*, message_id: int) -> bool:
    """Publish one waiting message and delete it, under its row lock; False when it is gone, taken by a relay
    at this moment, or refused by the broker (the row waits for the relay)."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
        if message is None:
            return False
        if _publish(message) is not None:
            return False
        message.delete()
    return True


def outbox_relay(*, older_than: timedelta = RELAY_AFTER, batch: int = RELAY_BATCH) -> int:
    """Publish the messages that outlived their commit by ``older_than``, oldest first, at most ``batch``; each
    published is deleted in the same transaction. Safe to run twice at once (SKIP LOCKED). Returns how many."""
    published: list[int] = []
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(created_at__lte=timezone.now() - older_than)
            .order_by("pk")[:batch]
        )
        for message in messages:
            error = _publish(message)
            if error is None:
                published.append(message.pk)
            elif outage_of(error) is not None:
                break  # the broker is away: the rest waits for the next run rather than fail one by one
        OutboxMessage.objects.filter(pk__in=published).delete()
    if published:
        logger.info("outbox: relayed %d", len(published), extra={"relayed": len(published)})
    return len(published)


def outbox_waiting(*, now: dt.datetime | None = None) -> tuple[int, float]:
    """(rows waiting, seconds the oldest has waited; 0 when none): the scrape's gauges."""
    row = OutboxMessage.objects.aggregate(waiting=Count("pk"), oldest=Min("created_at"))
    oldest = row["oldest"]
    age = 0.0 if oldest is None else max(0.0, ((now or timezone.now()) - oldest).total_seconds())
    return int(row["waiting"]), age


@contextmanager
def delivery_exclusive(key: str) -> Iterator[None]:
    """A transaction holding the advisory lock of ``key`` (e.g. ``receipt:42``): two deliveries of the same task
    run one after the other, so the second finds the sent mark the first set in it, and sends nothing."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"lingshou-delivery:{key}"])
        yield
