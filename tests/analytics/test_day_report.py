"""The end-of-day report: a store's day in its own time zone, by payment method and tax rate, with the drawer."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.day_report import day_report
from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import Order, Refund
from checkout.services import counter, shifts
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def _stocked(store: Store, price: int, tax_class: str, name: str) -> StoreProduct:
    item = StoreProductFactory(store=store, price=price, product__tax_class=tax_class, product__name=name)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=50)
    return item


def _code(item: StoreProduct) -> str:
    return item.product.gtin[1:]  # type: ignore[union-attr]


def _paid_at(order: Order, at: dt.datetime) -> None:
    with merchant_context(order.merchant_id):
        Order.objects.filter(pk=order.pk).update(paid_at=at)


@pytest.fixture
def day(store: Store, clerk: Any) -> dict[str, Any]:
    """Today in Berlin: a cash sale (2 × cola 2,49 € + crisps 1,99 €, one cola voided before paying), a card sale
    (crisps), a cancelled sale, a refund of 1,00 €, one shift closed 0,50 € short; and a sale paid late last night."""
    cola = _stocked(store, 249, "standard", "Quellwerk Cola")
    crisps = _stocked(store, 199, "reduced", "Knusper Chips")
    shift = shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)
    cash = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=cash, codes=[_code(cola), _code(crisps)])
    counter.counter_lines_scan(order=cash, codes=[_code(cola)])
    with merchant_context(store.merchant_id):
        voided = cash.lines.filter(store_product=cola).get()
    counter.counter_line_void(order=cash, line_id=voided.pk)
    counter.counter_lines_scan(order=cash, codes=[_code(cola), _code(cola)])
    counter.counter_pay_cash(order=cash, tendered=1000, recorded_by=clerk)  # 6,97 €: 3,03 € back
    walked_away = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=walked_away, codes=[_code(cola)])
    counter.counter_sale_cancel(order=walked_away)
    card = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=card, codes=[_code(crisps)])
    counter.counter_pay_external_card(order=card, recorded_by=clerk)
    late = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=late, codes=[_code(cola)])
    counter.counter_pay_external_card(order=late, recorded_by=clerk)
    today = timezone.localtime(timezone=BERLIN).date()
    # Paid at 23:30 the night before, Berlin time: yesterday's takings, not today's.
    _paid_at(late, dt.datetime.combine(today - dt.timedelta(days=1), dt.time(23, 30), tzinfo=BERLIN))
    with merchant_context(store.merchant_id):
        Refund.objects.create(merchant_id=store.merchant_id, order=card, amount=100, stripe_reference="cash")
    shifts.shift_close(shift=shift, closed_by=clerk, counted_cash=10000 + 697 - 50)
    return {"today": today, "cash": cash, "card": card}


def test_the_day_counts_what_was_paid_that_day_in_the_stores_time(
    merchant: Merchant, store: Store, day: dict[str, Any]
) -> None:
    report = day_report(merchant=merchant, store=store, day=day["today"])
    assert [(row.label, row.sales, row.amount) for row in report.methods] == [
        ("Counter: cash", 1, 697),
        ("Counter: card (external terminal)", 1, 199),
    ]
    assert (report.sales, report.taken) == (2, 896)
    # 19 % on 2 × 2,49 €: 0,80 € in 4,98 €; 7 % on 2 × 1,99 €: 0,26 € in 3,98 € (per line, rounded half up).
    assert [(row.rate, row.gross, row.tax, row.net) for row in report.taxes] == [
        (700, 398, 26, 372),
        (1900, 498, 80, 418),
    ]
    assert (report.refunds, report.refunded) == (1, 100)
    assert (report.lines_voided, report.sales_cancelled) == (1, 1)
    [drawer] = report.shifts
    assert (drawer.shift.opening_cash, drawer.cash_sales, drawer.expected_cash, drawer.difference) == (
        10000,
        697,
        10697,
        -50,
    )

    yesterday = day_report(merchant=merchant, store=store, day=day["today"] - dt.timedelta(days=1))
    assert [(row.label, row.sales, row.amount) for row in yesterday.methods] == [
        ("Counter: card (external terminal)", 1, 249)
    ]
    assert yesterday.shifts == []


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_and_the_pdf_show_the_same_day(
    merchant: Merchant, store: Store, owner: Any, day: dict[str, Any]
) -> None:
    url = reverse("analytics:day_report", kwargs={"slug": merchant.slug})
    body = _client(owner).get(url, {"store": store.pk}).content.decode()
    assert '<td class="num" id="day-taken">8,96\xa0€</td>' in body
    assert "-0,50\xa0€" in body
    pdf = _client(owner).get(reverse("analytics:day_report_pdf", kwargs={"slug": merchant.slug}), {"store": store.pk})
    assert pdf["Content-Type"] == "application/pdf"
    # A long day's name ("Saturday 05 December 2026") wraps the title onto a second line.
    text = " ".join(pypdfium2.PdfDocument(pdf.content)[0].get_textpage().get_text_range().split())
    assert "8,96" in text
    assert "Counter: cash" in text
    assert f"{day['today']:%d %B %Y}" in text


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("2026-13-40", "is not a day"),
        ("yesterday", "is not a day"),
        ("2999-01-01", "has not come yet"),
        ("0001-01-01", "sold anything through Lingshou before"),
    ],
)
def test_a_bad_day_says_why_and_shows_no_figures(
    merchant: Merchant, store: Store, owner: Any, given: str, message: str
) -> None:
    response = _client(owner).get(
        reverse("analytics:day_report", kwargs={"slug": merchant.slug}), {"store": store.pk, "day": given}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Takings" not in response.content.decode()
    pdf = _client(owner).get(
        reverse("analytics:day_report_pdf", kwargs={"slug": merchant.slug}), {"store": store.pk, "day": given}
    )
    assert pdf.status_code == 400


def test_clerks_are_refused_and_another_merchants_store_is_not_found(
    merchant: Merchant, store: Store, other_store: Store, clerk: Any, owner: Any, manager: Any
) -> None:
    url = reverse("analytics:day_report", kwargs={"slug": merchant.slug})
    assert _client(clerk).get(url).status_code == 403
    assert _client(manager).get(url).status_code == 200
    assert _client(owner).get(url, {"store": other_store.pk}).status_code == 404
    pdf = reverse("analytics:day_report_pdf", kwargs={"slug": merchant.slug})
    assert _client(owner).get(pdf, {"store": other_store.pk}).status_code == 404
    other = reverse("analytics:day_report", kwargs={"slug": other_store.merchant.slug})
    assert _client(owner).get(other).status_code == 404
    assert store.pk
