"""The web shell in a real browser: strict CSP, htmx, login, dashboard navigation, phone layout."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, WatchedPage
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LOGIN_PATH = "/accounts/login/"


def log_in(watched: WatchedPage, base_url: str, user: Any) -> None:
    page = watched.page
    page.goto(base_url + LOGIN_PATH)
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")


def assert_no_horizontal_overflow(watched: WatchedPage) -> None:
    widths = watched.page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"], widths


def test_login_page_loads_htmx_without_console_errors_or_csp_violations(live_server: Any, open_page: Any) -> None:
    watched = open_page()
    response = watched.page.goto(live_server.url + LOGIN_PATH)

    assert response is not None
    assert response.status == 200
    # The check below means something only if the strict policy is really sent.
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    # Deferred scripts have run once the load event fired (goto waits for it).
    assert watched.page.evaluate("typeof window.htmx") == "object"
    assert watched.page.evaluate("window.htmx.version").startswith("2.")
    # Read from the htmx-config meta tag; otherwise htmx injects an inline <style>.
    assert watched.page.evaluate("window.htmx.config.includeIndicatorStyles") is False
    watched.assert_clean()


def test_login_page_fits_a_phone(live_server: Any, open_page: Any) -> None:
    watched = open_page(phone=True)
    watched.page.goto(live_server.url + LOGIN_PATH)

    assert watched.page.evaluate("window.innerWidth") == PHONE["width"]
    assert_no_horizontal_overflow(watched)
    watched.assert_clean()


def test_owner_logs_in_lands_on_dashboard_and_it_fits_a_phone(
    live_server: Any, open_page: Any, merchant: Any, owner: Any
) -> None:
    watched = open_page()
    page = watched.page
    log_in(watched, live_server.url, owner)

    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")
    nav = page.get_by_role("navigation", name="Dashboard")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    expect(page.locator(".sidebar .brand-name")).to_have_text(merchant.name)
    expect(page.get_by_role("link", name="API tokens")).to_be_visible()
    watched.assert_clean()

    # The same session on a phone: a top bar, the menu folded away until tapped.
    phone = open_page(phone=True, storage_state=page.context.storage_state())
    phone.page.goto(f"{live_server.url}/m/{merchant.slug}/")
    phone_nav = phone.page.get_by_role("navigation", name="Dashboard")
    assert phone.page.evaluate("window.innerWidth") == PHONE["width"]
    assert_no_horizontal_overflow(phone)
    expect(phone_nav).to_be_hidden()

    phone.page.get_by_text("Menu", exact=True).tap()
    expect(phone_nav).to_be_visible()
    expect(phone_nav.get_by_role("link", name="Overview")).to_be_visible()
    assert_no_horizontal_overflow(phone)
    phone.assert_clean()


def test_the_analytics_section_opens_from_the_menu_and_claims_nothing_unbuilt(
    live_server: Any, open_page: Any, merchant: Any, owner: Any
) -> None:
    watched = open_page()
    page = watched.page
    log_in(watched, live_server.url, owner)
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")

    analytics = page.get_by_role("navigation", name="Dashboard").get_by_role("link", name=re.compile(r"^Analytics"))
    expect(analytics.locator(".tag-soon")).to_have_count(0)
    analytics.click()

    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/analytics/")
    expect(analytics).to_have_attribute("aria-current", "page")
    expect(page.locator("main")).not_to_contain_text("not built")
    expect(page.get_by_role("link", name="Sales", exact=True)).to_be_visible()
    watched.assert_clean()


def test_log_out_button_posts_and_ends_the_session(live_server: Any, open_page: Any, merchant: Any, owner: Any) -> None:
    watched = open_page()
    page = watched.page
    log_in(watched, live_server.url, owner)
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")

    page.get_by_role("button", name="Log out").click()

    page.wait_for_url(f"{live_server.url}{LOGIN_PATH}")
    page.goto(f"{live_server.url}/m/{merchant.slug}/")
    assert page.url.startswith(f"{live_server.url}{LOGIN_PATH}?next=")
    watched.assert_clean()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_api_docs_render_from_vendored_assets_under_the_csp(live_server: Any, open_page: Any) -> None:
    watched = open_page()
    watched.page.goto(f"{live_server.url}/api/docs/")
    # Swagger UI builds the operation list from /api/schema/ in the browser.
    expect(watched.page.locator(".opblock-summary-path").first).to_be_visible()
    expect(watched.page.get_by_text("/api/v1/merchants/{merchant_id}/stores/", exact=True)).to_be_visible()
    watched.assert_clean()
