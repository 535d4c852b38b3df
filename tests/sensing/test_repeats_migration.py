"""The migration that queues a repeated unsure change once merges the repeats an installation already holds."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from merchants.tenancy import merchant_context, platform_access
from sensing.models import ReviewStatus, ShelfEvent, Slot
from tests.sensing.conftest import Registered

pytestmark = pytest.mark.django_db

MERGE = importlib.import_module("sensing.migrations.0002_shelf_event_repeats").MERGE


def test_pending_repeats_merge_into_the_oldest_which_counts_them(
    registered: Registered, other_registered: Registered
) -> None:
    # As before the constraint: the same pending change stored three times (this transaction only).
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX shelfevent_one_pending_per_change")
    start = timezone.now() - timedelta(hours=1)
    rows = []
    for reg, key, minutes, review in [
        (registered, "s1", 0, ReviewStatus.PENDING),
        (registered, "s1", 20, ReviewStatus.PENDING),
        (registered, "s1", 10, ReviewStatus.PENDING),
        (registered, "s1", 30, ReviewStatus.CONFIRMED),  # decided: not a repeat of a waiting one
        (registered, "s2", 5, ReviewStatus.PENDING),
        (other_registered, "s1", 0, ReviewStatus.PENDING),  # another merchant's own change
    ]:
        camera = reg.camera
        with merchant_context(camera.merchant_id):
            event = ShelfEvent.objects.create(
                merchant_id=camera.merchant_id, camera=camera, slot=Slot.objects.get(camera=camera, key=key),
                sequence=minutes, kind="take", quantity=1, confidence=0.4,
                occurred_at=start + timedelta(minutes=minutes), review=review,
            )  # fmt: skip
        rows.append(event)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.rls_bypass', 'on', true)")
        cursor.execute(MERGE)
        cursor.execute("SELECT set_config('app.rls_bypass', '', true)")
    with platform_access(reason="test: merged events", actor="test"):
        left = {e.pk: (e.review, e.times_seen, e.last_seen_at) for e in ShelfEvent.objects.all()}
    assert left == {
        rows[0].pk: (ReviewStatus.PENDING, 3, start + timedelta(minutes=20)),
        rows[3].pk: (ReviewStatus.CONFIRMED, 1, None),
        rows[4].pk: (ReviewStatus.PENDING, 1, None),
        rows[5].pk: (ReviewStatus.PENDING, 1, None),
    }
