"""Where the tax arithmetic used to live: it moved to ``catalog.taxes`` (the catalog shows margins without tax)."""

from catalog.taxes import RATES, line_tax, rate

__all__ = ["RATES", "line_tax", "rate"]
