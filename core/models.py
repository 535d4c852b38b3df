"""Platform tables of the ground floor: what belongs to no merchant and every process may write.

A parked task is a Celery task that failed for good (out of retries, or an error it does not retry).
An outbox message is a task written in the transaction of the change that sends it, until it is
published (core.outbox). Neither has a ``merchant`` column, so row-level security (merchants/rls.py)
leaves them alone; the ids in their arguments are the only tenant data they hold, and only the
platform operator sees them (the parked tasks' admin; the outbox only as counts in /metrics).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ParkedStatus(models.TextChoices):
    PARKED = "parked", "Parked"
    REQUEUED = "requeued", "Sent again"
    DISCARDED = "discarded", "Discarded"


class ParkedTask(models.Model):
    """One task and its arguments that failed for good: kept until the operator runs it again or discards it.

    The same task with the same arguments failing again updates its row (``times_parked``), whatever
    became of it before, so that a task run again that fails again is one row, parked again.
    """

    task = models.CharField(max_length=200)
    queue = models.CharField(max_length=100)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    # sha256 of the task's name and canonical JSON arguments: the row a repeated failure updates.
    fingerprint = models.CharField(max_length=64, unique=True)
    task_id = models.CharField(max_length=255, blank=True)
    exception_type = models.CharField(max_length=200)
    exception_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    first_failed_at = models.DateTimeField(default=timezone.now)
    last_failed_at = models.DateTimeField(default=timezone.now, db_index=True)
    times_parked = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=ParkedStatus.choices, default=ParkedStatus.PARKED)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "task"], name="parkedtask_status_task")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ParkedStatus.PARKED) | Q(resolved_at__isnull=False),
                name="parkedtask_resolved_has_a_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)} {self.exception_type} ({self.status})"


class OutboxMessage(models.Model):
    """A task to publish, written in the same transaction as the change it follows; deleted once published.

    A row that outlives its commit by a few seconds was not published (the broker was away, or the
    process died between commit and publish): core.outbox's relay publishes it.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Failed publishes, and the last one's error: what the relay ran into, for the operator.
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)} since {self.created_at:%Y-%m-%d %H:%M:%S}"
