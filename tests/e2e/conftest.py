"""End-to-end fixtures: Playwright drives Debian's Chromium against pytest-django's live server.

The browser is the system one (/usr/bin/chromium, from apt): Playwright's own browser
downloads are never used, so `playwright install` is never needed. Without it, every test
marked ``e2e`` is skipped with the reason below.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API keeps an asyncio loop running in this thread, and Django then refuses
# ORM calls from it (the fixtures that create users) as "async unsafe". They are not: nothing
# here runs concurrently with them.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Runs before any page script, outside the page's CSP (Playwright injects it), so it sees
# every violation the policy reports.
CSP_RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push({
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile + ":" + event.lineNumber,
    sample: event.sample,
  });
});
"""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:  # noqa: ARG001 - pluggy passes hook arguments by name
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"e2e tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)


class WatchedPage:
    """A page that remembers console errors and uncaught exceptions since it was opened."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            self.console_errors.append(f"{message.text} ({location.get('url', '')})")

    def csp_violations(self) -> list[dict[str, str]]:
        """Violations reported in the current document (the recorder restarts on navigation)."""
        return list(self.page.evaluate("window.__csp || []"))

    def forget_expected_400(self, path: str) -> None:
        """Chromium logs every 4xx answer as a console error; drop exactly the one the test caused."""
        expected = [e for e in self.console_errors if "status of 400" in e and path in e]
        assert len(expected) == 1, self.console_errors
        self.console_errors.remove(expected[0])

    def assert_clean(self) -> None:
        # Chromium also logs each CSP violation as a console error, so violations in pages
        # visited earlier in the test still show up in console_errors.
        assert self.console_errors == []
        assert self.page_errors == []
        assert self.csp_violations() == []


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: the Playwright loop lives only while this module's tests run.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., WatchedPage]]:
    """open_page(phone=False, storage_state=None) -> a WatchedPage in a fresh browser context."""
    contexts: list[Any] = []

    def open_(*, phone: bool = False, storage_state: Any = None) -> WatchedPage:
        options: dict[str, Any] = {"viewport": PHONE if phone else DESKTOP, "storage_state": storage_state}
        if phone:
            # A real phone: mobile layout rules, so the viewport meta tag is put to the test.
            options.update(is_mobile=True, has_touch=True, device_scale_factor=3)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.add_init_script(CSP_RECORDER)
        contexts.append(context)
        return WatchedPage(context.new_page())

    yield open_
    for context in contexts:
        context.close()
