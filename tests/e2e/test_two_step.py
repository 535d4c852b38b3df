"""Two-step sign-in in Chromium under the strict CSP: an owner scans (here: reads) the key, confirms it with a
code, keeps the recovery codes, and signs in again with password and code; on a phone too."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from merchants.models import Merchant
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _code(secret: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the key as the page prints it."""
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_an_owner_turns_on_two_step_sign_in_and_signs_in_with_a_code(
    live_server: Any, open_page: Any, merchant: Merchant, owner: Any, phone: bool
) -> None:
    watched = open_page(phone=phone)
    page = watched.page
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/m/{merchant.slug}/")

    expect(page.locator('.user-links a[href="/account/two-step/"]')).to_have_count(1)
    page.goto(f"{base}/account/two-step/")
    page.get_by_role("link", name="Set up two-step sign-in").click()
    page.wait_for_url(f"{base}/account/two-step/enrol/")
    expect(page.locator(".two-step-qr svg")).to_be_visible()
    secret = page.locator("#two-step-secret").inner_text()
    page.fill("input[name=code]", _code(secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.locator("h1")).to_have_text("Your recovery codes")
    assert len(page.locator("#new-token").inner_text().split()) == 10
    watched.assert_clean()

    page.context.clear_cookies()  # a new visit: signed out
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/accounts/login/code/")
    page.fill("input[name=code]", _code(secret, steps_ahead=1))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/m/{merchant.slug}/")
    watched.assert_clean()
