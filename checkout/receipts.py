"""What a receipt shows beyond its lines: the totals with the taxes per rate, and the exit pass as a QR code.

Shared by the shopper's cart, pay and receipt pages (templates/shopper/_totals.html) and the counter's receipt.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.utils.safestring import SafeString, mark_safe

from checkout.models import Order, OrderLine
from checkout.selectors.orders import rate_text
from checkout.services.pricing import order_totals


def tax_summary(lines: Iterable[OrderLine]) -> list[tuple[int, int, int]]:
    """(rate in basis points, gross, tax) per tax rate, for the receipt."""
    totals: dict[int, list[int]] = {}
    for line in lines:
        entry = totals.setdefault(line.tax_rate, [0, 0])
        entry[0] += line.line_total
        entry[1] += line.tax_amount
    return [(rate, gross, tax) for rate, (gross, tax) in sorted(totals.items())]


@dataclass(frozen=True)
class TaxTotal:
    """The tax of one rate: 'incl. 19 % VAT' where prices include it, 'plus 19 % VAT' where it is added."""

    label: str
    tax: int


@dataclass(frozen=True)
class Totals:
    """What the totals box shows, minor units: the sum of the lines, the tax per rate, what is paid.

    Every line between the subtotal and the taxes (a deposit, a discount) is one more field here
    and one more row in templates/shopper/_totals.html, never a second box.
    """

    currency: str
    units: int
    subtotal: int
    taxes: list[TaxTotal]
    total: int
    refunded: int = 0


def _tax_totals(lines: list[OrderLine], *, prices_include_tax: bool) -> list[TaxTotal]:
    word = "incl." if prices_include_tax else "plus"
    return [
        TaxTotal(label=f"{word} {rate_text(rate)} VAT", tax=tax)
        # The higher rate first, as German receipts list them.
        for rate, _gross, tax in sorted(tax_summary(lines), reverse=True)
        if rate
    ]


def cart_totals(lines: Iterable[OrderLine], *, currency: str, prices_include_tax: bool) -> Totals:
    """The totals of priced, unsaved lines: what the order placed from this cart will charge."""
    lines = list(lines)
    subtotal, _tax, total = order_totals(lines, prices_include_tax=prices_include_tax)
    return Totals(
        currency=currency,
        units=sum(line.quantity for line in lines),
        subtotal=subtotal,
        taxes=_tax_totals(lines, prices_include_tax=prices_include_tax),
        total=total,
    )


def order_totals_shown(order: Order, lines: Iterable[OrderLine]) -> Totals:
    """An order's totals as it was charged (its own subtotal and total), with its lines' taxes per rate."""
    lines = list(lines)
    return Totals(
        currency=order.currency,
        units=sum(line.quantity for line in lines),
        subtotal=order.subtotal,
        taxes=_tax_totals(lines, prices_include_tax=order.prices_include_tax),
        total=order.total,
        refunded=order.amount_refunded,
    )


def qr_svg(text: str) -> SafeString:
    """An inline SVG QR code (no script, no style: fine under the CSP)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return mark_safe(svg[svg.index("<svg") :])  # noqa: S308 - generated here from our own signed token
