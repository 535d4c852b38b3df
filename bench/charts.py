"""Charting libraries compared: size, render time of a year of hourly points on a phone, CSP.

    npm install --prefix /tmp/chartbench uplot chart.js echarts frappe-charts @observablehq/plot d3
    .venv/bin/python bench/charts.py --modules /tmp/chartbench/node_modules [--runs 7] [--json]

Each candidate draws the same two series of 8,760 hourly points (a year of sales and the year
before as its comparison) into a 360 px wide page in Debian's Chromium, served with the
project's Content-Security-Policy (config/settings/base.py). Measured per library: the
minified+gzipped bytes a browser downloads, the time to load and evaluate the script, and the
time from the constructor call until the canvas or SVG holds a drawing, as the median of
--runs fresh pages, at full CPU speed and with Chromium's CPU throttled 4x (a mid-range phone).
The baseline is the same polyline drawn by hand on a 2D canvas in the same run. After drawing,
the pointer hovers over the chart (tooltips and legends are where libraries write inline
styles) and every CSP violation and console error is counted.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import report

# Mirrors CONTENT_SECURITY_POLICY in config/settings/base.py (kept literal: importing the
# settings needs a database URL, and this bench needs none).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
)
PHONE = {"width": 360, "height": 740}
POINTS = 8760

# name -> (package.json to read the version from, files the page loads in order)
CANDIDATES: dict[str, tuple[str, list[str]]] = {
    "canvas (baseline)": ("", []),
    "uPlot": ("uplot", ["uplot/dist/uPlot.iife.min.js", "uplot/dist/uPlot.min.css"]),
    "Chart.js": ("chart.js", ["chart.js/dist/chart.umd.min.js"]),
    "ECharts": ("echarts", ["echarts/dist/echarts.min.js"]),
    "Frappe Charts": ("frappe-charts", ["frappe-charts/dist/frappe-charts.min.umd.js"]),
    "Observable Plot": ("@observablehq/plot", ["d3/dist/d3.min.js", "@observablehq/plot/dist/plot.umd.min.js"]),
}

# One external script per page (no inline script under the CSP). DRAW[name] builds the chart in
# `el` (a 344 px wide div) from xs (unix seconds), a (this year) and b (last year).
COMMON_JS = """
window.__bench = (async function () {
  function data() {
    var xs = new Array(%(points)d), a = new Array(%(points)d), b = new Array(%(points)d);
    var seed = 42;
    function rnd() { seed = (seed * 1103515245 + 12345) %% 2147483648; return seed / 2147483648; }
    for (var i = 0; i < %(points)d; i++) {
      var hour = i %% 24, day = Math.floor(i / 24) %% 7;
      var shape = hour < 7 || hour > 21 ? 0 : Math.sin(Math.PI * (hour - 7) / 14);
      xs[i] = 1735689600 + i * 3600;
      a[i] = Math.round(shape * (day > 4 ? 140 : 100) * (0.8 + 0.4 * rnd()));
      b[i] = Math.round(shape * (day > 4 ? 120 : 90) * (0.8 + 0.4 * rnd()));
    }
    return {xs: xs, a: a, b: b};
  }
  function load(src) {
    return new Promise(function (resolve, reject) {
      var tag;
      if (src.endsWith(".css")) {
        tag = document.createElement("link"); tag.rel = "stylesheet"; tag.href = src;
      } else {
        tag = document.createElement("script"); tag.src = src;
      }
      tag.onload = resolve; tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }
  function drawn(el) {
    var canvases = el.querySelectorAll("canvas");
    for (var c of canvases) {
      if (!c.width || !c.height) continue;
      var px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      var inked = 0;
      for (var k = 3; k < px.length; k += 4) { if (px[k]) inked++; }
      if (inked > 200) return "canvas";
    }
    var paths = el.querySelectorAll("svg path, svg polyline");
    for (var p of paths) {
      var d = p.getAttribute("d") || p.getAttribute("points") || "";
      if (d.length > 1000) return "svg";
    }
    return "";
  }
  var files = %(files)s;
  var loadStart = performance.now();
  for (var f of files) { await load(f); }
  var loadMs = performance.now() - loadStart;
  var d = data();
  var el = document.getElementById("chart");
  var started = performance.now();
  window.DRAW(el, d.xs, d.a, d.b);
  var kind = "", finished = 0;
  // Drawn synchronously, in a microtask, or on the next frames: poll until there is ink. The
  // clock stops before each look, so the pixel scan itself is not counted.
  await new Promise(function (r) { setTimeout(r, 0); });
  for (var tries = 0; tries < 300; tries++) {
    finished = performance.now();
    if ((kind = drawn(el))) break;
    await new Promise(function (r) { requestAnimationFrame(function () { setTimeout(r, 0); }); });
  }
  return {load_ms: loadMs, render_ms: finished - started, drawn: kind};
})();
"""

DRAW = {
    "canvas (baseline)": """
window.DRAW = function (el, xs, a, b) {
  var c = document.createElement("canvas"), w = 344, h = 220, dpr = window.devicePixelRatio;
  c.width = w * dpr; c.height = h * dpr; c.style.width = w + "px"; c.style.height = h + "px";
  el.appendChild(c);
  var ctx = c.getContext("2d"); ctx.scale(dpr, dpr);
  [[a, "#0072B2"], [b, "#E69F00"]].forEach(function (s) {
    ctx.beginPath(); ctx.strokeStyle = s[1];
    for (var i = 0; i < xs.length; i++) {
      var x = i / (xs.length - 1) * w, y = h - s[0][i] / 150 * h;
      if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    }
    ctx.stroke();
  });
};""",
    "uPlot": """
window.DRAW = function (el, xs, a, b) {
  new uPlot({width: 344, height: 220, series: [{}, {label: "This year", stroke: "#0072B2"},
    {label: "Last year", stroke: "#E69F00"}]}, [xs, a, b], el);
};""",
    "Chart.js": """
window.DRAW = function (el, xs, a, b) {
  var c = document.createElement("canvas"); el.appendChild(c);
  function pts(s) { return xs.map(function (x, i) { return {x: x, y: s[i]}; }); }
  new Chart(c, {type: "line", data: {datasets: [
      {label: "This year", data: pts(a), borderColor: "#0072B2", borderWidth: 1},
      {label: "Last year", data: pts(b), borderColor: "#E69F00", borderWidth: 1}]},
    options: {animation: false, parsing: false, normalized: true, maintainAspectRatio: false,
      elements: {point: {radius: 0}}, scales: {x: {type: "linear"}}}});
};""",
    "ECharts": """
window.DRAW = function (el, xs, a, b) {
  var chart = echarts.init(el, null, {renderer: "canvas"});
  function pts(s) { return xs.map(function (x, i) { return [x * 1000, s[i]]; }); }
  chart.setOption({animation: false, aria: {enabled: true}, tooltip: {trigger: "axis"},
    legend: {}, xAxis: {type: "time"}, yAxis: {type: "value"},
    series: [{name: "This year", type: "line", showSymbol: false, data: pts(a)},
             {name: "Last year", type: "line", showSymbol: false, data: pts(b)}]});
};""",
    "Frappe Charts": """
window.DRAW = function (el, xs, a, b) {
  new frappe.Chart(el, {type: "line", height: 220, animate: 0,
    data: {labels: xs.map(String), datasets: [{name: "This year", values: a}, {name: "Last year", values: b}]},
    lineOptions: {hideDots: 1}, axisOptions: {xIsSeries: 1}});
};""",
    "Observable Plot": """
window.DRAW = function (el, xs, a, b) {
  var rows = [];
  for (var i = 0; i < xs.length; i++) {
    rows.push({t: new Date(xs[i] * 1000), v: a[i], s: "This year"});
    rows.push({t: new Date(xs[i] * 1000), v: b[i], s: "Last year"});
  }
  el.appendChild(Plot.plot({width: 344, height: 220, color: {legend: true},
    marks: [Plot.lineY(rows, {x: "t", y: "v", stroke: "s", tip: true})]}));
};""",
}

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><link rel="stylesheet" href="page.css">
<script src="draw.js"></script><script src="bench.js" defer></script></head>
<body><div id="chart"></div></body></html>"""
PAGE_CSS = "body { margin: 8px; font: 14px sans-serif; } #chart { width: 344px; height: 260px; }"


class _Handler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002 - the base class's signature
        return


def gzipped_size(paths: list[Path]) -> tuple[int, int]:
    """Bytes minified and minified+gzipped (level 9), the JS and CSS a page downloads."""
    raw = b"".join(p.read_bytes() for p in paths)
    return len(raw), len(gzip.compress(raw, compresslevel=9, mtime=0))


def build_site(root: Path, modules: Path) -> None:
    for name, (_, files) in CANDIDATES.items():
        folder = root / slug(name)
        folder.mkdir(parents=True)
        served = []
        for file in files:
            shutil.copy(modules / file, folder / Path(file).name)
            served.append(Path(file).name)
        (folder / "index.html").write_text(PAGE)
        (folder / "page.css").write_text(PAGE_CSS)
        (folder / "draw.js").write_text(DRAW[name])
        (folder / "bench.js").write_text(COMMON_JS % {"points": POINTS, "files": json.dumps(served)})


def slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def measure(base: str, name: str, *, runs: int, throttle: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    loads, renders, violations, errors, drawn = [], [], [], [], set()
    aria = ""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        for _ in range(runs):
            context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=False, device_scale_factor=2)
            context.add_init_script(
                "window.__csp = []; document.addEventListener('securitypolicyviolation',"
                " (e) => window.__csp.push(e.violatedDirective + ' ' + e.sourceFile + ':' + e.lineNumber));"
            )
            page = context.new_page()
            page_errors: list[str] = []
            page.on("console", lambda m, sink=page_errors: sink.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, sink=page_errors: sink.append(str(e)))
            if throttle > 1:
                cdp = context.new_cdp_session(page)
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
            page.goto(f"{base}/{slug(name)}/index.html")
            result = page.evaluate("window.__bench")
            box = page.locator("#chart").bounding_box()
            if box:
                page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3)
                page.wait_for_timeout(150)
            # What a screen reader is given: the accessibility tree of the chart's container.
            aria = page.locator("#chart").aria_snapshot()
            loads.append(result["load_ms"])
            renders.append(result["render_ms"])
            drawn.add(result["drawn"])
            violations.extend(page.evaluate("window.__csp"))
            errors.extend(page_errors)
            context.close()
        browser.close()
    return {
        "load_ms": round(statistics.median(loads), 1),
        "render_ms": round(statistics.median(renders), 1),
        "drawn": ",".join(sorted(drawn)) or "nothing",
        "csp_violations": sorted(set(violations)),
        "console_errors": sorted(set(errors)),
        "aria": aria,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", type=Path, required=True, help="node_modules holding every candidate")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_site(root, args.modules)
        handler = lambda *a, **kw: _Handler(*a, directory=str(root), **kw)  # noqa: E731 - a one-use factory
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        rows: list[dict[str, object]] = []
        baseline: dict[int, float] = {}
        for name, (package, files) in CANDIDATES.items():
            version = json.loads((args.modules / package / "package.json").read_text())["version"] if package else "-"
            minified, gz = gzipped_size([args.modules / f for f in files]) if files else (0, 0)
            row: dict[str, object] = {"library": name, "version": version, "min_kb": round(minified / 1024, 1)}
            row["gzip_kb"] = round(gz / 1024, 1)
            details: dict[str, Any] = {}
            for throttle in (1, 4):
                figures = measure(base, name, runs=args.runs, throttle=throttle)
                if not package:
                    baseline[throttle] = figures["render_ms"]
                row[f"load_ms_x{throttle}"] = figures["load_ms"]
                row[f"render_ms_x{throttle}"] = figures["render_ms"]
                row[f"render_ratio_x{throttle}"] = round(figures["render_ms"] / max(baseline[throttle], 0.1), 1)
                details = figures
            row["drawn"] = details["drawn"]
            row["csp_violations"] = len(details["csp_violations"])
            row["console_errors"] = len(details["console_errors"])
            aria = " ".join(details["aria"].split())
            row["screen_reader_text"] = f"{len(aria)} chars" + (f": {aria[:60]}…" if aria else "")
            rows.append(row)
            if not args.json:
                for line in details["csp_violations"] + details["console_errors"]:
                    print(f"  {name}: {line}", file=sys.stderr)
        server.shutdown()
    report(f"Charts: {POINTS:,} hourly points x 2 series, {PHONE['width']} px wide, Chromium", rows, as_json=args.json)


if __name__ == "__main__":
    main()
