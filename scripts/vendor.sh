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

# Provenance for reviewers: which package version each vendored file came from.
{
    echo "# Written by scripts/vendor.sh; do not edit by hand."
    echo "htmx.min.js htmx.LICENSE.txt  htmx.org@$htmx_version"
} > "$vendor/VERSIONS.txt"

echo "Vendored into static/vendor/: htmx.org@$htmx_version"
