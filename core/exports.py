"""Every CSV Lingshou writes goes through here, so no cell a spreadsheet opens can run as a formula.

``CsvLines`` writes the streamed exports (orders, assortment, daily figures); ``tables_export`` downloads any table
of a page: the page is rendered as usual and the table with the asked-for id is read back out of it, so the CSV
always holds exactly what the page shows (cells whose number is in ``data-value`` give that number, for
spreadsheets to sum)."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from functools import wraps
from html.parser import HTMLParser
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase

# OWASP's list for CSV injection: a spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number ("-2.50") is no formula and must stay a number that a spreadsheet sums.
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def csv_cell(value: object) -> object:
    """A cell a spreadsheet shows and never runs: text that starts like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return f"'{value}"
    return value


class _Line:
    """A file for csv.writer that hands each line back instead of keeping it."""

    def write(self, value: str) -> str:
        return value


class CsvLines:
    """CSV lines for a streamed export, every cell through ``csv_cell``."""

    def __init__(self) -> None:
        self._writer = csv.writer(_Line())

    def row(self, cells: Iterable[object]) -> str:
        return str(self._writer.writerow([csv_cell(cell) for cell in cells]))


class _Table(HTMLParser):
    """The rows of the table with the id (or the first table inside the element with it), as text per cell."""

    def __init__(self, table_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.table_id, self.depth, self.found, self.done = table_id, 0, False, False
        self.rows: list[list[str]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id") == self.table_id:
            self.found = True
        if tag == "table" and (self.depth or (self.found and not self.done)):
            self.depth += 1
        elif not self.depth:
            return
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            value = attributes.get("data-value")
            self.cell = [value] if value else []
            self.hidden = 1 if value else 0
        elif tag == "br" and self.cell is not None and not self.hidden:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
            self.done = self.done or self.depth == 0
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell, self.hidden = None, 0
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.depth and self.cell is not None and not self.hidden:
            self.cell.append(data)


def table_rows(html: str, table_id: str) -> list[list[str]] | None:
    """The rows of the table with that id, or None when the page has no such table."""
    parser = _Table(table_id)
    parser.feed(html)
    return parser.rows if parser.found else None


def tables_export(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """``?export=<table id>`` answers the page's table as a CSV download (400 when the page has no such table);
    without it, the page as usual."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        table_id = request.GET.get("export")
        if not table_id or response.status_code != 200 or not isinstance(response, HttpResponse):
            return response
        rows = table_rows(response.content.decode(), table_id)
        if rows is None:
            return HttpResponse(
                f"This page has no table {table_id[:40]!r} to download.", status=400, content_type="text/plain"
            )
        lines = CsvLines()
        download = HttpResponse("".join(lines.row(row) for row in rows), content_type="text/csv; charset=utf-8")
        name = "".join(ch for ch in table_id if ch.isalnum() or ch == "-")[:40]
        download["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return download

    return wrapper
