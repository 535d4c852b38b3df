"""Daily figures as CSV: the rollups' cells of any range, equal to the raw sales, streamed in bounded memory,
the merchant's stores only, for those who may see analytics; bad dates say why and stream nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tracemalloc
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics.models import ProductDay, SalesHour
from analytics.periods import store_today
from analytics.services.facts import facts_sweep
from catalog.models import ProductLookup
from checkout.models import OrderLine, Refund
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import phone_order, stocked
from tests.analytics.history import History, history_make
from tests.catalog.factories import StoreProductFactory
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
JUNE = {"start": "2026-06-01", "end": "2026-06-30"}


@pytest.fixture
def history(store: Store, clerk: Any) -> History:
    made = history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    return made


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _get(user: Any, merchant: Merchant, params: Any) -> Any:
    return _client(user).get(reverse("analytics:daily_figures", kwargs={"slug": merchant.slug}), params)


def _rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def _euros(minor: int) -> str:
    return f"{Decimal(minor).scaleb(-2):f}"


def _day(at: dt.datetime) -> str:
    return at.astimezone(BERLIN).date().isoformat()


def test_product_rows_are_the_rollups_and_the_rollups_the_raw_sales(
    merchant: Merchant, store: Store, owner: Any, history: History
) -> None:
    del history  # read back from the database below
    response = _get(owner, merchant, {"rows": "products", **JUNE})
    assert response["Content-Disposition"] == (
        f'attachment; filename="products-by-day-{merchant.slug}-2026-06-01-to-2026-06-30.csv"'
    )
    rows = _rows(response)
    with merchant_context(merchant.pk):
        cells = list(ProductDay.objects.filter(store=store).select_related("store_product__product"))
        lines = list(OrderLine.objects.filter(order__store=store).select_related("order"))
        refunds = list(Refund.objects.filter(order__store=store))
        lookups = list(ProductLookup.objects.filter(store=store).select_related("store_product__product"))
    # Every cell once, as it is.
    assert len(rows) == len(cells) > 0
    by_key = {(row["date"], row["product"]): row for row in rows}
    for cell in cells:
        row = by_key[(cell.local_date.isoformat(), cell.store_product.name)]
        assert row == {
            "date": cell.local_date.isoformat(),
            "store": store.name,
            "product": cell.store_product.name,
            "gtin": cell.store_product.product.gtin,
            "units": str(cell.units),
            "net_sales": _euros(cell.net_sales),
            "cost": _euros(cell.cost),
            "net_sales_with_known_cost": _euros(cell.net_sales_known_cost),
            "refunds": _euros(cell.refunds),
            "minutes_out_of_stock": str(cell.minutes_out_of_stock),
            "price_lookups": str(cell.price_lookups),
            "currency": "EUR",
        }
    # And the cells are the raw sales: units and net sales by the local day the order was paid, the money given
    # back by the local day of the refund, lookups by the local day they happened.
    units: Counter[tuple[str, str]] = Counter()
    net: Counter[tuple[str, str]] = Counter()
    for line in lines:
        key = (_day(line.order.paid_at), line.name)  # type: ignore[arg-type]
        units[key] += line.quantity
        net[key] += line.line_total - line.tax_amount  # the history's stores price with tax included
    for key, row in by_key.items():
        assert int(row["units"]) == units[key], key
        assert Decimal(row["net_sales"]) == Decimal(net[key]).scaleb(-2), key
    assert sorted(key for key in by_key if int(by_key[key]["units"])) == sorted(units)
    refunded: Counter[str] = Counter()
    for item in refunds:
        refunded[_day(item.created_at)] += item.amount
    by_day: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        by_day[row["date"]] += Decimal(row["refunds"])
    assert {day: total for day, total in by_day.items() if total} == {
        day: Decimal(amount).scaleb(-2) for day, amount in refunded.items()
    }
    looked = Counter((_day(lookup.looked_up_at), lookup.store_product.name) for lookup in lookups)  # type: ignore[union-attr]
    assert {key: int(row["price_lookups"]) for key, row in by_key.items() if int(row["price_lookups"])} == looked


def test_hour_rows_are_the_rollups_and_the_rollups_the_raw_sales(
    merchant: Merchant, store: Store, owner: Any, history: History
) -> None:
    rows = _rows(_get(owner, merchant, {"rows": "hours", **JUNE}))
    with merchant_context(merchant.pk):
        cells = list(SalesHour.objects.filter(store=store))
    assert len(rows) == len(cells) > 0
    by_key = {(row["date"], row["hour"], row["channel"], row["payment_method"]): row for row in rows}
    for cell in cells:
        row = by_key[(cell.local_date.isoformat(), f"{cell.hour:02d}:00", cell.channel, cell.payment_method)]
        assert row == {
            "date": cell.local_date.isoformat(),
            "hour": f"{cell.hour:02d}:00",
            "store": store.name,
            "channel": cell.channel,
            "payment_method": cell.payment_method,
            "transactions": str(cell.transactions),
            "units": str(cell.units),
            "net_sales": _euros(cell.net_sales),
            "tax": _euros(cell.tax),
            "refunds": _euros(cell.refunds),
            "cost": _euros(cell.cost),
            "net_sales_with_known_cost": _euros(cell.net_sales_known_cost),
            "currency": "EUR",
        }
    # Each paid order is one transaction in its local hour, its lines' net sales there.
    sold: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for order in history.orders:
        paid = order.paid_at.astimezone(BERLIN)  # type: ignore[union-attr]
        sold[(paid.date().isoformat(), f"{paid.hour:02d}:00")][0] += 1
    with merchant_context(merchant.pk):
        for line in OrderLine.objects.filter(order__store=store).select_related("order"):
            paid = line.order.paid_at.astimezone(BERLIN)  # type: ignore[union-attr]
            sold[(paid.date().isoformat(), f"{paid.hour:02d}:00")][1] += line.line_total - line.tax_amount
    hours: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        hours[(row["date"], row["hour"])][0] += int(row["transactions"])
        hours[(row["date"], row["hour"])][1] += int(Decimal(row["net_sales"]).scaleb(2))
    assert len(sold) == 4
    assert {key: value for key, value in hours.items() if value != [0, 0]} == dict(sold)


def test_any_range_up_to_all_history_and_only_the_chosen_stores(
    merchant: Merchant, store: Store, owner: Any, history: History
) -> None:
    bahnhof = StoreFactory(merchant=merchant, name="Bahnhof")
    water = stocked(bahnhof, 10, price=119, product__tax_class="standard", product__name="Quellwasser")
    phone_order(bahnhof, [(water, 2)])
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    with merchant_context(merchant.pk):
        total = ProductDay.objects.filter(merchant=merchant).count()
    # No dates: from the first sale until today, both stores; far more than 400 days is fine.
    everything = _rows(_get(owner, merchant, {}))
    assert len(everything) == total
    assert {row["store"] for row in everything} == {store.name, "Bahnhof"}
    response = _get(owner, merchant, {"start": "2020-01-01", "end": history.orders[0].paid_at.date().isoformat()})  # type: ignore[union-attr]
    assert {row["store"] for row in _rows(response)} == {store.name}
    only = _rows(_get(owner, merchant, {"store": bahnhof.pk}))
    assert [(row["store"], row["product"], row["units"]) for row in only] == [("Bahnhof", "Quellwasser", "2")]
    today = store_today(BERLIN, now=timezone.now())
    assert _get(owner, merchant, {})["Content-Disposition"].endswith(f'-start-to-{today.isoformat()}.csv"')


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-06-12", "end": "2026-06-01"}, "swap the two dates"),
        ({"start": "12/06/2026", "end": "2026-06-30"}, "write it as YYYY-MM-DD"),
        ({"start": "2026-06-01", "end": "2999-01-01"}, "analytics show only what has already happened"),
        ({"start": "1999-12-31"}, "Lingshou has no figures before 1 Jan 2000"),
        ({"rows": "minutes"}, "Unknown rows minutes"),
    ],
)
def test_bad_dates_say_why_and_stream_nothing(
    merchant: Merchant, store: Store, owner: Any, params: dict[str, str], message: str
) -> None:
    del store
    response = _get(owner, merchant, params)
    assert response.status_code == 400
    assert not response.streaming
    assert message in response.content.decode()


def test_another_merchants_stores_and_rows_are_not_found_and_staff_without_analytics_are_refused(
    merchant: Merchant,
    store: Store,
    other_store: Store,
    owner: Any,
    manager: Any,
    clerk: Any,
    other_owner: Any,
) -> None:
    cola = stocked(store, 10, price=238, product__name="Quellwerk Cola")
    phone_order(store, [(cola, 1)])
    phone_order(other_store, [(stocked(other_store, 5, price=2380, product__name="Parkbier"), 1)])
    facts_sweep(hours=24, settle_seconds=0, limit=100)
    for params in ({"store": other_store.pk}, {"store": [store.pk, other_store.pk]}, {"store": "x"}):
        assert _get(owner, merchant, params).status_code == 404
    assert _get(owner, other_store.merchant, {}).status_code == 404
    assert _get(other_owner, merchant, {}).status_code == 404
    for rows in ("products", "hours"):
        mine = _rows(_get(owner, merchant, {"rows": rows}))
        assert {row["store"] for row in mine} == {store.name}
        assert all(row.get("product") != "Parkbier" for row in mine)
    assert _get(clerk, merchant, {}).status_code == 403
    assert _get(manager, merchant, {}).status_code == 200
    merchant.managers_see_analytics = False
    merchant.save(update_fields=["managers_see_analytics"])
    refused = _get(manager, merchant, {})
    assert refused.status_code == 403
    assert not refused.streaming


@pytest.mark.parametrize("page", ["sales", "products", "baskets"])
def test_the_pages_link_the_download_with_their_stores(merchant: Merchant, store: Store, owner: Any, page: str) -> None:
    bahnhof = StoreFactory(merchant=merchant, name="Bahnhof")
    params = {"store": [store.pk, bahnhof.pk], "period": "custom", "start": "2026-06-01", "end": "2026-06-30"}
    body = _client(owner).get(reverse(f"analytics:{page}", kwargs={"slug": merchant.slug}), params).content.decode()
    stores = f"store={store.pk}&amp;store={bahnhof.pk}"
    if page == "baskets":
        # A page without the form sends the shop owner to the Sales page's, with the same stores.
        sales = reverse("analytics:sales", kwargs={"slug": merchant.slug})
        assert f'<a href="{sales}?{stores}#daily-figures">daily figures as CSV</a> (on the Sales page)' in body
        assert 'id="daily-figures"' not in body
        return
    assert '<a href="#daily-figures">daily figures as CSV</a> below' in body
    form = body.split('id="daily-figures">')[1].split("</form>")[0]
    assert f'action="{reverse("analytics:daily_figures", kwargs={"slug": merchant.slug})}"' in body
    assert (
        f'<input type="hidden" name="store" value="{store.pk}"><input type="hidden" name="store" value="{bahnhof.pk}">'
        in form
    )
    # The page's period is the download's first guess.
    assert 'name="start" value="2026-06-01"' in form
    assert 'name="end" value="2026-06-30"' in form


def _stream(client: Client, url: str, params: dict[str, str]) -> tuple[int, int]:
    """(lines, peak bytes allocated) while the download is read to its end."""
    response = client.get(url, params)
    assert response.streaming
    lines = 0
    tracemalloc.start()
    try:
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return lines, peak


@pytest.mark.slow
def test_ten_times_the_rows_take_about_the_same_memory(merchant: Merchant, store: Store, owner: Any) -> None:
    products = [StoreProductFactory(store=store) for _ in range(25)]
    first = dt.date(2023, 1, 1)
    with merchant_context(merchant.pk):
        ProductDay.objects.bulk_create(
            (
                ProductDay(
                    merchant=merchant,
                    store=store,
                    store_product=item,
                    local_date=first + dt.timedelta(days=day),
                    units=day % 7,
                    net_sales=199 * (day % 7),
                    cost=90 * (day % 7),
                )
                for day in range(1000)
                for item in products
            ),
            batch_size=5000,
        )
    client = _client(owner)
    url = reverse("analytics:daily_figures", kwargs={"slug": merchant.slug})
    _stream(client, url, {"start": "2023-01-01", "end": "2023-01-10"})  # the first query's one-off costs
    small = _stream(client, url, {"start": "2023-01-01", "end": "2023-04-10"})
    large = _stream(client, url, {"start": "2023-01-01", "end": "2025-09-26"})
    assert (small[0], large[0]) == (1 + 2_500, 1 + 25_000)
    # Built whole, the file (and the rows under it) would take ten times the memory; streamed, about the same.
    assert large[1] < 2 * small[1], (small, large)
