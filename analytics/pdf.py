"""The end-of-day report as a printable A4 PDF (reportlab, the PDF standard fonts, as the other PDFs)."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from analytics.selectors.day_report import DayReport
from core.money import format_amount

_STYLES = getSampleStyleSheet()
_GRID = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.Color(0.75, 0.75, 0.75)),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ]
)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(header: list[str], rows: list[list[str]]) -> Table:
    table = Table([header, *rows], hAlign="LEFT", repeatRows=1)
    table.setStyle(_GRID)
    return table


def day_report_pdf(report: DayReport) -> bytes:
    """One store's day on A4: takings by payment method, taxes, refunds and voids, and each shift's drawer."""
    store, money = report.store, (lambda minor: format_amount(minor, report.store.currency))
    zone = ZoneInfo(store.timezone)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, title="End of day")
    story = [
        Paragraph(_text(f"End of day · {store.name} · {report.day:%A %d %B %Y}"), _STYLES["Title"]),
        Paragraph(_text(f"{store.address} · times in {store.timezone}"), _STYLES["Normal"]),
        Spacer(1, 6 * mm),
        Paragraph("Takings", _STYLES["Heading2"]),
        _table(
            ["Payment method", "Sales", "Amount"],
            [[row.label, str(row.sales), money(row.amount)] for row in report.methods]
            + [["Total", str(report.sales), money(report.taken)]],
        ),
        Paragraph("Taxes", _STYLES["Heading2"]),
        _table(
            ["Rate", "Net", "Tax", "Gross"],
            [[f"{row.percent} %", money(row.net), money(row.tax), money(row.gross)] for row in report.taxes]
            or [["No sales", "", "", ""]],
        ),
        Paragraph("Refunds and voids", _STYLES["Heading2"]),
        _table(
            ["What", "Count", "Amount"],
            [
                ["Refunds", str(report.refunds), money(report.refunded)],
                ["Lines voided at the counter", str(report.lines_voided), ""],
                ["Counter sales cancelled", str(report.sales_cancelled), ""],
            ],
        ),
        Paragraph("Cash drawer", _STYLES["Heading2"]),
    ]
    shifts = [
        [
            f"{timezone.localtime(row.shift.opened_at, timezone=zone):%H:%M}"
            + (
                f"–{timezone.localtime(row.shift.closed_at, timezone=zone):%H:%M}" if row.shift.closed_at else " (open)"
            ),
            money(row.shift.opening_cash),
            money(row.cash_sales),
            money(row.expected_cash),
            "" if row.shift.counted_cash is None else money(row.shift.counted_cash),
            "" if row.difference is None else money(row.difference),
        ]
        for row in report.shifts
    ]
    story.append(
        _table(
            ["Shift", "Float", "Cash sales", "Expected", "Counted", "Difference"],
            shifts or [["No shift", "", "", "", "", ""]],
        )
    )
    document.build(story)
    return buffer.getvalue()
