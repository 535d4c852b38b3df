"""Celery tasks of the merchants app: ids in, one service call, idempotent."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone

from core.outbox import delivery_exclusive
from merchants import zones
from merchants.models import Invitation
from merchants.services import invitation_mark_sent, platform_access_prune
from merchants.tenancy import merchant_context


@shared_task(acks_late=True, autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def invitation_send(merchant_id: int, invitation_id: int, raw_token: str) -> bool:
    """E-mail the invitation link once: the sent mark is checked and set under the invitation's delivery lock, so a
    redelivered task, or two deliveries at once (the outbox's relay), find it sent and do nothing."""
    with delivery_exclusive(f"invitation:{invitation_id}"):
        return _invitation_send(merchant_id, invitation_id, raw_token)


def _invitation_send(merchant_id: int, invitation_id: int, raw_token: str) -> bool:
    with merchant_context(merchant_id):
        invitation = (
            Invitation.objects.select_related("merchant", "invited_by")
            .filter(merchant_id=merchant_id, pk=invitation_id, sent_at__isnull=True)
            .first()
        )
    if invitation is None or invitation.status != "pending":
        return False
    context = {
        "invitation": invitation,
        "merchant": invitation.merchant,
        "url": f"{settings.SITE_URL}/invite/{raw_token}/",
    }
    with timezone.override(zones.merchant_zone(invitation.merchant)):
        message = render_to_string("accounts/invitation_email.txt", context)
    send_mail(
        subject=f"You are invited to {invitation.merchant.name} on Lingshou",
        message=message,
        from_email=None,
        recipient_list=[invitation.email],
    )
    return invitation_mark_sent(merchant=invitation.merchant, invitation_id=invitation_id)


@shared_task(acks_late=True)
def platform_access_prune_daily() -> int:
    """Drop the bypass audit rows past their retention; safe to run twice (the second finds nothing)."""
    return platform_access_prune()
