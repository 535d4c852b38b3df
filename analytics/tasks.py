"""Celery tasks of analytics: facts applied to the rollups once, in batches, and a sweep for facts whose task was lost.

Enqueued by name (``analytics.tasks.<fact>_apply``) after commit by the service that owns the
write, so no app imports analytics. A fact's task records it as pending and enqueues the
merchant's ``facts_drain`` unless one is queued already; the drain applies the merchant's pending
facts many per transaction (``analytics.services.batches``), so a backlog costs a statement per
grain and batch rather than per fact. All are idempotent, so they are ``acks_late`` and come back
when their worker dies; a deadlock or a dropped connection rolls the batch back and the task is retried.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.db import IntegrityError, InterfaceError, OperationalError

from analytics.services import batches, facts
from analytics.services.rebuild import rollups_rebuild
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

# A pending fact older than this has lost its drain (a worker killed outright returns its message only after
# the broker's visibility timeout): the sweep drains its merchant.
PENDING_STALE = timedelta(minutes=5)

_RETRIED: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "max_retries": 10,
}


def _pend(merchant_id: int, kind: str, key: int) -> bool:
    try:
        marked = batches.fact_pend(merchant_id=merchant_id, kind=kind, key=key)
    except IntegrityError:
        return False  # the merchant is gone (closed), and its facts with it
    if marked:
        facts_drain.delay(merchant_id)
    return True


@shared_task(**_RETRIED)
def order_paid_apply(merchant_id: int, order_id: int) -> bool:
    """Have a paid order (phone or counter) added to the rollups once, with the merchant's next batch; idempotent,
    scoped to the merchant."""
    return _pend(merchant_id, "order", order_id)


@shared_task(**_RETRIED)
def refund_apply(merchant_id: int, refund_id: int) -> bool:
    """Have a refund, shared over the lines it refunds, added to the rollups once, in a batch; idempotent, scoped."""
    return _pend(merchant_id, "refund", refund_id)


@shared_task(**_RETRIED)
def lookup_apply(merchant_id: int, lookup_id: int) -> bool:
    """Have a shopper's price lookup counted once, in a batch; idempotent, scoped."""
    return _pend(merchant_id, "lookup", lookup_id)


@shared_task(**_RETRIED)
def shelf_empty_apply(merchant_id: int, period_id: int) -> bool:
    """Have a closed shelf-empty period's minutes added to its days once, in a batch; idempotent, scoped."""
    return _pend(merchant_id, "shelf_empty", period_id)


@shared_task(**_RETRIED)
def stockout_apply(merchant_id: int, movement_id: int) -> bool:
    """Have the minutes at zero that the movement ended added to their days once, in a batch; idempotent, scoped."""
    return _pend(merchant_id, "stockout", movement_id)


@shared_task(**_RETRIED)
def facts_drain(merchant_id: int) -> int:
    """Apply a batch of the merchant's pending facts, each exactly once, in one transaction; idempotent, scoped.
    A full batch enqueues the next drain (behind other merchants' work). Returns the facts applied."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        return 0
    drained = batches.facts_drain(merchant=merchant)
    if drained.taken >= batches.BATCH_FACTS and batches.facts_due_mark(merchant=merchant):
        facts_drain.delay(merchant_id)
    return drained.applied


@shared_task(**_RETRIED)
def store_rollups_rebuild(merchant_id: int, store_id: int) -> int:
    """Recompute all of a store's rollups in its time zone as it is now (after the owner changed it); idempotent,
    scoped to the merchant, exclusive with fact application on the store. Returns the facts applied (0: no store)."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        return 0
    with merchant_context(merchant_id):
        store = Store.objects.for_merchant(merchant).filter(pk=store_id).first()
    if store is None:
        return 0
    return rollups_rebuild(merchant=merchant, store=store).facts


@shared_task(**_RETRIED)
def facts_sweep() -> int:
    """Drain the merchants whose drain was lost, then apply the last hours' facts that no task recorded (a lost
    enqueue), at most a batch a run; idempotent. Returns the facts applied."""
    applied = 0
    for merchant in Merchant.objects.filter(pk__in=batches.pending_stale(older_than=PENDING_STALE)):
        applied += batches.facts_drain(merchant=merchant).applied
    return applied + facts.facts_sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def day_reports_mail() -> int:
    """Mark every store day that has closed and has no report yet, each enqueuing its mail; idempotent."""
    from analytics.services.day_reports import day_report_mark, day_reports_due

    return sum(
        day_report_mark(merchant_id=merchant_id, store_id=store_id, day=day)
        for merchant_id, store_id, day in day_reports_due()
    )


@shared_task(**_RETRIED)
def day_report_send(merchant_id: int, store_id: int, day: str) -> bool:
    """Mail the store's end-of-day report (PDF attached) to the merchant's owners once; scoped, compare-and-swap on
    its mark (a mail already sent is not sent again)."""
    import datetime as dt

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.mail import EmailMessage
    from django.utils import timezone

    from analytics.models import DayReportMail
    from analytics.pdf import day_report_pdf
    from analytics.selectors.day_report import day_report
    from core.money import format_amount
    from merchants.models import Membership, Role

    local_day = dt.date.fromisoformat(day)
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        return False
    with merchant_context(merchant_id):
        mark = DayReportMail.objects.filter(store_id=store_id, day=local_day, sent_at__isnull=True).first()
        store = Store.objects.filter(pk=store_id).first()
        if mark is None or store is None:
            return False
        owners = list(Membership.objects.filter(role=Role.OWNER).values_list("user_id", flat=True))
    emails = sorted(
        set(
            get_user_model()
            .objects.filter(pk__in=owners, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
    report = day_report(merchant=merchant, store=store, day=local_day)
    if emails:
        message = EmailMessage(
            subject=f"{store.name}: end of day {local_day:%a %d %b %Y} · {format_amount(report.taken, store.currency)}",
            body=(
                f"{store.name} took {format_amount(report.taken, store.currency)} in {report.sales} sales on "
                f"{local_day:%A %d %B %Y}; refunds {format_amount(report.refunded, store.currency)}. "
                f"The report is attached; it is also under Analytics → End of day.\n\n{settings.SITE_URL}\n"
            ),
            to=emails,
        )
        message.attach(f"end-of-day-{store.code}-{local_day:%Y-%m-%d}.pdf", day_report_pdf(report), "application/pdf")
        message.send()
    with merchant_context(merchant_id):
        DayReportMail.objects.filter(pk=mark.pk, sent_at__isnull=True).update(sent_at=timezone.now())
    return bool(emails)
