"""The end-of-day report as JSON: one store's day as the page's selector reckons it and the raw orders say, times in
the store's zone; which store and which day, asked for clearly."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.day_report import day_report
from checkout.models import Order, OrderLine, Refund
from checkout.services import counter, shifts
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import code, phone_order, stocked
from tests.factories import StoreFactory
from tests.query_counts import bearer

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def today(store: Store, clerk: Any) -> dt.date:
    """Today in Berlin: a cash sale (cola + crisps), a card sale at the counter (crisps), a phone order (2 colas),
    a refund of 1,00 €, and the shift closed 0,50 € short."""
    get_user_model().objects.filter(pk=clerk.pk).update(first_name="Carla", last_name="Clerk")
    cola = stocked(store, 50, price=249, product__tax_class="standard", product__name="Quellwerk Cola")
    crisps = stocked(store, 50, price=199, product__tax_class="reduced", product__name="Knusper Chips")
    shift = shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)
    cash = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=cash, codes=[code(cola), code(crisps)])
    counter.counter_pay_cash(order=cash, tendered=500, recorded_by=clerk)  # 4,48 €: 0,52 € back
    card = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=card, codes=[code(crisps)])
    counter.counter_pay_external_card(order=card, recorded_by=clerk)
    phone_order(store, [(cola, 2)])
    with merchant_context(store.merchant_id):
        Refund.objects.create(merchant_id=store.merchant_id, order=card, amount=100, stripe_reference="cash")
    shifts.shift_close(shift=shift, closed_by=clerk, counted_cash=10000 + 448 - 50)
    return timezone.localtime(timezone=BERLIN).date()


def _url(merchant: Merchant) -> str:
    return reverse("analytics:api_day_report", kwargs={"merchant_id": merchant.pk})


def test_the_day_is_the_pages_report_and_the_raw_orders(
    merchant: Merchant, store: Store, owner: Any, today: dt.date
) -> None:
    # One store: the store and today are the defaults, as on the page.
    body = bearer(owner).get(_url(merchant)).json()
    assert body["store"] == {"id": store.pk, "name": store.name, "code": store.code, "timezone": "Europe/Berlin"}
    assert (body["day"], body["currency"]) == (today.isoformat(), "EUR")
    assert body == bearer(owner).get(_url(merchant), {"store": store.pk, "day": today.isoformat()}).json()
    start = dt.datetime.combine(today, dt.time(0), tzinfo=BERLIN)
    with merchant_context(store.merchant_id):
        paid = list(Order.objects.sold().filter(paid_at__gte=start, paid_at__lt=start + dt.timedelta(days=1)))
        taxes: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for line in OrderLine.objects.filter(order__in=paid):
            taxes[line.tax_rate][0] += line.line_total
            taxes[line.tax_rate][1] += line.tax_amount
    assert (body["sales"], body["taken"]) == (len(paid), sum(order.total for order in paid)) == (3, 448 + 199 + 498)
    assert body["tax"] == sum(tax for _gross, tax in taxes.values())
    assert [(row["rate"], row["gross"], row["tax"], row["net"]) for row in body["taxes"]] == [
        (rate, gross, tax, gross - tax) for rate, (gross, tax) in sorted(taxes.items())
    ]
    report = day_report(merchant=merchant, store=store, day=today)
    assert [(row["method"], row["sales"], row["amount"]) for row in body["methods"]] == [
        (row.label, row.sales, row.amount) for row in report.methods
    ]
    assert [row["method"] for row in body["methods"]] == [
        "Scan and pay (card, online)",
        "Counter: cash",
        "Counter: card (external terminal)",
    ]
    assert (body["refunds"], body["refunded"], body["lines_voided"], body["sales_cancelled"]) == (1, 100, 0, 0)
    [drawer] = body["shifts"]
    assert (drawer["opening_cash"], drawer["cash_sales"], drawer["expected_cash"], drawer["counted_cash"]) == (
        10000,
        448,
        10448,
        10398,
    )
    assert (drawer["difference"], drawer["opened_by"]) == (-50, "Carla Clerk")
    # Times are the store's: the offset Berlin had at that instant.
    opened = dt.datetime.fromisoformat(drawer["opened_at"])
    assert opened.utcoffset() == opened.astimezone(BERLIN).utcoffset()
    assert opened == report.shifts[0].shift.opened_at


def test_a_quiet_day_has_no_figures(merchant: Merchant, store: Store, owner: Any, today: dt.date) -> None:
    body = bearer(owner).get(_url(merchant), {"day": (today - dt.timedelta(days=400)).isoformat()}).json()
    assert (body["sales"], body["taken"], body["taxes"], body["shifts"]) == (0, 0, [], [])
    assert body["methods"] == [{"method": "Scan and pay (card, online)", "sales": 0, "amount": 0}]
    assert store.pk


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("2026-13-40", "is not a day"),
        ("yesterday", "is not a day"),
        ("20260611", "is not a day"),
        ("2999-01-01", "has not come yet in Lindenstraße 5"),
        ("1999-12-31", "no figures before"),
    ],
)
def test_a_bad_day_is_a_400_that_says_why(
    merchant: Merchant, store: Store, owner: Any, given: str, message: str
) -> None:
    response = bearer(owner).get(_url(merchant), {"store": store.pk, "day": given})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid", ["day"])
    assert message in error["fields"]["day"][0]


def test_several_stores_need_the_store_and_the_day(
    merchant: Merchant, store: Store, other_store: Store, owner: Any, today: dt.date
) -> None:
    bahnhof = StoreFactory(merchant=merchant, name="Bahnhof")
    missing = bearer(owner).get(_url(merchant))
    assert missing.status_code == 400
    fields = missing.json()["error"]["fields"]
    assert f"This shop has 2 stores: choose one with ?store= (ids {bahnhof.pk}, {store.pk})." in fields["store"]
    assert "?day=YYYY-MM-DD" in fields["day"][0]
    no_day = bearer(owner).get(_url(merchant), {"store": store.pk})
    assert list(no_day.json()["error"]["fields"]) == ["day"]
    no_store = bearer(owner).get(_url(merchant), {"day": today.isoformat()})
    assert list(no_store.json()["error"]["fields"]) == ["store"]
    both = bearer(owner).get(_url(merchant), {"store": bahnhof.pk, "day": today.isoformat()})
    assert both.status_code == 200
    assert (both.json()["store"]["id"], both.json()["sales"]) == (bahnhof.pk, 0)
    assert bearer(owner).get(_url(merchant), {"store": store.pk, "day": today.isoformat()}).json()["sales"] == 3
    # A store that is not one of the merchant's is not found, however the day is asked for.
    for wrong in (other_store.pk, 999_999_999):
        assert bearer(owner).get(_url(merchant), {"store": wrong, "day": today.isoformat()}).status_code == 404
        assert bearer(owner).get(_url(merchant), {"store": wrong}).status_code == 404
