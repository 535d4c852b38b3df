#!/bin/sh
# Copy the front-end packages installed by npm into static/vendor/.
#
# static/vendor/ is committed, so running the app (make demo, CI, production) never needs npm
# or the network. Run this only to refresh a vendored file:
#   make vendor        (npm ci, then this script)
# POSIX sh on purpose: the Makefile runs it with `sh`.
set -eu

root="$(cd "$(dirname "$0")/.." && pwd)"
modules="$root/node_modules"
vendor="$root/static/vendor"

if [ ! -d "$modules" ]; then
    echo "vendor.sh: $modules is missing; run 'npm ci' in $root first." >&2
    exit 1
fi

# The installed version, from the package itself rather than package.json's range.
version_of() {
    node -p "require(process.argv[1]).version" "$modules/$1/package.json"
}

# vendor_file PACKAGE PATH-INSIDE-PACKAGE TARGET-NAME
vendor_file() {
    install -m 0644 "$modules/$1/$2" "$vendor/$3"
}

mkdir -p "$vendor"

htmx_version="$(version_of htmx.org)"
case "$htmx_version" in
    2.*) ;;
    # base.html's htmx-config and the CSP set-up are written for htmx 2.
    *) echo "vendor.sh: expected htmx.org 2.x, found $htmx_version" >&2; exit 1 ;;
esac
vendor_file htmx.org dist/htmx.min.js htmx.min.js
vendor_file htmx.org LICENSE htmx.LICENSE.txt

# zxing-wasm's reader: the in-page camera scanner (static/js/scanner.js) loads it only on phones
# whose browser has no BarcodeDetector. The IIFE build defines window.ZXingWASM without ES
# modules; scanner.js points its locateFile at our copy of the .wasm (never the CDN default).
zxing_version="$(version_of zxing-wasm)"
case "$zxing_version" in
    3.*) ;;
    # scanner.js uses the 3.x API (prepareZXingModule, readBarcodes, format names like EAN13).
    *) echo "vendor.sh: expected zxing-wasm 3.x, found $zxing_version" >&2; exit 1 ;;
esac
# The JS build records the SHA-256 of the .wasm it was made with; refuse a mismatched pair.
zxing_js="$modules/zxing-wasm/dist/iife/reader/index.js"
zxing_wasm="$modules/zxing-wasm/dist/reader/zxing_reader.wasm"
expected_sha="$(node -e '
    const m = require("fs").readFileSync(process.argv[1], "utf8").match(/ZXING_WASM_SHA256=`([0-9a-f]{64})`/);
    if (!m) { process.exit(1); }
    console.log(m[1]);
' "$zxing_js")" || { echo "vendor.sh: no ZXING_WASM_SHA256 in $zxing_js" >&2; exit 1; }
actual_sha="$(node -e '
    const data = require("fs").readFileSync(process.argv[1]);
    console.log(require("crypto").createHash("sha256").update(data).digest("hex"));
' "$zxing_wasm")"
if [ "$expected_sha" != "$actual_sha" ]; then
    echo "vendor.sh: zxing_reader.wasm does not match the reader build ($actual_sha != $expected_sha)" >&2
    exit 1
fi
# The zxing-cpp commit the .wasm was built from (the only 40-hex string in the build).
zxing_cpp_commit="$(node -e '
    const m = require("fs").readFileSync(process.argv[1], "utf8").match(/`([0-9a-f]{40})`/);
    console.log(m ? m[1] : "unknown");
' "$zxing_js")"
vendor_file zxing-wasm dist/iife/reader/index.js zxing_reader.js
vendor_file zxing-wasm dist/reader/zxing_reader.wasm zxing_reader.wasm
vendor_file zxing-wasm LICENSE zxing-wasm.LICENSE.txt
# The .wasm is compiled zxing-cpp (Apache-2.0), whose licence text the npm package does not
# ship. Debian's base-files has the text; elsewhere the committed copy is kept.
if [ -f /usr/share/common-licenses/Apache-2.0 ]; then
    install -m 0644 /usr/share/common-licenses/Apache-2.0 "$vendor/zxing-cpp.LICENSE.txt"
elif [ ! -f "$vendor/zxing-cpp.LICENSE.txt" ]; then
    echo "vendor.sh: need the Apache-2.0 text for $vendor/zxing-cpp.LICENSE.txt" >&2
    exit 1
fi

# uPlot draws the analytics charts (static/js/charts.js); chosen by measurement, see bench/charts.md.
# The IIFE build defines window.uPlot; its stylesheet lays out the legend and cursor, and it sets
# sizes through the CSSOM (element.style), which the CSP allows, never through style attributes.
uplot_version="$(version_of uplot)"
case "$uplot_version" in
    1.6.*) ;;
    # charts.js uses the 1.6 API (uPlot.paths.bars, tzDate, hooks.draw, the legend's live table).
    *) echo "vendor.sh: expected uplot 1.6.x, found $uplot_version" >&2; exit 1 ;;
esac
mkdir -p "$vendor/uplot"
vendor_file uplot dist/uPlot.iife.min.js uplot/uPlot.iife.min.js
vendor_file uplot dist/uPlot.min.css uplot/uPlot.min.css
vendor_file uplot LICENSE uplot/LICENSE.txt

# idb-keyval keeps the counter's price list and the sales made while Lingshou cannot be reached
# in the browser's IndexedDB (static/js/counter_offline.js). The UMD build defines window.idbKeyval.
idb_keyval_version="$(version_of idb-keyval)"
case "$idb_keyval_version" in
    6.*) ;;
    # counter_offline.js uses the 6.x API (createStore, get, set, update, del, values).
    *) echo "vendor.sh: expected idb-keyval 6.x, found $idb_keyval_version" >&2; exit 1 ;;
esac
vendor_file idb-keyval dist/umd.js idb-keyval.js
vendor_file idb-keyval LICENCE idb-keyval.LICENSE.txt

# Provenance for reviewers: which package version each vendored file came from.
{
    echo "# Written by scripts/vendor.sh; do not edit by hand."
    echo "htmx.min.js htmx.LICENSE.txt  htmx.org@$htmx_version"
    echo "zxing_reader.js zxing_reader.wasm zxing-wasm.LICENSE.txt  zxing-wasm@$zxing_version (dist/iife/reader, dist/reader)"
    echo "zxing_reader.wasm sha256  $actual_sha"
    echo "zxing-cpp.LICENSE.txt  zxing-cpp@$zxing_cpp_commit (Apache-2.0, compiled into zxing_reader.wasm)"
    echo "uplot/uPlot.iife.min.js uplot/uPlot.min.css uplot/LICENSE.txt  uplot@$uplot_version (dist)"
    echo "idb-keyval.js idb-keyval.LICENSE.txt  idb-keyval@$idb_keyval_version (dist/umd.js)"
} > "$vendor/VERSIONS.txt"

echo "Vendored into static/vendor/: htmx.org@$htmx_version zxing-wasm@$zxing_version uplot@$uplot_version idb-keyval@$idb_keyval_version"
