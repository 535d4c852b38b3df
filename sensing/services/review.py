"""Writes of sensing by a person: decisions on the events the pipeline was unsure of."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
