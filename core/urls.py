"""Where each audience's pages live: the one place the URL prefixes are written.

Each app has one ``urls.py`` with its ``app_name`` and a list per audience, relative to that
audience's prefix, and hands them to ``audiences``; ``config/urls.py`` includes every app once.
Reverse names through the app's namespace: ``reverse("checkout:cart", args=[store.code])``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.urls import URLPattern, URLResolver, include, path

Patterns = Sequence[URLPattern | URLResolver]

# Shoppers, on their phones after scanning a store's QR code: /s/<store code>/…
SHOPPER = "s/<str:store_code>/"
# Staff of one merchant, in the dashboard: /m/<merchant slug>/…
DASHBOARD = "m/<slug:slug>/"
# Scripts, devices and owners' own tools: /api/v1/…
API = "api/v1/"


def audiences(
    *, shopper: Patterns = (), dashboard: Patterns = (), api: Patterns = (), site: Patterns = ()
) -> list[URLPattern | URLResolver]:
    """An app's URL patterns: each audience's list under its prefix, and ``site`` for paths of their own."""
    prefixed = ((SHOPPER, shopper), (DASHBOARD, dashboard), (API, api))
    return [*(path(prefix, include(list(patterns))) for prefix, patterns in prefixed if patterns), *site]
