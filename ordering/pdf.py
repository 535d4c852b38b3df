"""Printable PDFs of the wholesaler: consolidated pick lists per delivery day and route, and invoices.

Framework-free: plain data in, PDF bytes out. Set in the PDF standard fonts (Helvetica), like the
shelf labels (catalog/labels.py), so nothing is embedded; tables come from reportlab's platypus,
which breaks long lists across pages and repeats the header row.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

_STYLES = getSampleStyleSheet()
_GRID = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.Color(0.75, 0.75, 0.75)),
        ("ALIGN", (-3, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


@dataclass(frozen=True)
class PickRow:
    """One product to pick for one store."""

    product: str
    gtin: str
    store: str
    order_number: str
    cases: int
    case_pack: int
    units: int


@dataclass(frozen=True)
class PickGroup:
    """Everything one route carries on one delivery day."""

    delivery_date: dt.date
    route: str
    depot: str
    rows: Sequence[PickRow]


def _text(value: str) -> str:
    # Paragraph reads a little markup: escape what the catalog may contain.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _document(title: str) -> tuple[io.BytesIO, SimpleDocTemplate]:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="Lingshou",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    return buffer, doc


def pick_list_pdf(*, groups: Sequence[PickGroup]) -> bytes:
    """A pick list per delivery day and route: products summed over stores (pick once), then per store."""
    buffer, doc = _document("Pick list")
    story: list[object] = []
    for index, group in enumerate(groups):
        if index:
            story.append(PageBreak())
        route = group.route or "no route"
        story.append(
            Paragraph(_text(f"Pick list {group.delivery_date:%a %d %b %Y} · {route} · {group.depot}"), _STYLES["Title"])
        )
        totals: dict[tuple[str, str], list[int]] = {}
        for row in group.rows:
            total = totals.setdefault((row.product, row.gtin), [0, 0, row.case_pack])
            total[0] += row.cases
            total[1] += row.units
        story.append(Paragraph("Consolidated", _STYLES["Heading2"]))
        table = [["Product", "GTIN", "Cases", "Case pack", "Units"]]
        table += [
            [Paragraph(_text(name), _STYLES["BodyText"]), gtin, str(c), str(pack), str(u)]
            for (name, gtin), (c, u, pack) in sorted(totals.items())
        ]
        story.append(Table(table, colWidths=[75 * mm, 35 * mm, 20 * mm, 20 * mm, 20 * mm], repeatRows=1, style=_GRID))
        story.append(Spacer(1, 6 * mm))
        story.append(Paragraph("Per store", _STYLES["Heading2"]))
        per_store = [["Store", "Order", "Product", "Cases", "Units"]]
        per_store += [
            [
                Paragraph(_text(row.store), _STYLES["BodyText"]),
                row.order_number,
                Paragraph(_text(row.product), _STYLES["BodyText"]),
                str(row.cases),
                str(row.units),
            ]
            for row in sorted(group.rows, key=lambda r: (r.store, r.product))
        ]
        story.append(
            Table(per_store, colWidths=[40 * mm, 28 * mm, 72 * mm, 15 * mm, 15 * mm], repeatRows=1, style=_GRID)
        )
    if not groups:
        story.append(Paragraph("Nothing to pick.", _STYLES["Title"]))
    doc.build(story)
    return buffer.getvalue()


@dataclass(frozen=True)
class InvoiceLine:
    product: str
    gtin: str
    units: int
    unit_price: str
    amount: str
    vat_rate: str = ""


@dataclass(frozen=True)
class InvoiceRate:
    """The VAT of one rate: the net amount it is charged on and the tax."""

    rate: str
    net: str
    vat: str


@dataclass(frozen=True)
class Invoice:
    number: str
    issued: dt.date
    seller: str
    seller_address: str
    buyer: str
    buyer_address: str
    order_number: str
    delivery_date: dt.date
    lines: Sequence[InvoiceLine]
    total: str
    note: str = ""
    seller_vat_id: str = ""
    buyer_vat_id: str = ""
    buyer_tax_number: str = ""
    # Net total, VAT per rate and the gross total (``total``); an invoice without them shows only ``total``.
    net_total: str = ""
    rates: Sequence[InvoiceRate] = ()


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """An invoice of what was shipped, at the wholesale prices the order was placed at: net, VAT per rate, gross."""
    buffer, doc = _document(f"Invoice {invoice.number}")
    body = _STYLES["BodyText"]
    seller = f"{invoice.seller} · {invoice.seller_address}"
    buyer_ids = " · ".join(
        part
        for part in (
            f"VAT id {invoice.buyer_vat_id}" if invoice.buyer_vat_id else "",
            f"Tax number {invoice.buyer_tax_number}" if invoice.buyer_tax_number else "",
        )
        if part
    )
    story: list[object] = [
        Paragraph(_text(f"Invoice {invoice.number}"), _STYLES["Title"]),
        Paragraph(_text(seller), body),
        *([Paragraph(_text(f"VAT id {invoice.seller_vat_id}"), body)] if invoice.seller_vat_id else []),
        Spacer(1, 4 * mm),
        Paragraph(_text(f"To: {invoice.buyer}"), body),
        Paragraph(_text(invoice.buyer_address), body),
        *([Paragraph(_text(buyer_ids), body)] if buyer_ids else []),
        Spacer(1, 4 * mm),
        Paragraph(
            _text(
                f"Order {invoice.order_number} · delivered {invoice.delivery_date:%d %b %Y} · "
                f"issued {invoice.issued:%d %b %Y}"
            ),
            body,
        ),
        Spacer(1, 6 * mm),
    ]
    table = [["Product", "GTIN", "Units", "Unit price", "VAT", "Net amount" if invoice.rates else "Amount"]]
    table += [
        [Paragraph(_text(line.product), body), line.gtin, str(line.units), line.unit_price, line.vat_rate, line.amount]
        for line in invoice.lines
    ]
    totals = 1
    if invoice.rates:
        table.append(["Net total", "", "", "", "", invoice.net_total])
        table += [[f"VAT {rate.rate} on {rate.net}", "", "", "", "", rate.vat] for rate in invoice.rates]
        totals += 1 + len(invoice.rates)
    table.append(["Total incl. VAT" if invoice.rates else "Total", "", "", "", "", invoice.total])
    grid = TableStyle(
        [
            *_GRID.getCommands(),
            ("ALIGN", (-4, 1), (-1, -1), "RIGHT"),
            ("LINEABOVE", (0, -totals), (-1, -totals), 0.8, colors.black),
            ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
            # A totals row's label runs across the line columns.
            *(("SPAN", (0, -row), (-2, -row)) for row in range(1, totals + 1)),
        ]
    )
    widths = [66 * mm, 32 * mm, 14 * mm, 22 * mm, 14 * mm, 32 * mm]
    story.append(Table(table, colWidths=widths, repeatRows=1, style=grid))
    if invoice.note:
        story += [Spacer(1, 6 * mm), Paragraph(_text(invoice.note), body)]
    doc.build(story)
    return buffer.getvalue()
