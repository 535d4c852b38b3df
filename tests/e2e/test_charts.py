"""Every chart kind drawn from its table in Chromium, under the strict CSP, on desktop and phone.

The page comes from tests/e2e/chart_urls.py (a test-only URLconf): the components exactly as
the analytics pages include them, with fixed figures.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.chart_urls import CATEGORIES, LINE_HOURS, WEEKDAYS
from tests.e2e.conftest import WatchedPage
from tests.e2e.test_shell import assert_no_horizontal_overflow

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.e2e.chart_urls")]

KINDS = {"sales-by-hour": "line", "sales-by-category": "bar", "sales-heatmap": "heatmap"}
ROWS = {"sales-by-hour": LINE_HOURS, "sales-by-category": len(CATEGORIES), "sales-heatmap": len(WEEKDAYS)}

# How many pixels of a figure's canvases hold ink (alpha > 0): 0 means nothing was drawn.
INKED_PIXELS = """(figure) => {
  let inked = 0;
  for (const canvas of figure.querySelectorAll("canvas")) {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) inked++; }
  }
  return inked;
}"""

# The colour on a figure's canvas under a point of the page (CSS pixels), as #rrggbb.
COLOUR_AT = """(figure, [x, y]) => {
  const canvas = figure.querySelector("canvas");
  const box = canvas.getBoundingClientRect();
  const scale = canvas.width / box.width;
  const [r, g, b] = canvas.getContext("2d").getImageData((x - box.left) * scale, (y - box.top) * scale, 1, 1).data;
  return "#" + [r, g, b].map((c) => c.toString(16).padStart(2, "0")).join("");
}"""


def _open_charts(open_page: Any, base_url: str, *, phone: bool = False) -> WatchedPage:
    watched = open_page(phone=phone)
    response = watched.page.goto(base_url + "/charts/")
    assert response is not None
    assert response.status == 200
    # The assertions below mean something only if the strict policy is really sent.
    assert "style-src 'self'" in response.headers["content-security-policy"]
    for chart_id, kind in KINDS.items():
        expect(watched.page.locator(f"#{chart_id} .chart-plot")).to_have_attribute("data-drawn", kind)
    return watched


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_every_chart_kind_is_drawn_from_its_table_with_no_console_error_or_csp_violation(
    live_server: Any, open_page: Any, phone: bool
) -> None:
    watched = _open_charts(open_page, live_server.url, phone=phone)
    page = watched.page

    for chart_id in KINDS:
        figure = page.locator(f"#{chart_id}")
        assert figure.evaluate(INKED_PIXELS) > 1_000, chart_id
        # The table is still there, whole, and screen readers get it rather than the picture.
        expect(figure.locator(".chart-table tbody tr")).to_have_count(ROWS[chart_id])
        expect(figure.locator(".chart-plot")).to_have_attribute("aria-hidden", "true")
        expect(figure.locator(".chart-table table")).to_be_attached()
        expect(page.get_by_role("table", name=figure.locator("figcaption").inner_text())).to_be_attached()
    # A chart with no figures draws nothing and says so in its table.
    expect(page.locator("#empty .chart-plot")).to_have_count(0)
    expect(page.locator("#empty")).to_contain_text("No figures for this period.")
    # The legends are text: series names a colour-blind reader can match to the dashed line.
    expect(page.locator("#sales-by-hour .u-legend")).to_contain_text("This period")
    expect(page.locator("#sales-by-hour .u-legend")).to_contain_text("Previous period")
    if phone:
        assert_no_horizontal_overflow(watched)
    watched.assert_clean()


def test_show_table_unfolds_the_table_behind_the_picture(live_server: Any, open_page: Any) -> None:
    watched = _open_charts(open_page, live_server.url)
    figure = watched.page.locator("#sales-by-category")
    table = figure.locator(".chart-table table")
    toggle = figure.get_by_role("button", name="Show table")

    # Folded: out of sight (lingshou.css's visually-hidden: 1 px and its border, clipped to
    # nothing) but in the accessibility tree.
    assert figure.locator(".chart-table").bounding_box()["height"] <= 2  # type: ignore[index]
    assert figure.locator(".chart-table").evaluate("(e) => getComputedStyle(e).clip") == "rect(0px, 0px, 0px, 0px)"
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(figure.get_by_role("button", name="Hide table")).to_have_attribute("aria-expanded", "true")
    assert figure.locator(".chart-table").bounding_box()["height"] > 50  # type: ignore[index]
    expect(table.locator("tbody tr").first).to_have_text("Drinks1.842,50 €1.710,20 €")
    watched.assert_clean()


def test_heatmap_cells_take_their_value_s_shade_and_read_out_the_table_s_text(live_server: Any, open_page: Any) -> None:
    watched = _open_charts(open_page, live_server.url)
    page = watched.page
    figure = page.locator("#sales-heatmap")
    figure.scroll_into_view_if_needed()
    # In viewport coordinates, as the mouse and getBoundingClientRect take them.
    over = figure.locator(".u-over").bounding_box()
    assert over is not None

    def centre(row: int, hour: int) -> tuple[float, float]:
        return over["x"] + (hour + 0.5) / 24 * over["width"], over["y"] + (row + 0.5) / 7 * over["height"]

    # Saturday 18:00 is the most (the ramp's last, lightest step), Monday 07:00 the least (its
    # first, darkest), Monday 03:00 had no sales (no cell: the canvas is clear there).
    saturday_six = centre(5, 18)
    assert figure.evaluate(COLOUR_AT, [*saturday_six]) == "#ffea46"
    assert figure.evaluate(COLOUR_AT, [*centre(0, 7)]) == "#00204d"
    assert figure.evaluate(COLOUR_AT, [*centre(0, 3)]) == "#000000"
    expect(figure.locator(".chart-scale")).to_have_text("10,00 € 90,00 €")

    page.mouse.move(*saturday_six)
    expect(figure.locator(".chart-readout")).to_have_text("Sat 18: 90,00 €")
    page.mouse.move(*centre(1, 9))
    expect(figure.locator(".chart-readout")).to_have_text("Tue 09: 17,00 €")
    watched.assert_clean()


def test_a_chart_swapped_in_by_htmx_is_drawn_too(live_server: Any, open_page: Any) -> None:
    watched = _open_charts(open_page, live_server.url)
    page = watched.page

    page.get_by_role("button", name="Load more").click()
    swapped = page.locator("#swapped-bar")
    expect(swapped.locator(".chart-plot")).to_have_attribute("data-drawn", "bar")
    assert swapped.evaluate(INKED_PIXELS) > 1_000
    # Drawn once: a second swap event does not add a second picture.
    page.evaluate("document.dispatchEvent(new CustomEvent('htmx:afterSwap'))")
    expect(swapped.locator(".chart-plot")).to_have_count(1)
    expect(page.locator("#sales-by-hour .chart-plot")).to_have_count(1)
    watched.assert_clean()


def test_without_javascript_the_tables_are_the_charts(live_server: Any, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/charts/")
        for chart_id in KINDS:
            expect(page.locator(f"#{chart_id} .chart-plot")).to_have_count(0)
            assert page.locator(f"#{chart_id} .chart-table table").bounding_box()["height"] > 50  # type: ignore[index]
        # The picker works as links and a plain GET form.
        page.get_by_role("link", name="Last 30 days").click()
        expect(page.locator(".period-current")).to_have_text("3 Mar – 1 Apr 2026, compared with 1 Feb – 2 Mar 2026")
        assert "store=7" in page.url
        page.fill("#period-start", "2026-03-10")
        page.fill("#period-end", "2026-03-01")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("alert")).to_have_text(
            "The period ends on 1 Mar 2026, before it starts on 10 Mar 2026: swap the two dates."
        )
    finally:
        context.close()
