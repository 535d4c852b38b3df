"""The analytics pages in Chromium on real sales: every chart drawn, no console error, no CSP violation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from analytics.services.facts import facts_sweep
from merchants.models import Merchant, Store
from tests.analytics.history import history_make
from tests.e2e.test_shell import assert_no_horizontal_overflow, log_in
from tests.factories import StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHARTS = {
    "sales-over-time": "line",
    "sales-heatmap": "heatmap",
    "sales-by-category": "bar",
    "sales-by-channel": "bar",
    "sales-by-payment": "bar",
}


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_sales_page_draws_every_chart_cleanly(
    live_server: Any,
    open_page: Any,
    merchant: Merchant,
    store: Store,
    owner: Any,
    clerk: Any,
    phone: bool,
    tmp_path: Path,
) -> None:
    history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    watched = open_page(phone=phone)
    page = watched.page
    log_in(watched, live_server.url, owner)
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")
    page.goto(f"{live_server.url}/m/{merchant.slug}/analytics/sales/?period=custom&start=2026-06-09&end=2026-06-12")
    for chart_id, kind in CHARTS.items():
        expect(page.locator(f"#{chart_id} .chart-plot")).to_have_attribute("data-drawn", kind)
    expect(page.locator("#tile-net_sales .tile-value")).to_have_text("17,66\xa0€")
    if phone:
        assert_no_horizontal_overflow(watched)
    # Kept where LINGSHOU_SCREENSHOTS points, to be looked at; in the test's own folder otherwise.
    shots = Path(os.environ.get("LINGSHOU_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=shots / f"sales-{'phone' if phone else 'desktop'}.png", full_page=True)
    watched.assert_clean()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_sales_page_of_two_stores_of_three(
    live_server: Any,
    open_page: Any,
    merchant: Merchant,
    store: Store,
    owner: Any,
    clerk: Any,
    phone: bool,
    tmp_path: Path,
) -> None:
    bahnhof = StoreFactory(merchant=merchant, name="Bahnhof")
    markt = StoreFactory(merchant=merchant, name="Marktplatz")
    for each in (store, bahnhof):
        history_make(each, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    watched = open_page(phone=phone)
    page = watched.page
    log_in(watched, live_server.url, owner)
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")
    june = "period=custom&start=2026-06-09&end=2026-06-12&compare=previous"
    page.goto(f"{live_server.url}/m/{merchant.slug}/analytics/sales/?store={store.pk}&store={bahnhof.pk}&{june}")
    # Each store's history sells 17,66 € net in those days: the two together, twice that.
    expect(page.locator("#tile-net_sales .tile-value")).to_have_text("35,32\xa0€")
    expect(page.locator(".stores-label")).to_have_text(f"Bahnhof, {store.name}")
    expect(page.locator(".stores-panel")).to_be_hidden()
    shots = Path(os.environ.get("LINGSHOU_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    width = "phone" if phone else "desktop"
    page.screenshot(path=shots / f"sales-two-stores-{width}.png", full_page=True)
    if phone:
        assert_no_horizontal_overflow(watched)

    # Open, the picker shows a box per store, the chosen two ticked; a plain form changes the choice.
    page.click(".stores-menu summary")
    boxes = {s.pk: page.locator(f".stores-options input[value='{s.pk}']") for s in (store, bahnhof, markt)}
    expect(boxes[store.pk]).to_be_checked()
    expect(boxes[bahnhof.pk]).to_be_checked()
    expect(boxes[markt.pk]).not_to_be_checked()
    if phone:
        assert_no_horizontal_overflow(watched)
    page.screenshot(path=shots / f"sales-two-stores-open-{width}.png")
    boxes[bahnhof.pk].uncheck()
    boxes[markt.pk].check()
    page.get_by_role("button", name="Show ticked stores").click()
    page.wait_for_url(f"**/analytics/sales/?*store={markt.pk}*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["store"] == [str(store.pk), str(markt.pk)]
    assert (query["period"], query["start"], query["end"]) == (["custom"], ["2026-06-09"], ["2026-06-12"])
    expect(page.locator("#tile-net_sales .tile-value")).to_have_text("17,66\xa0€")
    expect(page.locator(".stores-label")).to_have_text(f"{store.name}, Marktplatz")
    watched.assert_clean()


def test_the_daily_figures_download_from_the_period_picker(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, owner: Any, clerk: Any, tmp_path: Path
) -> None:
    bahnhof = StoreFactory(merchant=merchant, name="Bahnhof")
    history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    watched = open_page()
    page = watched.page
    log_in(watched, live_server.url, owner)
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")
    page.goto(f"{live_server.url}/m/{merchant.slug}/analytics/sales/?store={store.pk}&store={bahnhof.pk}")
    form = page.locator("#daily-figures")
    expect(form).to_be_hidden()
    # The help text's link opens the disclosure it points into.
    page.get_by_role("link", name="daily figures as CSV").click()
    expect(form).to_be_visible()
    page.fill("#daily-start", "")
    page.check("input[name=rows][value=hours]")
    shots = Path(os.environ.get("LINGSHOU_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=shots / "sales-daily-figures-desktop.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith(f"sales-by-hour-{merchant.slug}-start-to-")
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("date,hour,store,channel,payment_method,transactions")
    # The history's four orders and three refunds in six local hours (two refunds share 11:00 on 12 June), all at
    # the Lindenstraße: the Bahnhof sold nothing.
    assert len(lines) == 1 + 6
    assert all(f",{store.name}," in line for line in lines[1:])
    watched.assert_clean()
