"""Settings of bench/analytics_worker.py's baseline worker: each fact's task applies its own fact in its own
transaction (``analytics.services.facts.fact_apply``), as the tasks did before facts were applied in batches.

The test settings, plus a receiver that gives the fact tasks that body once the worker's app is set up, before
its pool processes fork (they build their tracers, and so read ``run``, after the fork).
"""

from typing import Any

from celery.signals import worker_init

from config.settings.test import *  # noqa: F403

_KINDS = {"order_paid_apply": "order", "refund_apply": "refund", "lookup_apply": "lookup"}


@worker_init.connect
def _one_fact_per_task(**kwargs: Any) -> None:  # noqa: ARG001 - signal receivers take **kwargs
    from analytics import tasks
    from analytics.services import facts
    from merchants.models import Merchant

    def body(kind: str) -> Any:
        def run(merchant_id: int, key: int) -> bool:
            merchant = Merchant.objects.filter(pk=merchant_id).first()
            return merchant is not None and facts.fact_apply(merchant=merchant, kind=kind, key=key)

        return run

    for name, kind in _KINDS.items():
        getattr(tasks, name).run = body(kind)
