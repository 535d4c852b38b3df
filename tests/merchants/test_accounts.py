"""Sign-in, lock-out, password reset, invitations and personal tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from merchants.models import ApiToken, Invitation, Membership, Merchant, Role
from merchants.services import invitation_create, invitation_revoke
from merchants.tenancy import merchant_context
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_a_member_signs_in_and_lands_on_their_shop(merchant: Merchant, owner) -> None:  # type: ignore[no-untyped-def]
    response = Client().post("/accounts/login/", {"username": owner.username, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == f"/m/{merchant.slug}/"
    assert merchant.name in response.content.decode()


def test_a_wrong_password_is_refused_with_a_message(owner) -> None:  # type: ignore[no-untyped-def]
    response = Client().post("/accounts/login/", {"username": owner.username, "password": "wrong"})
    assert response.status_code == 200
    assert "correct" in response.content.decode()  # Django's "Please enter a correct e-mail and password"
    assert "_auth_user_id" not in Client().session


def test_a_login_flood_locks_the_account_out_even_for_the_right_password(owner) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"username": owner.username, "password": "guess"})
    response = client.post("/accounts/login/", {"username": owner.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_and_ends_the_session(owner) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(owner)
    assert client.get("/accounts/logout/").status_code == 405
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_password_reset_mails_a_link_that_sets_a_new_password(owner) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.post("/accounts/password_reset/", {"email": owner.email})
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/reset/\S+/", mail.outbox[0].body)
    assert link is not None
    path = link.group(0).split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a much better passphrase", "new_password2": "a much better passphrase"},
    )
    owner.refresh_from_db()
    assert owner.check_password("a much better passphrase")


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same() -> None:
    response = Client().post("/accounts/password_reset/", {"email": "nobody@example.com"}, follow=True)
    assert "Check your e-mail" in response.content.decode()
    assert mail.outbox == []


def _invite(
    merchant: Merchant, owner, email: str = "new@example.com", role: str = Role.CLERK
) -> tuple[Invitation, str]:  # type: ignore[no-untyped-def]
    return invitation_create(merchant=merchant, invited_by=owner, email=email, role=role)


def test_the_owner_invites_by_email_and_the_recipient_signs_up_and_joins(
    merchant: Merchant, owner, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(owner)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(f"/m/{merchant.slug}/staff/invite/", {"email": "new@example.com", "role": "manager"})
    assert len(callbacks) == 1  # the e-mail goes out through Celery after commit
    with merchant_context(merchant.pk):
        invitation = Invitation.objects.get(email="new@example.com")
    assert invitation.role == Role.MANAGER

    invitation, raw = _invite(merchant, owner, email="second@example.com")
    newcomer = Client()
    page = newcomer.get(f"/invite/{raw}/")
    assert merchant.name in page.content.decode()
    response = newcomer.post(
        f"/invite/{raw}/", {"first_name": "Mia", "password1": "shelves and tills", "password2": "shelves and tills"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/m/{merchant.slug}/"
    user = get_user_model().objects.get(email="second@example.com")
    with merchant_context(merchant.pk):
        assert Membership.objects.get(user=user).role == Role.CLERK
    assert newcomer.get(f"/m/{merchant.slug}/").status_code == 200


def test_a_used_invitation_cannot_be_used_again(merchant: Merchant, owner) -> None:  # type: ignore[no-untyped-def]
    _invitation, raw = _invite(merchant, owner)
    Client().post(
        f"/invite/{raw}/", {"first_name": "A", "password1": "shelves and tills", "password2": "shelves and tills"}
    )
    users_before = get_user_model().objects.count()
    response = Client().post(
        f"/invite/{raw}/", {"first_name": "B", "password1": "shelves and tills", "password2": "shelves and tills"}
    )
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert get_user_model().objects.count() == users_before


def test_an_expired_invitation_is_refused_and_changes_nothing(merchant: Merchant, owner) -> None:  # type: ignore[no-untyped-def]
    invitation, raw = _invite(merchant, owner)
    with merchant_context(merchant.pk):
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    users_before = get_user_model().objects.count()
    response = Client().post(
        f"/invite/{raw}/", {"first_name": "A", "password1": "shelves and tills", "password2": "shelves and tills"}
    )
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert get_user_model().objects.count() == users_before


def test_a_withdrawn_invitation_is_refused(merchant: Merchant, owner) -> None:  # type: ignore[no-untyped-def]
    invitation, raw = _invite(merchant, owner)
    invitation_revoke(merchant=merchant, invitation_id=invitation.pk)
    assert Client().get(f"/invite/{raw}/").status_code == 410


def test_an_unknown_invitation_link_is_404_with_a_message() -> None:
    response = Client().get("/invite/inv_not-a-real-token/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_an_invitation_for_someone_else_is_refused_to_a_signed_in_user(merchant: Merchant, owner, outsider) -> None:  # type: ignore[no-untyped-def]
    _invitation, raw = _invite(merchant, owner, email="someone@example.com")
    client = Client()
    client.force_login(outsider)
    assert client.post(f"/invite/{raw}/").status_code == 403
    with merchant_context(merchant.pk):
        assert not Membership.objects.filter(user=outsider).exists()


def test_an_existing_user_signs_in_and_accepts(merchant: Merchant, owner) -> None:  # type: ignore[no-untyped-def]
    existing = UserFactory(username="known@example.com")
    _invitation, raw = _invite(merchant, owner, email="known@example.com")
    client = Client()
    assert client.post(f"/invite/{raw}/")["Location"].startswith("/accounts/login/")
    client.force_login(existing)
    client.post(f"/invite/{raw}/")
    with merchant_context(merchant.pk):
        assert Membership.objects.filter(user=existing, role=Role.CLERK).exists()


def test_inviting_someone_already_on_the_staff_is_refused(merchant: Merchant, owner, clerk) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(owner)
    response = client.post(f"/m/{merchant.slug}/staff/invite/", {"email": clerk.email, "role": "clerk"})
    assert response.status_code == 400
    assert "already on the staff" in response.content.decode()
    with merchant_context(merchant.pk):
        assert not Invitation.objects.exists()


def test_a_personal_token_is_shown_once_and_stored_hashed(owner) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(owner)
    response = client.post("/account/tokens/", {"name": "export script"})
    raw = response.context["new_token"]
    token = ApiToken.objects.get(user=owner)
    assert raw.startswith("lsk_")
    assert token.token_hash != raw
    assert raw not in client.get("/account/tokens/").content.decode()
    client.post(f"/account/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_revokes_another_users_token(owner, outsider) -> None:  # type: ignore[no-untyped-def]
    from merchants.services import api_token_create

    token, _raw = api_token_create(user=owner, name="mine")
    client = Client()
    client.force_login(outsider)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_user_without_a_shop_is_told_so(outsider) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(outsider)
    assert "not on the staff of any shop" in client.get("/").content.decode()
