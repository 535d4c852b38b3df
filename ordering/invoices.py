"""The wholesaler's invoice of a shipped order: what left the depot at the prices ordered, net, VAT per rate, gross.

Wholesale prices are net. VAT is charged on each rate's net sum, rounded half up once per rate (as
an invoice under § 14 UStG states it), not line by line; a line's rate is that of the product that
was shipped (a substitute's own tax class), in the store's country: the delivery is domestic.
Both parties' VAT ids are printed: the shop needs the wholesaler's to deduct what it paid.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from catalog.taxes import line_tax, rate
from core.money import format_amount
from ordering.models import PurchaseOrder
from ordering.pdf import Invoice, InvoiceLine, InvoiceRate

SUBSTITUTE_NOTE = "Substituted products are invoiced at the price of the product ordered."


def vat_by_rate(amounts: Iterable[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(rate in basis points, net) pairs -> (rate, net sum, VAT on it) per rate, highest rate first."""
    nets: dict[int, int] = defaultdict(int)
    for rate_bp, net in amounts:
        nets[rate_bp] += net
    return [
        (rate_bp, net, line_tax(line_total=net, rate_bp=rate_bp, prices_include_tax=False))
        for rate_bp, net in sorted(nets.items(), reverse=True)
    ]


def rate_label(rate_bp: int) -> str:
    """1900 -> '19 %', 550 -> '5,5 %' (as a German invoice writes it)."""
    return f"{rate_bp / 100:g}".replace(".", ",") + " %"


def invoice_build(*, order: PurchaseOrder, issued: dt.date) -> Invoice:
    """The invoice of a shipped order; ``order`` comes with its merchant, store and depot's wholesaler."""
    currency = order.currency
    store = order.store
    wholesaler = order.depot.wholesaler
    shipped = [
        line
        for line in order.lines.select_related("product", "substitute").order_by("product__name")
        if line.shipped_quantity
    ]
    rows = []
    for line in shipped:
        product = line.shipped_product
        net = (line.shipped_quantity or 0) * line.unit_cost
        rows.append((line, product, net, rate(country=store.country, tax_class=product.tax_class)))
    rates = vat_by_rate((rate_bp, net) for _line, _product, net, rate_bp in rows)
    net_total = sum(net for _rate, net, _vat in rates)
    gross = net_total + sum(vat for _rate, _net, vat in rates)

    def money(minor: int) -> str:
        return format_amount(minor, currency)

    return Invoice(
        number=f"INV-{order.number}",
        issued=issued,
        seller=wholesaler.name,
        seller_address=order.depot.address or order.depot.name,
        seller_vat_id=wholesaler.vat_id,
        buyer=f"{order.merchant.name}, {store.name}",
        buyer_address=store.address,
        buyer_vat_id=store.vat_id,
        buyer_tax_number=store.tax_number,
        order_number=order.number,
        delivery_date=order.delivery_date,
        lines=[
            InvoiceLine(
                product=str(product),
                gtin=product.gtin,
                units=line.shipped_quantity or 0,
                unit_price=money(line.unit_cost),
                amount=money(net),
                vat_rate=rate_label(rate_bp),
            )
            for line, product, net, rate_bp in rows
        ],
        net_total=money(net_total),
        rates=[InvoiceRate(rate=rate_label(rate_bp), net=money(net), vat=money(vat)) for rate_bp, net, vat in rates],
        total=money(gross),
        note=SUBSTITUTE_NOTE if any(line.substitute_id for line in shipped) else "",
    )
