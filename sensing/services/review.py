"""Writes of sensing by a person: decisions on the events the pipeline was unsure of."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone

from merchants.models import Merchant
from merchants.tenancy import merchant_context
from sensing.models import (
    ReviewStatus,
    ShelfEvent,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def shelf_event_review(*, merchant: Merchant, event_id: int, user: User, is_confirmed: bool) -> ShelfEvent:
    """Confirm or reject an event from the review queue; idempotent (the first decision stands). Atomic, scoped."""
    with merchant_context(merchant.pk):
        event = ShelfEvent.objects.for_merchant(merchant).select_for_update().get(pk=event_id)
        if event.review == ReviewStatus.PENDING:
            event.review = ReviewStatus.CONFIRMED if is_confirmed else ReviewStatus.REJECTED
            event.reviewed_by = user
            event.reviewed_at = timezone.now()
            event.save(update_fields=["review", "reviewed_by", "reviewed_at"])
    return event


# A page of the review queue shows at most 100; a bulk decision takes no more than that at once.
BULK_MAX = 100


def shelf_events_review(*, merchant: Merchant, event_ids: list[int], user: User, is_confirmed: bool) -> int:
    """Confirm or reject several events of the review queue at once: all of them or none. Atomic, scoped.

    An id that is not one of the merchant's events raises ShelfEvent.DoesNotExist; an event a
    person already decided the other way raises ValidationError; in both cases nothing changes.
    An event already decided the same way (a double submit) counts as done. Returns how many
    events this call decided.
    """
    wanted = set(event_ids)
    if not wanted:
        raise ValidationError("Select at least one event.")
    if len(wanted) > BULK_MAX:
        raise ValidationError(f"Decide at most {BULK_MAX} events at once.")
    decision = ReviewStatus.CONFIRMED if is_confirmed else ReviewStatus.REJECTED
    with merchant_context(merchant.pk):
        # Locked in id order, as every bulk decision locks them, so two of them cannot deadlock.
        events = list(
            ShelfEvent.objects.for_merchant(merchant).select_for_update().filter(pk__in=wanted).order_by("pk")
        )
        if len(events) != len(wanted):
            raise ShelfEvent.DoesNotExist("No such event.")
        # Accepted events never waited for a person; decided ones keep their first decision.
        clashing = [e for e in events if e.review not in (ReviewStatus.PENDING, decision)]
        if clashing:
            raise ValidationError(
                f"{len(clashing)} of the selected events {'was' if len(clashing) == 1 else 'were'} already decided "
                "otherwise (or never needed a review); nothing was changed. The queue shows what still waits."
            )
        pending = [e.pk for e in events if e.review == ReviewStatus.PENDING]
        return ShelfEvent.objects.filter(pk__in=pending).update(
            review=decision, reviewed_by=user, reviewed_at=timezone.now()
        )
