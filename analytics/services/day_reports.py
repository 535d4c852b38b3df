"""The end-of-day report by e-mail: each store's day goes to its owners once, after the store has closed in its
own time zone. A platform job finds the days due; each is marked once (a unique row) and mailed by a task."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from analytics.models import DayReportMail
from merchants.models import WEEKDAYS, Store
from merchants.tenancy import merchant_context, platform_access

# A marked report not sent after this long (its task was lost) is due again.
RESEND_AFTER = timedelta(minutes=15)


def closing_at(store: Store, day: dt.date) -> dt.datetime:
    """When the store closes on its local ``day``: the latest end of that weekday's opening intervals (on the
    next day when an interval passes midnight); the day's end when it does not open."""
    zone = ZoneInfo(store.timezone)
    ends = []
    for opens, closes in store.opening_hours.get(WEEKDAYS[day.weekday()], []):
        next_day = closes <= opens
        end_day = day + timedelta(days=1) if next_day else day
        ends.append(dt.datetime.combine(end_day, dt.time.fromisoformat(closes), tzinfo=zone))
    return max(ends) if ends else dt.datetime.combine(day + timedelta(days=1), dt.time.min, tzinfo=zone)


def day_reports_due(*, now: dt.datetime | None = None) -> list[tuple[int, int, dt.date]]:
    """(merchant id, store id, local day) of every active store whose day has closed and whose report is neither
    sent nor on its way; a platform job through the audited bypass, two queries."""
    now = now or timezone.now()
    with platform_access(reason="end-of-day reports due", actor="task:day_reports_mail"):
        stores = list(Store.objects.filter(is_active=True, merchant__is_active=True))
        marked = {
            (row.store_id, row.day)
            for row in DayReportMail.objects.filter(
                store__in=stores, day__gte=(now - timedelta(days=3)).date()
            ).exclude(sent_at__isnull=True, created_at__lt=now - RESEND_AFTER)
        }
    due = []
    for store in stores:
        today = now.astimezone(ZoneInfo(store.timezone)).date()
        # Yesterday's report may still be due just after midnight (a store that closes at 02:00).
        for day in (today - timedelta(days=1), today):
            if closing_at(store, day) <= now and (store.pk, day) not in marked:
                due.append((store.merchant_id, store.pk, day))
    return due


def day_report_mark(*, merchant_id: int, store_id: int, day: dt.date) -> bool:
    """Mark the store's day as on its way and enqueue its mail after commit; False when it already was (idempotent:
    the unique row); a mark left unsent past RESEND_AFTER is taken again."""
    with merchant_context(merchant_id), transaction.atomic():
        row, created = DayReportMail.objects.get_or_create(merchant_id=merchant_id, store_id=store_id, day=day)
        if not created:
            if row.sent_at is not None or row.created_at > timezone.now() - RESEND_AFTER:
                return False
            DayReportMail.objects.filter(pk=row.pk, sent_at__isnull=True).update(created_at=timezone.now())
        transaction.on_commit(lambda: _send_later(merchant_id, store_id, day))
    return True


def _send_later(merchant_id: int, store_id: int, day: dt.date) -> None:
    # The service enqueues its own app's task (imported here: tasks import this module).
    from analytics.tasks import day_report_send

    day_report_send.delay(merchant_id, store_id, day.isoformat())
