"""The end-of-day report is mailed to the owners once, after each store closes in its own time zone."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from analytics.models import DayReportMail
from analytics.services.day_reports import closing_at, day_report_mark, day_reports_due
from analytics.tasks import day_report_send
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
DAY = dt.date(2026, 12, 4)  # a Friday


def test_closing_time_is_the_days_last_close_even_past_midnight(store: Store) -> None:
    store.opening_hours = {"fri": [["07:00", "13:00"], ["15:00", "02:00"]], "sat": [["08:00", "22:00"]]}
    assert closing_at(store, DAY) == dt.datetime(2026, 12, 5, 2, 0, tzinfo=BERLIN)
    assert closing_at(store, DAY + dt.timedelta(days=1)) == dt.datetime(2026, 12, 5, 22, 0, tzinfo=BERLIN)
    # Closed on Sunday: its report comes when the day ends.
    assert closing_at(store, DAY + dt.timedelta(days=2)) == dt.datetime(2026, 12, 7, 0, 0, tzinfo=BERLIN)


def test_a_day_is_due_once_after_closing_and_mailed_once(merchant: Merchant, store: Store, owner: Any) -> None:
    # The store closes at 22:00 Berlin (the default hours).
    before = dt.datetime(2026, 12, 4, 21, 30, tzinfo=BERLIN)
    after = dt.datetime(2026, 12, 4, 22, 5, tzinfo=BERLIN)
    assert (merchant.pk, store.pk, DAY) not in day_reports_due(now=before)
    assert (merchant.pk, store.pk, DAY) in day_reports_due(now=after)

    assert day_report_mark(merchant_id=merchant.pk, store_id=store.pk, day=DAY)
    assert not day_report_mark(merchant_id=merchant.pk, store_id=store.pk, day=DAY)
    with merchant_context(merchant.pk):  # marked at 22:05 (the services stamp it with the real clock)
        DayReportMail.objects.filter(store=store).update(created_at=after)
    assert (merchant.pk, store.pk, DAY) not in day_reports_due(now=after)

    assert day_report_send(merchant.pk, store.pk, DAY.isoformat())
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert message.subject == f"{store.name}: end of day Fri 04 Dec 2026 · 0,00\xa0€"
    [(name, content, kind)] = message.attachments
    assert (name, kind) == (f"end-of-day-{store.code}-2026-12-04.pdf", "application/pdf")
    assert content[:5] == b"%PDF-"
    # Sent once: a second delivery of the task (a worker that died after sending) mails nothing.
    assert not day_report_send(merchant.pk, store.pk, DAY.isoformat())
    assert len(mail.outbox) == 1
    with merchant_context(merchant.pk):
        assert DayReportMail.objects.get(store=store, day=DAY).sent_at is not None


def test_a_mark_whose_mail_was_lost_is_due_again(merchant: Merchant, store: Store) -> None:
    assert day_report_mark(merchant_id=merchant.pk, store_id=store.pk, day=DAY)
    later = dt.datetime(2026, 12, 4, 22, 5, tzinfo=BERLIN)
    with merchant_context(merchant.pk):
        DayReportMail.objects.filter(store=store).update(created_at=later)
    assert (merchant.pk, store.pk, DAY) not in day_reports_due(now=later + dt.timedelta(minutes=5))
    assert (merchant.pk, store.pk, DAY) in day_reports_due(now=later + dt.timedelta(minutes=20))
