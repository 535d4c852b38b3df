"""Celery tasks of analytics: each fact applied to the rollups once, and a sweep for facts whose task was lost.

Enqueued by name (``analytics.tasks.<fact>_apply``) after commit by the service that owns the
write, so no app imports analytics. All are idempotent (``analytics.services.facts``), so they
are ``acks_late`` and come back when their worker dies; a deadlock or a dropped connection rolls
the fact back and the task is retried.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from analytics.services import facts
from merchants.models import Merchant

_RETRIED: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "max_retries": 10,
}


def _apply(merchant_id: int, kind: str, key: int) -> bool:
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        return False
    return facts.fact_apply(merchant=merchant, kind=kind, key=key)


@shared_task(**_RETRIED)
def order_paid_apply(merchant_id: int, order_id: int) -> bool:
    """Add a paid order (phone or counter) to the rollups once; idempotent, scoped to the merchant."""
    return _apply(merchant_id, "order", order_id)


@shared_task(**_RETRIED)
def refund_apply(merchant_id: int, refund_id: int) -> bool:
    """Add a refund, shared over the lines it refunds, to the rollups once; idempotent, scoped."""
    return _apply(merchant_id, "refund", refund_id)


@shared_task(**_RETRIED)
def lookup_apply(merchant_id: int, lookup_id: int) -> bool:
    """Count a shopper's price lookup once; idempotent, scoped."""
    return _apply(merchant_id, "lookup", lookup_id)


@shared_task(**_RETRIED)
def shelf_empty_apply(merchant_id: int, period_id: int) -> bool:
    """Add a closed shelf-empty period's minutes to its days once; idempotent, scoped."""
    return _apply(merchant_id, "shelf_empty", period_id)


@shared_task(**_RETRIED)
def stockout_apply(merchant_id: int, movement_id: int) -> bool:
    """Add the minutes at zero that the movement ended to their days once; idempotent, scoped."""
    return _apply(merchant_id, "stockout", movement_id)


@shared_task(**_RETRIED)
def facts_sweep() -> int:
    """Apply the last hours' facts that no task applied (a lost enqueue), at most a batch a run; idempotent."""
    return facts.facts_sweep()
