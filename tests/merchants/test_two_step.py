"""Two-step sign-in: enrolment, the code after the password, recovery codes, the lock-out, the owner's rule,
the platform operator and the admin, the audit log, and one shop's owner against another shop."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import AccountEvent, AccountEventKind, Merchant, Role, WholesalerStaff
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    UserFactory,
    signed_in_two_step,
    totp_code,
    two_step_on,
)

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CODE = "/accounts/login/code/"
ENROL = "/account/two-step/enrol/"


@pytest.fixture(autouse=True)
def _no_wait_between_codes(settings: Any) -> None:
    # django-otp makes a device wait 1 s, 2 s, 4 s ... after each wrong code; tests that type a right code
    # right after a wrong one would otherwise sleep. The wait has its own test below.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def _password(client: Client, user: Any, *, next_url: str = "") -> Any:
    data = {"username": user.username, "password": PASSWORD}
    return client.post(f"{LOGIN}?next={next_url}" if next_url else LOGIN, data)


def _is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _events(user: Any) -> list[str]:
    return list(AccountEvent.objects.filter(user=user).order_by("pk").values_list("kind", flat=True))


def _codes_shown(response: Any) -> list[str]:
    """The recovery codes in the page's shown-once box."""
    match = re.search(r'<code id="new-token">([^<]*)</code>', response.content.decode())
    assert match is not None
    return match.group(1).split()


def _enrol(client: Client, user: Any) -> list[str]:
    """Set up the app through the pages; returns the recovery codes shown."""
    page = client.get(ENROL)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(ENROL, {"code": totp_code(device)})
    assert response.status_code == 200
    return _codes_shown(response)


# --- enrolment ---------------------------------------------------------------------------------------------


