"""The platform operator's view of parked tasks: run one again, or discard it.

Registered as a plain admin: merchants.admin_sealing's ``platform_only_seal`` makes every admin
that is not wholesaler-scoped the operator's alone, so a wholesaler's staff never sees this one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.models import ParkedStatus, ParkedTask
from core.parking import parked_task_discard, parked_task_run_again


@admin.register(ParkedTask)
class ParkedTaskAdmin(admin.ModelAdmin):
    """Read only; the two actions are the only writes, each a compare-and-swap on the row's status."""

    list_display = ["task", "args", "exception_type", "times_parked", "last_failed_at", "status", "queue"]
    list_filter = ["status", "task", "queue"]
    search_fields = ["task", "exception_type", "exception_message"]
    ordering = ["-last_failed_at"]
    actions = ["run_again", "discard"]
    readonly_fields = [field.name for field in ParkedTask._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False

    def _actor(self, request: HttpRequest) -> str:
        return f"user:{request.user.pk}"

    @admin.action(description="Run again with the same arguments", permissions=["change"])
    def run_again(self, request: HttpRequest, queryset: QuerySet[ParkedTask]) -> None:
        sent = 0
        for parked_id in queryset.filter(status=ParkedStatus.PARKED).values_list("pk", flat=True):
            try:
                sent += parked_task_run_again(parked_id=parked_id, by=self._actor(request))
            except Exception:  # noqa: BLE001 - the broker's error is told to the operator; the row stays parked
                self.message_user(request, "The broker did not take the task: it stays parked.", messages.ERROR)
                break
        skipped = queryset.count() - sent
        self.message_user(request, f"Sent again: {sent}. Not parked, left alone: {max(skipped, 0)}.")

    @admin.action(description="Discard", permissions=["change"])
    def discard(self, request: HttpRequest, queryset: QuerySet[ParkedTask]) -> None:
        discarded = sum(
            parked_task_discard(parked_id=parked_id, by=self._actor(request))
            for parked_id in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"Discarded: {discarded}. Not parked, left alone: {queryset.count() - discarded}.")
