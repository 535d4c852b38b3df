"""Tasks run on a real Celery worker process, after the transaction that enqueued them commits."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from merchants.models import Invitation, Merchant
from merchants.services import invitation_create
from merchants.tenancy import merchant_context
from tests.worker import celery_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _sent_at(merchant: Merchant, invitation_id: int):  # type: ignore[no-untyped-def]
    with merchant_context(merchant.pk):
        return Invitation.objects.get(pk=invitation_id).sent_at


def test_an_invitation_is_mailed_by_a_worker_once(merchant: Merchant, owner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mail = tmp_path / "mail"
    env = {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(mail)}
    with celery_worker(extra_env=env) as worker:
        invitation, raw = invitation_create(
            merchant=merchant, invited_by=owner, email="New.Clerk@Example.com", role="clerk"
        )
        assert wait_for(lambda: _sent_at(merchant, invitation.pk) is not None), worker.stderr
        first_sent = _sent_at(merchant, invitation.pk)
        # A redelivered task (acks_late) finds the invitation sent and mails nothing more.
        from merchants.tasks import invitation_send

        invitation_send.delay(merchant.pk, invitation.pk, raw)
        assert wait_for(lambda: False, timeout=3) is False
    messages = [p.read_text() for p in mail.iterdir()]
    assert len(messages) == 1
    assert f"/invite/{raw}/" in messages[0]
    assert "To: new.clerk@example.com" in messages[0]
    assert _sent_at(merchant, invitation.pk) == first_sent
    assert first_sent <= timezone.now()
