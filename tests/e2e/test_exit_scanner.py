"""The clerk scans the shopper's exit pass with the phone's camera (static/js/scanner.js in pass mode), in Chromium
with a fake camera that shows the pass's QR code, read by the bundled zxing-wasm under the page's CSP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from checkout.services.exit_passes import exit_pass_token
from merchants.models import Merchant, Store
from tests.checkout.test_exit_check_page import paid_order
from tests.e2e.test_scanner import (  # noqa: F401 - fixtures
    NO_BARCODE_DETECTOR,
    _camera,
    _directive,
    _frame,
    _qr,
    open_phone,
    playwright,
)
from tests.e2e.test_shell import assert_no_horizontal_overflow, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def camera_phone(request: pytest.FixtureRequest) -> Any:
    """The scanner tests' open_phone: open_phone(args, init_scripts) -> a phone browser of its own with a fake camera."""
    return request.getfixturevalue("open_phone")


def _exit_page(watched: Any, base_url: str, merchant: Merchant, clerk: Any) -> Any:
    log_in(watched, base_url, clerk)
    watched.page.wait_for_url(f"{base_url}/m/{merchant.slug}/")
    response = watched.page.goto(f"{base_url}/m/{merchant.slug}/exit/")
    assert response is not None
    assert response.status == 200
    return response


def test_the_camera_reads_the_pass_and_the_page_answers_paid(
    live_server: Any, camera_phone: Any, tmp_path: Path, merchant: Merchant, store: Store, clerk: Any
) -> None:
    order = paid_order(store, [("Quellwerk Cola", 249, 2)])
    token = exit_pass_token(order=order)
    assert token is not None
    watched = camera_phone(_camera(tmp_path, _frame(_qr(token))), (NO_BARCODE_DETECTOR,))
    response = _exit_page(watched, live_server.url, merchant, clerk)
    script_src = _directive(response.headers["content-security-policy"], "script-src")
    assert "'wasm-unsafe-eval'" in script_src
    assert "'unsafe-eval'" not in script_src
    page = watched.page

    page.get_by_role("button", name="Scan with the camera").click()

    result = page.locator(".pass-result")
    expect(result.get_by_role("heading")).to_have_text("Paid", timeout=20_000)
    expect(result.locator(".pass-items-list li")).to_have_text(["2 × Quellwerk Cola"])
    assert len(watched.requested("/static/vendor/zxing_reader.wasm")) == 1
    assert_no_horizontal_overflow(watched)
    watched.assert_only_from(live_server.url)
    watched.assert_clean()


def test_a_code_that_is_not_a_pass_is_named_and_scanning_goes_on(
    live_server: Any, camera_phone: Any, tmp_path: Path, merchant: Merchant, clerk: Any
) -> None:
    # A QR code that holds something else than a pass is named, and the camera stays open for the pass.
    watched = camera_phone(_camera(tmp_path, _frame(_qr("https://example.com/not-a-pass"))), (NO_BARCODE_DETECTOR,))
    _exit_page(watched, live_server.url, merchant, clerk)
    page = watched.page

    page.get_by_role("button", name="Scan with the camera").click()

    expect(page.locator("[data-scanner-status]")).to_have_text(
        "That is not an exit pass. Scan the QR code on the shopper’s receipt.", timeout=20_000
    )
    expect(page.locator("[data-scanner-view]")).to_be_visible()
    assert page.url == f"{live_server.url}/m/{merchant.slug}/exit/"
    assert page.locator(".pass-result").count() == 0
    watched.assert_clean()
