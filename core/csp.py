"""Content-Security-Policy additions, each for the few responses that need it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from csp.decorators import csp_update
from django.http import HttpResponseBase

View = TypeVar("View", bound=Callable[..., Any])

# The shopper's camera scanner falls back to zxing-wasm, which compiles WebAssembly. This is
# 'wasm-unsafe-eval' (WebAssembly only), never 'unsafe-eval'; only pages with the scanner get it.
SCANNER_CSP = {"script-src": ["'wasm-unsafe-eval'"]}


def scanner_csp(view: View) -> View:
    """Allow the scanner's WebAssembly on this view's pages (django-csp's decorator, typed for any view)."""
    return cast(View, csp_update(SCANNER_CSP)(view))


# Stripe's Payment Element: Stripe.js must be loaded from js.stripe.com (Stripe's PCI terms forbid
# self-hosting it) and draws its card fields in frames from there. Only the pay page, and only
# when real keys are configured, gets these sources.
PAYMENT_ELEMENT_CSP = {
    "script-src": ["https://js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


Response = TypeVar("Response", bound=HttpResponseBase)


def payment_element_allow(response: Response) -> Response:
    """Add Stripe's sources to this one response's policy (django-csp reads ``_csp_update``)."""
    response._csp_update = PAYMENT_ELEMENT_CSP  # type: ignore[attr-defined]
    return response
