"""What a receipt shows beyond its lines: their order, the totals (goods, discounts, deposits) with the taxes
per rate, and the exit pass as a QR code.

Shared by the shopper's cart, pay and receipt pages (templates/shopper/_totals.html), the counter's sale and
receipt, and the order page.
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
from checkout.selectors.orders import rate_text
from checkout.services.pricing import order_totals


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
    subtotal: int  # the goods, before discounts and without deposits
    taxes: list[TaxTotal]
    total: int
    refunded: int = 0
    discounts: int = 0
    deposit: int = 0
    deposit_returned: int = 0


def _tax_totals(lines: list[OrderLine], *, prices_include_tax: bool) -> list[TaxTotal]:
    word = "incl." if prices_include_tax else "plus"
    return [
        TaxTotal(label=f"{word} {rate_text(rate)} VAT", tax=tax)
        # The higher rate first, as German receipts list them.
        for rate, _gross, tax in sorted(tax_summary(lines), reverse=True)
        if rate
    ]


def _totals(
    lines: list[OrderLine], *, currency: str, prices_include_tax: bool, total: int, refunded: int = 0
) -> Totals:
    sales = [line for line in lines if not line.is_deposit]
    return Totals(
        currency=currency,
        # A weighed piece counts as one item, whatever it weighs.
        units=sum(line.quantity for line in sales),
        subtotal=sum(line.gross_total for line in sales),
        taxes=_tax_totals(lines, prices_include_tax=prices_include_tax),
        total=total,
        refunded=refunded,
        discounts=sum(line.discount + line.sale_discount for line in sales),
        deposit=sum(line.line_total for line in lines if line.kind == LineKind.DEPOSIT),
        deposit_returned=-sum(line.line_total for line in lines if line.kind == LineKind.DEPOSIT_RETURN),
    )


def cart_totals(lines: Iterable[OrderLine], *, currency: str, prices_include_tax: bool) -> Totals:
    """The totals of priced, unsaved lines: what the order placed from this cart will charge."""
    lines = list(lines)
    _subtotal, _tax, total = order_totals(lines, prices_include_tax=prices_include_tax)
    return _totals(lines, currency=currency, prices_include_tax=prices_include_tax, total=total)


def order_totals_shown(order: Order, lines: Iterable[OrderLine]) -> Totals:
    """An order's totals as it was charged (its own total), with its lines' goods, discounts, deposits and taxes."""
    return _totals(
        list(lines),
        currency=order.currency,
        prices_include_tax=order.prices_include_tax,
        total=order.total,
        refunded=order.amount_refunded,
    )


def qr_svg(text: str) -> SafeString:
    """An inline SVG QR code (no script, no style: fine under the CSP)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return mark_safe(svg[svg.index("<svg") :])  # noqa: S308 - generated here from our own signed token  # nosec B308, B703
