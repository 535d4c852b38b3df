"""Platform tables of the ground floor: what belongs to no merchant and every process may write.

A parked task is a Celery task that failed for good (out of retries, or an error it does not retry).
It has no ``merchant`` column, so row-level security (merchants/rls.py) leaves it alone; the ids in
its arguments are the only tenant data it holds, and only the platform operator's admin shows it.
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
