"""The one order arithmetic: a line's price and tax, and an order's totals, for phone orders and counter sales alike.

A line's total is its unit price times its quantity, less its discounts (the clerk's discount of the
line and its share of a discount on the whole sale); its tax is in that total (prices with tax) or
on top of it (prices without), per line, rounded half up (``catalog.taxes``). An order's subtotal
and tax are the sums of its lines'; what the shopper pays is the subtotal, plus the tax when prices
do not include it. Each line keeps the cost of one unit when it is written (the store product's
average cost then, None when unknown) and the product's category then, so its margin and its
category never move afterwards.

Lines that are not products:
- a product with a deposit (Pfand) brings a deposit line of its own, one deposit per unit, taxed at
  the product's rate (German VAT treats the deposit as part of the price of what is in the bottle);
- a return slip is a deposit line with a negative price, taxed at the standard rate (a slip does
  not say what the bottles held, and most deposit bottles are drinks at the standard rate);
- an open-price line is an item without a barcode at a price and VAT rate the clerk gives.
Deposits are shown apart in the totals, are never discounted, and are not sales (analytics).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from catalog import taxes
from catalog.models import StoreProduct, TaxClass
from checkout.choices import DEPOSIT_KINDS, SALE_KINDS, LineKind
from checkout.models import Order, OrderLine
from core.money import format_amount
from merchants.models import Store

DEPOSIT_NAME = "Deposit"
RETURN_SLIP_NAME = "Deposit return slip"


@dataclass(frozen=True)
class Sold:
    """One product to put on an order: how many, and, for a scale label, the label and what it says."""

    item: StoreProduct
    quantity: int
    code: str = ""
    label_price: int | None = None
    weight_grams: int | None = None


def percent_of(amount: int, basis_points: int) -> int:
    """``basis_points`` / 100 per cent of ``amount``, rounded half up (1000 bp of 249 = 25)."""
    return int((Decimal(amount) * basis_points / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def line_price(line: OrderLine, *, prices_include_tax: bool) -> None:
    """Price the line again from its unit price, quantity, discounts and tax rate (not saved)."""
    line.line_total = line.unit_price * line.quantity - line.discount - line.sale_discount
    line.tax_amount = taxes.line_tax(
        line_total=line.line_total, rate_bp=line.tax_rate, prices_include_tax=prices_include_tax
    )


def order_line_price(line: OrderLine, *, quantity: int, prices_include_tax: bool) -> None:
    """Set the line's quantity and price it again at its own unit price and tax rate (not saved)."""
    line.quantity = quantity
    line_price(line, prices_include_tax=prices_include_tax)


def deposit_line_follow(deposit: OrderLine, *, product_line: OrderLine, prices_include_tax: bool) -> None:
    """A deposit line takes its product line's quantity: one deposit per unit (not saved)."""
    order_line_price(deposit, quantity=product_line.quantity, prices_include_tax=prices_include_tax)


def _deposit_line(*, order: Order | None, store: Store, product_line: OrderLine, item: StoreProduct) -> OrderLine:
    line = OrderLine(
        merchant_id=store.merchant_id,
        order=order,
        kind=LineKind.DEPOSIT,
        deposit_for=product_line,
        name=f"{DEPOSIT_NAME} {item.name}"[:200],
        unit_price=item.deposit,
        tax_class=product_line.tax_class,
        tax_rate=product_line.tax_rate,
    )
    deposit_line_follow(line, product_line=product_line, prices_include_tax=store.prices_include_tax)
    return line


def order_lines_price(*, store: Store, sold: Sequence[Sold], order: Order | None = None) -> list[OrderLine]:
    """Product lines at the store's prices (or their scale labels'), tax rates and average costs of now, not saved.

    Without an order they price a cart: the cart page shows the same figures the order will have.
    """
    order_lines = []
    for entry in sold:
        item = entry.item
        # A weighed item's cost is its grams' cost: the average cost of a product sold by weight is per gram.
        cost = item.average_cost
        if cost is not None and entry.weight_grams:
            cost *= entry.weight_grams
        line = OrderLine(
            merchant_id=store.merchant_id,
            order=order,
            kind=LineKind.PRODUCT,
            store_product=item,
            code=entry.code,
            weight_grams=entry.weight_grams,
            name=item.name[:200],
            category_id=item.product.category_id if item.product else None,
            unit_price=item.price if entry.label_price is None else entry.label_price,
            tax_class=item.tax_class,
            tax_rate=taxes.rate(country=store.country, tax_class=item.tax_class),
            is_age_restricted=item.is_age_restricted,
            # The cost as it is now, kept on the line: a later delivery or edit moves the product's
            # average cost, never the margin of what was already sold.
            unit_cost=cost,
        )
        order_line_price(line, quantity=entry.quantity, prices_include_tax=store.prices_include_tax)
        order_lines.append(line)
    return order_lines


def deposit_lines_price(
    *, store: Store, sold: Sequence[Sold], product_lines: Sequence[OrderLine], order: Order | None = None
) -> list[OrderLine]:
    """The deposit line of each product line whose product carries a deposit, not saved."""
    return [
        _deposit_line(order=order, store=store, product_line=line, item=entry.item)
        for line, entry in zip(product_lines, sold, strict=True)
        if entry.item.deposit > 0
    ]


