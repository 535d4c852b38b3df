"""The Sales page: figures from the rollups equal to the raw orders, the comparison, bad periods, tenancy."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from analytics.services.facts import facts_sweep
from checkout.models import Order, OrderLine
from core.money import format_amount
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.analytics.history import History, history_make
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def history(store: Store, clerk: Any) -> History:
    made = history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    return made


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(user: Any, merchant: Merchant, **params: Any) -> Any:
    return _client(user).get(reverse("analytics:sales", kwargs={"slug": merchant.slug}), params)


def _tile(body: str, key: str) -> tuple[str, str]:
    """(value, change) of a headline tile as shown."""
    tile = body.split(f'id="tile-{key}"')[1].split("</section>")[0]
    value = re.search(r'class="tile-value">([^<]*)<', tile).group(1)  # type: ignore[union-attr]
    change = re.search(r"Change: </span>([^<]*)", tile)
    return value, change.group(1).strip() if change else ""


def _raw(store: Store, first: date, last: date) -> tuple[int, int, int]:
    """Net sales, units and transactions of the orders paid in those local days, summed from checkout's rows."""
    with merchant_context(store.merchant_id):
        lines = [
            line
            for line in OrderLine.objects.filter(order__store=store, order__paid_at__isnull=False).select_related(
                "order"
            )
            if first <= line.order.paid_at.astimezone(BERLIN).date() <= last  # type: ignore[union-attr]
        ]
    net = sum(line.line_total - (line.tax_amount if line.order.prices_include_tax else 0) for line in lines)
    return net, sum(line.quantity for line in lines), len({line.order_id for line in lines})


def test_the_tiles_show_the_raw_orders_of_the_period_and_the_change(
    merchant: Merchant, store: Store, owner: Any, history: History
) -> None:
    del history
    # 11-12 June against 9-10 June (the period before, of equal length).
    response = _page(owner, merchant, period="custom", start="2026-06-11", end="2026-06-12", compare="previous")
    assert response.status_code == 200
    body = response.content.decode()
    net, units, transactions = _raw(store, date(2026, 6, 11), date(2026, 6, 12))
    before, _units, _transactions = _raw(store, date(2026, 6, 9), date(2026, 6, 10))
    assert (net, before) == (558 + 209, 604 + 209 + 186)
    assert _tile(body, "net_sales") == (format_amount(net, "EUR"), f"{round((net - before) / before * 100)}\xa0%")
    assert _tile(body, "units")[0] == str(units)
    assert _tile(body, "transactions")[0] == str(transactions)
    # Both days' net sales appear in the chart's table behind the picture, with the comparison beside them.
    assert "Net sales by hour" in body
    assert format_amount(558, "EUR") in body
    assert "Taxes collected in the period" in body


def test_each_table_downloads_as_csv(merchant: Merchant, store: Store, owner: Any, history: History) -> None:
    del store, history
    params = {"period": "custom", "start": "2026-06-11", "end": "2026-06-12", "compare": "previous"}
    response = _page(owner, merchant, export="sales-by-payment-table", **params)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = response.content.decode().splitlines()
    assert rows[0] == "Payment method,11 Jun – 12 Jun 2026,9 Jun – 10 Jun 2026"
    # 11-12 June: two phone orders (5,58 € and 2,09 € net); 9-10 June: a phone order 6,04 € and a cash sale 3,95 €.
    assert sorted(rows[1:]) == ["Card (phone),7.67,6.04", "Cash,0.00,3.95"]
    assert _page(owner, merchant, export="nothing", **params).status_code == 400
    # Both products are drinks in the factory's catalog: every sale under its top-level category.
    categories = _page(owner, merchant, export="sales-by-category-table", **params).content.decode().splitlines()
    assert categories[1:] == ["Drinks,7.67,9.99"]


def test_a_refused_period_says_why_and_shows_no_figures(merchant: Merchant, store: Store, owner: Any) -> None:
    del store
    for params, message in [
        ({"period": "custom", "start": "2026-06-12", "end": "2026-06-01"}, "before"),
        ({"period": "custom", "start": "2025-01-01", "end": "2026-06-01"}, "400"),
        ({"period": "custom", "start": "2999-01-01", "end": "2999-01-02"}, "already happened"),
        ({"period": "custom", "start": "12/06/2026", "end": "2026-06-01"}, "YYYY-MM-DD"),
        ({"period": "fortnight"}, "Unknown period"),
    ]:
        response = _page(owner, merchant, **params)
        assert response.status_code == 400, params
        body = response.content.decode()
        assert message in body, (params, message)
        assert 'class="tile-value"' not in body


