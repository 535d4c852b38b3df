"""The URL map: every app once under its namespace, no pattern hidden by another (include order is irrelevant)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

APPS = ["merchants", "catalog", "checkout", "sensing", "ordering", "analytics"]

# A value each path converter accepts, to turn a pattern into a real path.
SAMPLES = {"int": "7", "slug": "kiosk-linden", "str": "LINDEN5", "uuid": str(uuid.UUID(int=5)), "path": "a/b"}


def _named(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    """(full view name, route with converters) of every named pattern below the resolver."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named(entry, route, inner)
        elif isinstance(entry, URLPattern) and entry.name and not route.startswith("admin/"):
            yield f"{namespace}{entry.name}", route


def _path(route: str) -> str:
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m.group(1) or "str"], route).lstrip("^").rstrip("$")


def test_every_app_is_included_once_under_its_own_namespace() -> None:
    namespaces = [entry.namespace for entry in get_resolver().url_patterns if isinstance(entry, URLResolver)]
    assert sorted(ns for ns in namespaces if ns in APPS) == sorted(APPS)
    # Django's own check for namespaces that are not unique.
    assert [m for m in checks.run_checks(tags=[checks.Tags.urls]) if m.id == "urls.W005"] == []


@pytest.mark.parametrize(("name", "route"), sorted(set(_named(get_resolver()))))
def test_each_named_path_resolves_to_its_own_view(name: str, route: str) -> None:
    """No earlier pattern takes a later one's path: the map means the same in any include order."""
    if "(?P" in route:  # a regular-expression route (media): not a named app page
        pytest.skip("regex route")
    match = resolve(_path(route))
    assert match.view_name == name, f"{_path(route)} goes to {match.view_name}, not {name}"


def test_shopper_dashboard_and_api_prefixes_come_from_one_place() -> None:
    assert reverse("checkout:cart", args=["LINDEN5"]) == "/s/LINDEN5/cart/"
    assert reverse("catalog:product_lookup", kwargs={"store_code": "LINDEN5", "code": "4006381333931"}) == (
        "/s/LINDEN5/p/4006381333931/"
    )
    assert reverse("ordering:section_restock", kwargs={"slug": "kiosk-linden"}) == "/m/kiosk-linden/restock/"
    assert reverse("analytics:overview", kwargs={"slug": "kiosk-linden"}) == "/m/kiosk-linden/"
    assert reverse("sensing:api_sensing_frames") == "/api/v1/sensing/frames"
    assert reverse("merchants:home") == "/"
