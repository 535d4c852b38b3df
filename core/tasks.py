"""Celery tasks of the ground floor: the outbox's relay."""

from __future__ import annotations

from celery import shared_task

from core import outbox


@shared_task(acks_late=True, reject_on_worker_lost=True)
def outbox_relay() -> int:
    """Publish the outbox messages whose own publish after commit never happened, a batch a run; safe to run twice
    at once (SKIP LOCKED). Returns how many were published."""
    return outbox.outbox_relay()
