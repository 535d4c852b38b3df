import pytest

from tests.e2e.test_shell import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_shots(live_server, open_page, merchant, owner, store):
    w = open_page()
    log_in(w, live_server.url, owner)
    w.page.wait_for_url(f"**/m/{merchant.slug}/")
    w.page.screenshot(path="/tmp/preview/real-desk-overview.png", full_page=True)
    for path in ["staff/", "devices/", "stores/"]:
        w.page.goto(f"{live_server.url}/m/{merchant.slug}/{path}")
        w.page.screenshot(path=f"/tmp/preview/real-desk-{path[:-1]}.png", full_page=True)
    w.page.goto(f"{live_server.url}/account/tokens/")
    w.page.screenshot(path="/tmp/preview/real-desk-tokens.png", full_page=True)
    w.page.goto(f"{live_server.url}/s/{store.code}/")
    w.page.screenshot(path="/tmp/preview/real-phone-store-desk.png", full_page=True)
    p = open_page(phone=True, storage_state=w.page.context.storage_state())
    for path in ["", "staff/", "devices/"]:
        p.page.goto(f"{live_server.url}/m/{merchant.slug}/{path}")
        print(path, p.page.evaluate("[document.documentElement.scrollWidth, innerWidth]"))
        p.page.screenshot(path=f"/tmp/preview/real-phone-{path[:-1] or 'overview'}.png", full_page=True)
    p.page.goto(f"{live_server.url}/s/{store.code}/")
    p.page.screenshot(path="/tmp/preview/real-phone-store.png", full_page=True)
    p.page.goto(f"{live_server.url}/nope/")
    p.page.screenshot(path="/tmp/preview/real-phone-404.png", full_page=True)
    print(w.console_errors, w.page_errors, p.console_errors, p.page_errors)
