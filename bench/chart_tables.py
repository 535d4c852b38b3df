"""The chart component on tables of growing length: layout and drawing in Chromium on a phone.

    python -m config.database run -- .venv/bin/python bench/chart_tables.py [--runs 5] [--json]

templates/components/chart.html renders a line chart (a series and its comparison) with 336
rows (14 days of hours), 400 (the longest period, by day), 2,160 (90 days of hours) and 8,760
(a year of hours). A 360 px wide page served with the project's CSP loads uPlot and
static/js/charts.js, inserts the rendered figure, and times the browser's layout of the table
and then charts.js reading the table and drawing it (median of --runs pages), at full CPU speed
and throttled 4x. The ratios are to the 400-row table in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import django_setup, report
from bench.charts import PHONE, _Handler

ROOT = Path(__file__).resolve().parent.parent
BERLIN = ZoneInfo("Europe/Berlin")
CASES = [
    ("14 days by hour", 336, 1),
    ("400 days by day", 400, 24),
    ("90 days by hour", 2160, 1),
    ("a year by hour", 8760, 1),
]
BASELINE = "400 days by day"
STATIC = [
    "vendor/uplot/uPlot.iife.min.js",
    "vendor/uplot/uPlot.min.css",
    "js/charts.js",
    "css/charts.css",
    "css/lingshou.css",
]

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<link rel="stylesheet" href="static/css/lingshou.css"><link rel="stylesheet" href="static/vendor/uplot/uPlot.min.css">
<link rel="stylesheet" href="static/css/charts.css">
<script src="static/vendor/uplot/uPlot.iife.min.js" defer></script><script src="static/js/charts.js" defer></script>
</head><body><main class="main" id="main"></main></body></html>"""

# Inserts one rendered figure, forces the layout of its table, then has charts.js draw it.
MEASURE = """async (name) => {
  const html = await (await fetch(name)).text();
  const box = document.createElement("div");
  const started = performance.now();
  box.innerHTML = html;
  document.getElementById("main").appendChild(box);
  void box.offsetHeight;
  const laidOut = performance.now();
  window.LingshouCharts.draw(box);
  await new Promise((r) => setTimeout(r, 0));
  return {layout_ms: laidOut - started, draw_ms: performance.now() - laidOut, drawn: !!box.querySelector(".chart-plot canvas")};
}"""


def figure_html(rows: int, step_hours: int) -> str:
    from django.template.loader import render_to_string

    from core.money import format_amount

    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    table = []
    for index in range(rows):
        at = (start + dt.timedelta(hours=index * step_hours)).astimezone(BERLIN)
        now, before = (index * 7919) % 10_000, (index * 104_729) % 10_000
        table.append(
            {
                "label": at.strftime("%a %d %b %Y, %H:%M"),
                "key": at.isoformat(),
                "cells": [(now / 100, format_amount(now, "EUR")), (before / 100, format_amount(before, "EUR"))],
            }
        )
    chart = {
        "id": "bench",
        "kind": "line",
        "title": "Net sales",
        "columns": ["Time", "This period", "Previous period"],
        "rows": table,
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
    }
    return render_to_string("components/chart.html", {"chart": chart})


def measure(base: str, name: str, *, runs: int, throttle: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    layouts, draws = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        for _ in range(runs):
            context = browser.new_context(viewport=PHONE, is_mobile=True, device_scale_factor=2)
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, sink=errors: sink.append(m.text) if m.type == "error" else None)
            if throttle > 1:
                context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": throttle})
            page.goto(f"{base}/page.html")
            result: dict[str, Any] = page.evaluate(MEASURE, name)
            if not result["drawn"] or errors:
                raise SystemExit(f"{name}: not drawn, or console errors: {errors}")
            layouts.append(result["layout_ms"])
            draws.append(result["draw_ms"])
            context.close()
        browser.close()
    return {"layout_ms": round(statistics.median(layouts), 1), "draw_ms": round(statistics.median(draws), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    django_setup()

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        for path in STATIC:
            (site / "static" / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / "static" / path, site / "static" / path)
        (site / "page.html").write_text(PAGE)
        sizes = {}
        for label, rows, step in CASES:
            html = figure_html(rows, step)
            (site / f"table-{rows}.html").write_text(html)
            sizes[label] = len(html.encode())
        handler = lambda *a, **kw: _Handler(*a, directory=str(site), **kw)  # noqa: E731 - a one-use factory
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        figures = {
            (label, throttle): measure(base, f"table-{rows}.html", runs=args.runs, throttle=throttle)
            for label, rows, _ in CASES
            for throttle in (1, 4)
        }
        server.shutdown()

    report_rows: list[dict[str, object]] = []
    for label, rows, _ in CASES:
        row: dict[str, object] = {"table": label, "rows": rows, "html_kb": round(sizes[label] / 1024, 1)}
        for throttle in (1, 4):
            total = figures[label, throttle]["layout_ms"] + figures[label, throttle]["draw_ms"]
            base_total = figures[BASELINE, throttle]["layout_ms"] + figures[BASELINE, throttle]["draw_ms"]
            row[f"layout_ms_x{throttle}"] = figures[label, throttle]["layout_ms"]
            row[f"draw_ms_x{throttle}"] = figures[label, throttle]["draw_ms"]
            row[f"ratio_x{throttle}"] = round(total / max(base_total, 0.1), 1)
        report_rows.append(row)
    report("Chart component: layout and drawing by table length, 360 px, Chromium", report_rows, as_json=args.json)


if __name__ == "__main__":
    main()