def order_lines_add(*, order: Order, store: Store, sold: Sequence[Sold]) -> list[OrderLine]:
    """Write new product lines at the store's prices (or their scale labels'), tax rates and average costs of
    now, each followed by its deposit line when the product carries a deposit; two statements at most."""
    created = OrderLine.objects.bulk_create(order_lines_price(store=store, sold=sold, order=order))
    deposits = deposit_lines_price(store=store, sold=sold, product_lines=created, order=order)
    if deposits:
        created += OrderLine.objects.bulk_create(deposits)
    return created


def open_price_line(*, order: Order, store: Store, name: str, amount: int, tax_class: str) -> OrderLine:
    """An item without a barcode at the price and VAT rate the clerk gives (not saved)."""
    line = OrderLine(
        merchant_id=order.merchant_id,
        order=order,
        kind=LineKind.OPEN_PRICE,
        name=name[:200],
        unit_price=amount,
        tax_class=tax_class,
        tax_rate=taxes.rate(country=store.country, tax_class=tax_class),
    )
    order_line_price(line, quantity=1, prices_include_tax=store.prices_include_tax)
    return line


def return_slip_line(*, order: Order, store: Store, code: str, value: int) -> OrderLine:
    """The deposit a return slip gives back, as a negative line at the standard rate (not saved)."""
    line = OrderLine(
        merchant_id=order.merchant_id,
        order=order,
        kind=LineKind.DEPOSIT_RETURN,
        code=code,
        name=RETURN_SLIP_NAME,
        unit_price=-value,
        tax_class=TaxClass.STANDARD,
        tax_rate=taxes.rate(country=store.country, tax_class=TaxClass.STANDARD),
    )
    order_line_price(line, quantity=1, prices_include_tax=store.prices_include_tax)
    return line


def bottles_return_line(*, order: Order, store: Store, bottles: int, deposit: int) -> OrderLine:
    """Bottles the clerk took back by hand, as a return slip's negative line: ``bottles`` × the ``deposit`` at the
    standard rate (not saved). Named for the receipt: "Deposit returned: 6 x 0,25 €"."""
    line = OrderLine(
        merchant_id=order.merchant_id,
        order=order,
        kind=LineKind.DEPOSIT_RETURN,
        name=f"Deposit returned: {bottles} x {format_amount(deposit, order.currency)}",
        unit_price=-deposit,
        tax_class=TaxClass.STANDARD,
        tax_rate=taxes.rate(country=store.country, tax_class=TaxClass.STANDARD),
    )
    order_line_price(line, quantity=bottles, prices_include_tax=store.prices_include_tax)
    return line


def sale_discount_shares(lines: Sequence[OrderLine], amount: int) -> dict[int, int]:
    """``amount`` shared out over the sale lines in proportion to what each costs after its own discount.

    Rounded down, with the cents left over given one each to the lines with the largest remainders
    (ties: the earlier line), so the shares add up to ``amount`` exactly. Keyed by position in ``lines``.
    """
    bases = {i: line.gross_total - line.discount for i, line in enumerate(lines) if line.kind in SALE_KINDS}
    total = sum(bases.values())
    if amount <= 0 or total <= 0:
        return dict.fromkeys(bases, 0)
    shares = {i: amount * base // total for i, base in bases.items()}
    left = amount - sum(shares.values())
    by_remainder = sorted(bases, key=lambda i: (-(amount * bases[i] % total), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares


def sale_discount_base(lines: Iterable[OrderLine]) -> int:
    """What a discount on the whole sale is taken off: the sale lines after their own discounts."""
    return sum(line.gross_total - line.discount for line in lines if line.kind in SALE_KINDS)


class Totals(NamedTuple):
    subtotal: int
    tax_total: int
    total: int


def order_totals(lines: Iterable[OrderLine], *, prices_include_tax: bool) -> Totals:
    """The subtotal, tax and amount to pay of priced lines."""
    lines = list(lines)
    subtotal = sum(line.line_total for line in lines)
    tax_total = sum(line.tax_amount for line in lines)
    return Totals(subtotal, tax_total, subtotal if prices_include_tax else subtotal + tax_total)


def deposit_total(lines: Iterable[OrderLine], *, prices_include_tax: bool) -> int:
    """Deposits charged less deposits returned, as the shopper pays them (their tax added when prices exclude it)."""
    return sum(
        line.line_total + (0 if prices_include_tax else line.tax_amount) for line in lines if line.kind in DEPOSIT_KINDS
    )


def order_totals_write(*, order: Order, lines: Iterable[OrderLine]) -> None:
    """Set and save the order's subtotal, tax, total, deposits, discounts and age check from all of its lines."""
    lines = list(lines)
    order.subtotal, order.tax_total, order.total = order_totals(lines, prices_include_tax=order.prices_include_tax)
    order.deposit_total = deposit_total(lines, prices_include_tax=order.prices_include_tax)
    order.discount_total = sum(line.discount + line.sale_discount for line in lines)
    order.requires_age_check = any(line.is_age_restricted for line in lines)
    order.save(
        update_fields=["subtotal", "tax_total", "total", "deposit_total", "discount_total", "requires_age_check"]
    )
