"""The one order arithmetic: a line's price and tax, and an order's totals, for phone orders and counter sales alike.

A line's total is its unit price times its quantity; its tax is in that total (prices with tax)
or on top of it (prices without), per line, rounded half up (``catalog.taxes``). An order's
subtotal and tax are the sums of its lines'; what the shopper pays is the subtotal, plus the tax
when prices do not include it. Each line keeps the cost of one unit when it is written (the
store product's average cost then, None when unknown) and the product's category then, so its margin
and its category never move afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from catalog import taxes
from catalog.models import StoreProduct
from checkout.models import Order, OrderLine
from merchants.models import Store


def order_line_price(line: OrderLine, *, quantity: int, prices_include_tax: bool) -> None:
    """Set the line's quantity and price it again at its own unit price and tax rate (not saved)."""
    line.quantity = quantity
    line.line_total = line.unit_price * quantity
    line.tax_amount = taxes.line_tax(
        line_total=line.line_total, rate_bp=line.tax_rate, prices_include_tax=prices_include_tax
    )


def order_lines_price(
    *, store: Store, quantities: list[tuple[StoreProduct, int]], order: Order | None = None
) -> list[OrderLine]:
    """Lines at the store's prices, tax rates and average costs of now, not saved.

    Without an order they price a cart: the cart page shows the same figures the order will have.
    """
    order_lines = []
    for item, quantity in quantities:
        line = OrderLine(
            merchant_id=store.merchant_id,
            order=order,
            store_product=item,
            name=item.name[:200],
            category_id=item.product.category_id if item.product else None,
            unit_price=item.price,
            tax_class=item.tax_class,
            tax_rate=taxes.rate(country=store.country, tax_class=item.tax_class),
            is_age_restricted=item.is_age_restricted,
            # The cost as it is now, kept on the line: a later delivery or edit moves the product's
            # average cost, never the margin of what was already sold.
            unit_cost=item.average_cost,
        )
        order_line_price(line, quantity=quantity, prices_include_tax=store.prices_include_tax)
        order_lines.append(line)
    return order_lines


def order_lines_add(*, order: Order, store: Store, quantities: list[tuple[StoreProduct, int]]) -> list[OrderLine]:
    """Write new lines on the order at the store's prices, tax rates and average costs of now; one statement."""
    return OrderLine.objects.bulk_create(order_lines_price(store=store, quantities=quantities, order=order))


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


def order_totals_write(*, order: Order, lines: Iterable[OrderLine]) -> None:
    """Set and save the order's subtotal, tax, total and age check from all of its lines."""
    lines = list(lines)
    order.subtotal, order.tax_total, order.total = order_totals(lines, prices_include_tax=order.prices_include_tax)
    order.requires_age_check = any(line.is_age_restricted for line in lines)
    order.save(update_fields=["subtotal", "tax_total", "total", "requires_age_check"])
