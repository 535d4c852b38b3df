"""What a receipt shows beyond its lines: taxes per rate and the exit pass as a QR code.

Shared by the shopper's receipt page and the counter's receipt.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import qrcode
import qrcode.image.svg
from django.utils.safestring import SafeString, mark_safe

from checkout.models import OrderLine


def tax_summary(lines: Iterable[OrderLine]) -> list[tuple[int, int, int]]:
    """(rate in basis points, gross, tax) per tax rate, for the receipt."""
    totals: dict[int, list[int]] = {}
    for line in lines:
        entry = totals.setdefault(line.tax_rate, [0, 0])
        entry[0] += line.line_total
        entry[1] += line.tax_amount
    return [(rate, gross, tax) for rate, (gross, tax) in sorted(totals.items())]


def qr_svg(text: str) -> SafeString:
    """An inline SVG QR code (no script, no style: fine under the CSP)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return mark_safe(svg[svg.index("<svg") :])  # noqa: S308 - generated here from our own signed token
