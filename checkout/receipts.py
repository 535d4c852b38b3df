"""What a receipt shows beyond its lines: their order, the totals (goods, discounts, deposits), taxes per
rate and the exit pass as a QR code.

Shared by the shopper's receipt page, the counter's sale and receipt, and the order page.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.utils.safestring import SafeString, mark_safe

from checkout.choices import LineKind
from checkout.models import Order, OrderLine


def receipt_order(lines: Iterable[OrderLine]) -> list[OrderLine]:
    """Lines in the order they were added, each deposit right after the product line it is for."""
    lines = sorted(lines, key=lambda line: line.pk or 0)
    deposits: dict[int, list[OrderLine]] = {}
    for line in lines:
        if line.deposit_for_id is not None:
            deposits.setdefault(line.deposit_for_id, []).append(line)
    ordered = []
    for line in lines:
        if line.deposit_for_id is None:
            ordered.append(line)
            ordered.extend(deposits.pop(line.pk, []))
    # A deposit whose product line is not among these (never on a whole order) still shows.
    return ordered + [line for rest in deposits.values() for line in rest]


@dataclass(frozen=True)
class ReceiptTotals:
    """The money of a receipt, minor units, as its totals block shows it; deposits apart from the goods.

    goods − line discounts − sale discount + deposit − deposit returned (+ tax when prices exclude
    it) = total.
    """

    goods: int
    line_discounts: int
    sale_discount: int
    deposit: int
    deposit_returned: int
    total: int

    @property
    def has_adjustments(self) -> bool:
        """Whether anything stands between the goods and the total (otherwise the total says it all)."""
        return bool(self.line_discounts or self.sale_discount or self.deposit or self.deposit_returned)


def receipt_rows(order: Order, lines: Sequence[OrderLine]) -> ReceiptTotals:
    """The totals block of ``order`` from its lines."""
    return ReceiptTotals(
        goods=sum(line.gross_total for line in lines if line.is_sale),
        line_discounts=sum(line.discount for line in lines),
        sale_discount=order.sale_discount,
        deposit=sum(line.line_total for line in lines if line.kind == LineKind.DEPOSIT),
        deposit_returned=-sum(line.line_total for line in lines if line.kind == LineKind.DEPOSIT_RETURN),
        total=order.total,
    )


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
