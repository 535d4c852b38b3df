"""Every table downloads as CSV: read back from the rendered page, numbers from data-value, formulas defused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from core.exports import csv_cell, table_rows
from merchants.models import Merchant, Store

PAGE = """
<table id="other"><tr><td>not this one</td></tr></table>
<div id="sales-table"><table><thead><tr><th>Product</th><th class="num">Net</th></tr></thead>
<tbody><tr><th scope="row">=cmd|' /C calc'!A0</th><td data-value="7.67">7,67&nbsp;€</td></tr>
<tr><th scope="row">Quellwerk<br>Cola</th><td data-value="">–</td></tr></tbody></table></div>
"""


def test_the_table_is_read_from_the_page_with_numbers_and_defused_formulas() -> None:
    rows = table_rows(PAGE, "sales-table")
    # Cells read as people see them, white space folded (a no-break space too).
    assert rows == [["Product", "Net"], ["=cmd|' /C calc'!A0", "7.67"], ["Quellwerk Cola", "–"]]
    assert [csv_cell(cell) for cell in rows[1]] == ["'=cmd|' /C calc'!A0", "7.67"]
    # A plain number is no formula: it stays a number a spreadsheet sums; "-2+3" is a formula.
    assert csv_cell("-2") == "-2"
    assert csv_cell("-2+3") == "'-2+3"
    assert table_rows(PAGE, "missing") is None


@pytest.mark.django_db
def test_a_report_table_downloads_and_an_unknown_one_is_refused(merchant: Merchant, store: Store, owner: Any) -> None:
    del store
    client = Client()
    client.force_login(owner)
    url = reverse("analytics:products", kwargs={"slug": merchant.slug})
    response = client.get(url, {"period": "7d", "export": "abc-table"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="abc-table.csv"'
    assert response.content.decode().splitlines() == [
        "Class,Products,Net sales,Share",
        'A,0,"0,00 €","0,0 %"',
        'B,0,"0,00 €","0,0 %"',
        'C,0,"0,00 €","0,0 %"',
    ]
    assert client.get(url, {"period": "7d", "export": "nothing"}).status_code == 400