def test_an_owner_enrols_with_a_qr_code_and_a_code_and_sees_ten_recovery_codes_once(
    merchant: Merchant, owner: Any
) -> None:
    client = Client()
    client.force_login(owner)
    page = client.get(ENROL)
    body = page.content.decode()
    device = TOTPDevice.objects.get(user=owner)
    assert device.confirmed is False
    # Drawn in the page, without a script or a style attribute the CSP would block.
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert "<path" in svg
    assert "style=" not in svg
    assert "<script>" not in body
    assert "otpauth" not in body  # the URI is in the QR code, not in the page's text
    assert device.config_url.startswith("otpauth://totp/Lingshou%3Aowner%40example.com?secret=")
    # A reload shows the same key: the app that scanned it first still works.
    secret = re.search(r'<code id="two-step-secret">([A-Z2-7 ]+)</code>', body)
    assert secret is not None
    assert secret.group(1) in client.get(ENROL).content.decode()
    assert TOTPDevice.objects.filter(user=owner).count() == 1

    wrong = client.post(ENROL, {"code": "000000" if totp_code(device) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is False

    response = client.post(ENROL, {"code": totp_code(device)})
    codes = _codes_shown(response)
    assert (response.status_code, len(set(codes))) == (200, 10)
    assert all(re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}", code) for code in codes)
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is True
    assert StaticToken.objects.filter(device__user=owner).count() == 10
    assert _events(owner) == [AccountEventKind.TWO_STEP_ON]
    # Shown once: the two-step page now says how many are left, and shows none of them.
    status = client.get("/account/two-step/").content.decode()
    assert "10 unused recovery codes" in status
    assert not any(code in status for code in codes)
    # The session that enrolled has passed the second step: the dashboard opens.
    assert client.get(f"/m/{merchant.slug}/").status_code == 200


def test_a_code_that_is_not_a_code_is_refused_with_a_message_and_changes_nothing(owner: Any) -> None:
    client = Client()
    client.force_login(owner)
    client.get(ENROL)
    for junk in ("", "12345", "1234567", "abc\x00def", "x" * 5000, "１２３４５６"):
        response = client.post(ENROL, {"code": junk})
        assert response.status_code == 400, junk
        assert 'class="errorlist' in response.content.decode()
    assert not TOTPDevice.objects.filter(user=owner, confirmed=True).exists()
    assert _events(owner) == []


# --- signing in --------------------------------------------------------------------------------------------


def test_without_two_step_the_password_signs_in_as_before(owner: Any) -> None:
    client = Client()
    response = _password(client, owner)
    assert (response.status_code, response["Location"]) == (302, "/")
    assert _is_signed_in(client)


def test_with_two_step_the_password_alone_does_not_sign_in_and_the_code_does(merchant: Merchant, owner: Any) -> None:
    device = two_step_on(owner)
    client = Client()
    response = _password(client, owner, next_url=f"/m/{merchant.slug}/staff/")
    assert (response.status_code, response["Location"]) == (302, CODE)
    assert not _is_signed_in(client)
    assert client.get(f"/m/{merchant.slug}/").status_code == 302  # still signed out
    assert 'autocomplete="one-time-code"' in client.get(CODE).content.decode()

    response = client.post(CODE, {"code": totp_code(device)})
    assert (response.status_code, response["Location"]) == (302, f"/m/{merchant.slug}/staff/")
    assert _is_signed_in(client)
    assert client.get(f"/m/{merchant.slug}/staff/").status_code == 200


def test_the_code_page_without_the_password_step_sends_back_to_the_password(owner: Any) -> None:
    device = two_step_on(owner)
    client = Client()
    response = client.post(CODE, {"code": totp_code(device)})
    assert (response.status_code, response["Location"]) == (302, LOGIN)
    assert not _is_signed_in(client)


def test_the_password_step_is_remembered_only_for_a_few_minutes(settings: Any, owner: Any) -> None:
    device = two_step_on(owner)
    client = Client()
    _password(client, owner)
    settings.TWO_STEP_PENDING_SECONDS = 0  # as if the five minutes had passed
    response = client.post(CODE, {"code": totp_code(device)})
    assert (response.status_code, response["Location"]) == (302, LOGIN)
    assert not _is_signed_in(client)


def test_a_code_is_good_once(owner: Any) -> None:
    device = two_step_on(owner)
    code = totp_code(device)
    first = Client()
    _password(first, owner)
    assert first.post(CODE, {"code": code}).status_code == 302
    second = Client()
    _password(second, owner)
    response = second.post(CODE, {"code": code})
    assert response.status_code == 400
    assert not _is_signed_in(second)


def test_a_session_that_never_passed_its_second_step_is_signed_out(merchant: Merchant, owner: Any) -> None:
    two_step_on(owner)
    client = Client()
    client.force_login(owner)  # a session made without the code (as no page of the site makes one)
    response = client.get(f"/m/{merchant.slug}/")
    assert (response.status_code, response["Location"]) == (302, f"{LOGIN}?next=/m/{merchant.slug}/")
    assert not _is_signed_in(client)


# --- lock-out and the device's wait ------------------------------------------------------------------------


def test_five_wrong_codes_lock_the_sign_in_out_even_for_the_right_code_and_password(owner: Any) -> None:
    device = two_step_on(owner)
    client = Client()
    _password(client, owner)
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    statuses = [client.post(CODE, {"code": wrong}).status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    assert client.post(CODE, {"code": totp_code(device)}).status_code == 302  # back to the password step
    locked = _password(client, owner)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert not _is_signed_in(client)


def test_wrong_passwords_and_wrong_codes_count_together(owner: Any) -> None:
    device = two_step_on(owner)
    client = Client()
    for _ in range(3):
        client.post(LOGIN, {"username": owner.username, "password": "guess"})
    _password(client, owner)
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    assert [client.post(CODE, {"code": wrong}).status_code for _ in range(2)] == [400, 429]


def test_after_a_wrong_code_the_device_makes_the_next_try_wait(settings: Any, owner: Any) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device = two_step_on(owner)
    client = Client()
    _password(client, owner)
    client.post(CODE, {"code": "000000" if totp_code(device) != "000000" else "111111"})
    response = client.post(CODE, {"code": totp_code(device)})
    assert response.status_code == 400
    assert "Wait 6" in response.content.decode()  # 60 s, less the test's run
    assert not _is_signed_in(client)


# --- recovery codes ----------------------------------------------------------------------------------------


def test_a_recovery_code_signs_in_once_and_is_audited(owner: Any) -> None:
    client = Client()
    client.force_login(owner)
    codes = _enrol(client, owner)
    client.post("/accounts/logout/")

    _password(client, owner)
    response = client.post(CODE, {"code": codes[0].upper().replace("-", " ")}, follow=True)
    assert _is_signed_in(client)
    assert "You signed in with a recovery code; 9 left." in response.content.decode()
    assert _events(owner) == [AccountEventKind.TWO_STEP_ON, AccountEventKind.RECOVERY_CODE_USED]
    assert AccountEvent.objects.filter(user=owner).latest("pk").detail == "9 recovery codes left"
    client.post("/accounts/logout/")

    _password(client, owner)
    assert client.post(CODE, {"code": codes[0]}).status_code == 400
    assert not _is_signed_in(client)
    assert client.post(CODE, {"code": codes[1]}).status_code == 302


def test_new_recovery_codes_need_a_code_and_replace_the_old(owner: Any) -> None:
    client = Client()
    client.force_login(owner)
    old = _enrol(client, owner)
    device = TOTPDevice.objects.get(user=owner)
    refused = client.post("/account/two-step/recovery-codes/", {"code": "000000"})
    assert refused.status_code == 400
    assert StaticToken.objects.filter(device__user=owner).count() == 10
    response = client.post("/account/two-step/recovery-codes/", {"code": totp_code(device, steps_ahead=1)})
    new = _codes_shown(response)
    assert (response.status_code, len(new), set(new) & set(old)) == (200, 10, set())
    assert sorted(StaticToken.objects.filter(device__user=owner).values_list("token", flat=True)) == sorted(
        code.replace("-", "") for code in new
    )
    assert _events(owner)[-1] == AccountEventKind.RECOVERY_CODES_RENEWED


# --- turning it off ----------------------------------------------------------------------------------------


def test_turning_it_off_needs_a_right_code(owner: Any) -> None:
    client = signed_in_two_step(owner)
    device = TOTPDevice.objects.get(user=owner)
    refused = client.post("/account/two-step/off/", {"code": "000000" if totp_code(device) != "000000" else "111111"})
    assert refused.status_code == 400
    assert TOTPDevice.objects.filter(user=owner).exists()
    response = client.post("/account/two-step/off/", {"code": totp_code(device)})
    assert (response.status_code, response["Location"]) == (302, "/account/two-step/")
    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert not StaticDevice.objects.filter(user=owner).exists()
    assert _events(owner) == [AccountEventKind.TWO_STEP_OFF]
    # And the next sign-in is the password alone.
    again = Client()
    assert _password(again, owner)["Location"] == "/"
    assert _is_signed_in(again)


# --- the owner's rule --------------------------------------------------------------------------------------


def _require(client: Client, merchant: Merchant, required: bool = True) -> Any:
    data = {"staff_two_step_required": "on"} if required else {}
    return client.post(f"/m/{merchant.slug}/staff/two-step/", data, follow=True)


def _is_required(merchant: Merchant) -> bool:
    return Merchant.objects.get(pk=merchant.pk).staff_two_step_required


def test_an_owner_without_two_step_cannot_require_it_of_others(merchant: Merchant, owner: Any) -> None:
    client = Client()
    client.force_login(owner)
    response = _require(client, merchant)
    assert "Turn on two-step sign-in for your own account first" in response.content.decode()
    assert _is_required(merchant) is False
    assert _events(owner) == []


def test_the_owners_rule_sends_staff_without_it_to_enrol_and_nowhere_else(
    merchant: Merchant, owner: Any, clerk: Any
) -> None:
    response = _require(signed_in_two_step(owner), merchant)
    assert "Two-step sign-in is now required" in response.content.decode()
    assert _is_required(merchant) is True
    assert _events(owner) == [AccountEventKind.STAFF_TWO_STEP_REQUIRED]

    client = Client()
    response = _password(client, clerk)
    assert _is_signed_in(client)
    assert client.get("/")["Location"] == ENROL
    for path in (f"/m/{merchant.slug}/", f"/m/{merchant.slug}/staff/", "/account/tokens/", "/admin/"):
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, ENROL), path
    api = client.get(f"/api/v1/merchants/{merchant.pk}/stores/")
    assert (api.status_code, api.json()["error"]["code"]) == (403, "two_step_required")
    page = client.get(ENROL).content.decode()
    assert f"{merchant.name} requires two-step sign-in of all its staff." in page

    _enrol(client, clerk)
    assert client.get(f"/m/{merchant.slug}/").status_code == 200
    # The rule holds it on: the clerk cannot turn it off.
    device = TOTPDevice.objects.get(user=clerk)
    refused = client.post("/account/two-step/off/", {"code": totp_code(device, steps_ahead=1)})
    assert refused.status_code == 400
    assert "It cannot be turned off: Kiosk Lindenstraße requires" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=clerk, confirmed=True).exists()


def _two_step_cell(page: str, email: str) -> str:
    match = re.search(rf"<td>{re.escape(email)}</td>\s*<td>.*?</td>\s*<td>(.*?)</td>", page, re.S)
    assert match is not None, email
    return match.group(1).strip()


def test_staff_page_shows_who_has_two_step_and_only_the_owner_changes_the_rule(
    merchant: Merchant, owner: Any, clerk: Any
) -> None:
    owner_client = signed_in_two_step(owner)
    page = owner_client.get(f"/m/{merchant.slug}/staff/").content.decode()
    assert 'id="staff-two-step"' in page
    assert _two_step_cell(page, "owner@example.com") == '<span class="badge badge-success">on</span>'
    assert _two_step_cell(page, "clerk@example.com") == '<span class="badge badge-neutral">off</span>'

    clerk_client = Client()
    clerk_client.force_login(clerk)
    assert 'id="staff-two-step"' not in clerk_client.get(f"/m/{merchant.slug}/staff/").content.decode()
    assert (
        clerk_client.post(f"/m/{merchant.slug}/staff/two-step/", {"staff_two_step_required": "on"}).status_code == 403
    )
    assert _is_required(merchant) is False


def test_an_owner_cannot_require_it_of_another_shop_nor_see_its_staff(
    merchant: Merchant, other_merchant: Merchant, owner: Any, other_owner: Any
) -> None:
    two_step_on(other_owner)
    outsider = MembershipFactory(
        merchant=other_merchant, role=Role.CLERK, user__username="their-clerk@example.com"
    ).user
    client = signed_in_two_step(owner)
    response = client.post(f"/m/{other_merchant.slug}/staff/two-step/", {"staff_two_step_required": "on"})
    assert response.status_code == 404
    assert _is_required(other_merchant) is False
    assert client.get(f"/m/{other_merchant.slug}/staff/").status_code == 404
    page = client.get(f"/m/{merchant.slug}/staff/").content.decode()
    assert "other-owner@example.com" not in page
    assert outsider.username not in page
    assert AccountEvent.objects.count() == 0


def test_the_rule_of_one_shop_does_not_reach_the_staff_of_another(
    merchant: Merchant, other_merchant: Merchant, owner: Any, other_owner: Any
) -> None:
    _require(signed_in_two_step(owner), merchant)
    client = Client()
    _password(client, other_owner)
    assert client.get(f"/m/{other_merchant.slug}/").status_code == 200


# --- the platform operator and the admin -------------------------------------------------------------------


@pytest.fixture
def operator() -> Any:
    return UserFactory(username="ops@lingshou.example", is_staff=True, is_superuser=True)


def test_the_operator_without_a_device_is_sent_to_enrol_before_the_admin(operator: Any) -> None:
    client = Client()
    _password(client, operator, next_url="/admin/")
    response = client.get("/admin/")
    assert (response.status_code, response["Location"]) == (302, ENROL)
    assert client.get("/admin/merchants/merchant/")["Location"] == ENROL
    assert "Platform operators always sign in with a second step." in client.get(ENROL).content.decode()
    _enrol(client, operator)
    assert client.get("/admin/").status_code == 200


def test_the_admins_sign_in_is_the_sites_two_steps(operator: Any) -> None:
    device = two_step_on(operator)
    client = Client()
    response = client.get("/admin/login/?next=/admin/merchants/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/admin/merchants/")
    # Its own form would have signed in with the password alone: a post to it signs in no one.
    client.post("/admin/login/?next=/admin/", {"username": operator.username, "password": PASSWORD})
    assert not _is_signed_in(client)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")

    assert _password(client, operator, next_url="/admin/")["Location"] == CODE
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    response = client.post(CODE, {"code": totp_code(device)})
    assert response["Location"] == "/admin/"
    page = client.get("/admin/").content.decode()
    assert 'href="/account/two-step/"' in page
    assert "Account events" in page


def test_the_operator_cannot_turn_two_step_off(operator: Any) -> None:
    client = signed_in_two_step(operator)
    device = TOTPDevice.objects.get(user=operator)
    response = client.post("/account/two-step/off/", {"code": totp_code(device)})
    assert response.status_code == 400
    assert "Platform operators always sign in with a second step." in response.content.decode()
    assert TOTPDevice.objects.filter(user=operator).exists()


def test_wholesaler_staff_enrol_and_then_sign_in_to_the_admin_with_a_code(merchant: Merchant) -> None:
    staff = UserFactory(username="depot@wholesale.example", is_staff=True)
    WholesalerStaff.objects.create(user=staff, wholesaler=merchant.wholesaler)
    client = Client()
    _password(client, staff, next_url="/admin/")
    assert client.get("/admin/").status_code == 200  # their own choice: not required
    _enrol(client, staff)
    client.post("/accounts/logout/")
    assert _password(client, staff, next_url="/admin/")["Location"] == CODE
    device = TOTPDevice.objects.get(user=staff)
    assert client.post(CODE, {"code": totp_code(device, steps_ahead=1)})["Location"] == "/admin/"
    # The audit log is the operator's, not theirs.
    assert "Account events" not in client.get("/admin/").content.decode()
    assert client.get("/admin/merchants/accountevent/").status_code == 403


# --- the demo ----------------------------------------------------------------------------------------------


def test_the_demo_operator_signs_in_with_the_code_the_demo_command_prints(capsys: Any) -> None:
    from demo.seed import accounts

    accounts.demo_seed()
    operator = TOTPDevice.objects.get(user__username=accounts.PLATFORM_ADMIN).user
    call_command("totp_code", accounts.PLATFORM_ADMIN)
    code = capsys.readouterr().out.split()[0]
    client = Client()
    client.post(LOGIN + "?next=/admin/", {"username": operator.username, "password": accounts.PASSWORD})
    assert client.post(CODE, {"code": code})["Location"] == "/admin/"
    with pytest.raises(CommandError, match="has no demo authenticator"):
        call_command("totp_code", accounts.WHOLESALER_STAFF)