def test_stores_are_the_merchants_own_and_clerks_are_refused(
    merchant: Merchant, store: Store, other_store: Store, owner: Any, clerk: Any, manager: Any, history: History
) -> None:
    del history
    assert _page(owner, merchant, store=other_store.pk).status_code == 404
    assert _page(owner, merchant, store="abc").status_code == 404
    assert _page(owner, other_store.merchant).status_code == 404
    assert _page(clerk, merchant).status_code == 403
    assert _page(manager, merchant).status_code == 200
    # A second store with no sales: choosing it alone shows none of the first store's.
    empty = StoreFactory(merchant=merchant, name="Bahnhof")
    body = _page(
        owner, merchant, store=empty.pk, period="custom", start="2026-06-11", end="2026-06-12"
    ).content.decode()
    assert _tile(body, "net_sales")[0] == format_amount(0, "EUR")
    with merchant_context(store.merchant_id):
        assert Order.objects.filter(store=store).exists()


def test_counter_sales_by_clerk(merchant: Merchant, store: Store, owner: Any, clerk: Any, history: History) -> None:
    from django.contrib.auth import get_user_model

    del history
    get_user_model().objects.filter(pk=clerk.pk).update(first_name="Carla", last_name="Clerk")
    # The history's one counter sale: cola 2,49 € + crisps 1,99 € on 10 June, 2,09 € + 1,86 € net of tax.
    body = _page(owner, merchant, period="custom", start="2026-06-10", end="2026-06-10").content.decode()
    table = body.split('id="clerk-table"')[1].split("</table>")[0]
    assert (
        f'<th scope="row">Carla Clerk</th><td class="num">1</td><td class="num">{format_amount(395, "EUR")}</td>'
        in table
    )
    other_day = _page(owner, merchant, period="custom", start="2026-06-11", end="2026-06-11").content.decode()
    assert "No counter sale in this period." in other_day.split('id="clerk-table"')[1]
    assert store.pk


def test_sales_stay_under_the_category_they_were_sold_in(
    merchant: Merchant, store: Store, owner: Any, history: History
) -> None:
    """The wholesaler moves the crisps to Snacks: what was sold as a drink stays there, what sells later is a snack,
    and the rollups still equal the raw lines."""
    from analytics.selectors.consistency import rollups_mismatches
    from catalog.models import Product
    from tests.analytics.conftest import paid_at_set, phone_order
    from tests.catalog.factories import CategoryFactory

    params = {"period": "custom", "start": "2026-06-11", "end": "2026-06-12", "compare": "none"}
    snacks = CategoryFactory(wholesaler=merchant.wholesaler, path="snacks", name="Snacks")
    Product.objects.filter(pk=history.crisps.product_id).update(category=snacks)
    later = phone_order(store, [(history.crisps, 2)])
    paid_at_set(later, datetime(2026, 6, 12, 12, tzinfo=UTC))
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    with merchant_context(store.merchant_id):
        assert set(OrderLine.objects.filter(order=later).values_list("category", flat=True)) == {snacks.pk}
    rows = _page(owner, merchant, export="sales-by-category-table", **params).content.decode().splitlines()
    # 11-12 June before the move: 7,67 € of drinks; the later sale: two crisps, 3,98 € with 7 % tax, 3,72 € net.
    assert sorted(rows[1:]) == ["Drinks,7.67", "Snacks,3.72"]
    assert rollups_mismatches(merchant=merchant, store=store) == (0, [])


def test_the_page_takes_a_pinned_number_of_queries(
    merchant: Merchant, owner: Any, history: History, django_assert_num_queries: Any
) -> None:
    del history
    client = _client(owner)
    url = reverse("analytics:sales", kwargs={"slug": merchant.slug})
    params = {"period": "custom", "start": "2026-06-11", "end": "2026-06-12", "compare": "previous"}
    client.get(url, params)  # the session and the content types warm up
    # Session, sign-in, merchant, the view's tenancy context (savepoint, settings, membership, stores), the
    # category names, the merchant menu (one query, in the view's context) and leaving the view's context: 11.
    # The hours, categories and clerks are read in the view's context, one query each, with no savepoint.
    with django_assert_num_queries(14):
        response = client.get(url, params)
    assert response.status_code == 200
    assert "Net sales by hour" in response.content.decode()
