"""Writes of the review queue's rows as the pipeline finds them: an unsure change is queued once.

A camera that loops (a recorded feed) or flickers sees the same unsure change again and again.
While the first such event still waits for a person, each repeat (same slot, kind and quantity)
counts on it (``times_seen``, ``last_seen_at``) instead of queueing another row. The count is
one UPDATE whose condition is re-read under the row lock, so a decision committed meanwhile is
seen and the repeat queues a new row instead; the partial unique constraint
``shelfevent_one_pending_per_change`` keeps a second pending row out even if two writers race.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce, Greatest

from sensing.models import ReviewStatus, ShelfEvent

ONE_PENDING = "shelfevent_one_pending_per_change"


def shelf_event_repeat(*, event: ShelfEvent) -> bool:
    """Count an unsure event on the pending one of the same slot and change; False when none waits. Atomic."""
    seen_at = Value(event.occurred_at, output_field=DateTimeField())
    return bool(
        ShelfEvent.objects.filter(
            merchant_id=event.merchant_id,
            slot_id=event.slot_id,
            kind=event.kind,
            quantity=event.quantity,
            review=ReviewStatus.PENDING,
        ).update(
            times_seen=F("times_seen") + 1,
            last_seen_at=Greatest(Coalesce(F("last_seen_at"), F("occurred_at")), seen_at),
        )
    )


def shelf_event_queue(*, event: ShelfEvent) -> bool:
    """Queue an unsure event for review, or count it on the pending one another writer just queued.

    True when ``event`` was saved as a new row; call inside the merchant's context.
    """
    for _attempt in range(3):
        try:
            with transaction.atomic():  # a savepoint: the frame's other writes survive a conflict here
                event.save()
        except IntegrityError as error:
            if ONE_PENDING not in str(error):
                raise
            event.pk = None
            # The twin that won may already be decided again when we look: then queue once more.
            if shelf_event_repeat(event=event):
                return False
        else:
            return True
    raise IntegrityError(f"Could not queue or count the shelf event of slot {event.slot_id}.")
