"""Content-Security-Policy additions, each for the few responses that need it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from csp.decorators import csp_update

View = TypeVar("View", bound=Callable[..., Any])

# The shopper's camera scanner falls back to zxing-wasm, which compiles WebAssembly. This is
# 'wasm-unsafe-eval' (WebAssembly only), never 'unsafe-eval'; only pages with the scanner get it.
SCANNER_CSP = {"script-src": ["'wasm-unsafe-eval'"]}


def scanner_csp(view: View) -> View:
    """Allow the scanner's WebAssembly on this view's pages (django-csp's decorator, typed for any view)."""
    return cast(View, csp_update(SCANNER_CSP)(view))
