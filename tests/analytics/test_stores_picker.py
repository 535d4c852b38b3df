"""One, several or all stores on every analytics page: the choice survives every link, its figures are those
stores' own, another merchant's store is not found, and stores of different currencies are never added up."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from analytics.services.facts import facts_sweep
from analytics.views.scope import MixedCurrencies, currency_problem, scope_get
from core.money import format_amount
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import paid_at_set, phone_order, stocked
from tests.analytics.history import history_make
from tests.analytics.test_sales_page import _raw, _tile
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

# Every page with a store choice (End of day is one store's till and drawer: it keeps its own one-store select).
PAGES = ["sales", "products", "stores", "losses", "baskets", "forecasts", "overview"]
JUNE = {"period": "custom", "start": "2026-06-09", "end": "2026-06-12", "compare": "previous"}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _get(user: Any, merchant: Merchant, page: str, params: list[tuple[str, Any]]) -> Any:
    return _client(user).get(reverse(f"analytics:{page}", kwargs={"slug": merchant.slug}), params)


def _stores(merchant: Merchant) -> tuple[Store, Store]:
    return StoreFactory(merchant=merchant, name="Bahnhof"), StoreFactory(merchant=merchant, name="Marktplatz")


def _picker_links(body: str) -> list[dict[str, list[str]]]:
    """The query of every link in the period picker, and of its custom range form's hidden fields."""
    picker = body.split('<div class="period-picker">')[1].split('<p class="period-help">')[0]
    links = [parse_qs(urlsplit(unescape(href)).query) for href in re.findall(r'href="(\?[^"]*)"', picker)]
    form = picker.split('<form method="get" class="inline-form period-custom">')[1]
    hidden: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        hidden.setdefault(name, []).append(value)
    return [*links, hidden]


@pytest.mark.parametrize("page", PAGES)
def test_every_period_link_keeps_every_chosen_store(merchant: Merchant, store: Store, owner: Any, page: str) -> None:
    bahnhof, markt = _stores(merchant)
    chosen = [str(store.pk), str(markt.pk)]
    response = _get(owner, merchant, page, [("store", chosen[0]), ("store", chosen[1]), ("period", "30d")])
    assert response.status_code == 200
    body = response.content.decode()
    links = _picker_links(body)
    # Six presets, three comparisons and the custom range form: each carries both stores, and only those.
    assert len(links) == 10
    assert all(link["store"] == chosen for link in links), links
    assert {link["period"][0] for link in links[:6]} == {"today", "yesterday", "7d", "30d", "90d", "month"}
    assert all(link["period"] == ["30d"] for link in links[6:9])
    # The store picker ticks the chosen two, says which they are, and carries the period (not the stores).
    stores_form = body.split('<form method="get" class="stores-picker"')[1].split("</form>")[0]
    ticked = re.findall(r'name="store" value="(\d+)" checked', stores_form)
    assert sorted(ticked) == sorted(chosen)
    assert f'value="{bahnhof.pk}">' in stores_form
    assert f'<strong class="stores-label">{store.name}, Marktplatz</strong>' in stores_form
    assert re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', stores_form) == [("period", "30d")]


def test_no_store_chosen_is_all_of_them_and_one_store_shows_no_picker(
    merchant: Merchant, store: Store, owner: Any
) -> None:
    del store  # the merchant's one store, until two more open
    body = _get(owner, merchant, "sales", []).content.decode()
    assert 'class="stores-picker"' not in body
    _stores(merchant)
    body = _get(owner, merchant, "sales", []).content.decode()
    assert '<strong class="stores-label">All stores</strong>' in body
    assert len(re.findall(r'name="store" value="\d+" checked', body)) == 3
    assert all("store" not in link for link in _picker_links(body))


def test_the_figures_of_two_stores_of_three_are_their_own_orders_added_up(
    merchant: Merchant, store: Store, owner: Any, clerk: Any
) -> None:
    bahnhof, markt = _stores(merchant)
    for each in (store, bahnhof, markt):
        history_make(each, clerk)
    # One more order at the Bahnhof, so that the two stores' figures are not one store's twice.
    water = stocked(bahnhof, 10, price=119, product__tax_class="standard")
    paid_at_set(phone_order(bahnhof, [(water, 4)]), datetime(2026, 6, 11, 12, tzinfo=UTC))
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)

    pair = [("store", store.pk), ("store", bahnhof.pk), *JUNE.items()]
    body = _get(owner, merchant, "sales", pair).content.decode()
    first, second = (_raw(each, date(2026, 6, 9), date(2026, 6, 12)) for each in (store, bahnhof))
    assert second[0] == first[0] + 400  # the extra order: 4 x 1,19 €, 1,00 € net each
    net, units, transactions = (a + b for a, b in zip(first, second, strict=True))
    assert _tile(body, "net_sales")[0] == format_amount(net, "EUR")
    assert _tile(body, "units")[0] == str(units)
    assert _tile(body, "transactions")[0] == str(transactions)
    assert f"Bahnhof, {store.name} · days and hours" in body
    # Side by side shows the two chosen stores' rows and not the third.
    side = _get(owner, merchant, "stores", pair).content.decode().split('id="stores-table"')[1]
    assert side.count('<th scope="row">') == 2
    assert "Marktplatz" not in side


@pytest.mark.parametrize("page", PAGES)
def test_another_merchants_store_among_several_is_not_found(
    merchant: Merchant, store: Store, other_store: Store, owner: Any, page: str
) -> None:
    bahnhof, _markt = _stores(merchant)
    mixed = [("store", store.pk), ("store", other_store.pk), ("store", bahnhof.pk)]
    assert _get(owner, merchant, page, mixed).status_code == 404
    assert _get(owner, merchant, page, [("store", store.pk), ("store", "x")]).status_code == 404


@pytest.mark.parametrize("page", ["sales", "products", "losses", "baskets", "overview"])
def test_stores_of_different_currencies_are_refused_not_added_up(
    merchant: Merchant, store: Store, owner: Any, page: str
) -> None:
    london = StoreFactory(merchant=merchant, name="London Road", currency="GBP", timezone="Europe/London")
    cola = stocked(store, 10, price=238, product__tax_class="standard")
    tea = stocked(london, 10, price=240, product__tax_class="standard")
    phone_order(store, [(cola, 1)])
    phone_order(london, [(tea, 1)])
    facts_sweep(hours=24, settle_seconds=0, limit=100)

    # Chosen together, or both by default (all stores): 400, the reason, and no figure at all.
    for params in ([("store", store.pk), ("store", london.pk), ("period", "today")], []):
        response = _get(owner, merchant, page, params)
        assert response.status_code == 400, params
        body = unescape(response.content.decode())
        assert (
            f"The chosen stores sell in different currencies (EUR: {store.name}; GBP: London Road), "
            "and their figures cannot be added up." in body
        )
        assert "tile-value" not in body
        assert 'id="stock-value"' not in body
        assert "€" not in body.split('id="stores-error"')[1]
        assert "£" not in body
    # One currency at a time is fine.
    assert _get(owner, merchant, page, [("store", london.pk)]).status_code == 200


def test_side_by_side_and_forecasts_take_stores_of_different_currencies(
    merchant: Merchant, store: Store, owner: Any
) -> None:
    del store  # in euros, beside London's pounds
    london = StoreFactory(merchant=merchant, name="London Road", currency="GBP", timezone="Europe/London")
    tea = stocked(london, 10, price=238, product__tax_class="standard")  # 2,00 £ net
    phone_order(london, [(tea, 1)])
    facts_sweep(hours=24, settle_seconds=0, limit=100)
    # The last 7 days: between 23:00 and 24:00 UTC London's today is Berlin's yesterday, and the page's days
    # are the first store's (Berlin's); a week holds London's sale at any hour.
    response = _get(owner, merchant, "stores", [("period", "7d")])
    assert response.status_code == 200
    table = response.content.decode().split('id="stores-table"')[1]
    assert format_amount(200, "GBP") in table
    assert format_amount(0, "EUR") in table
    assert _get(owner, merchant, "forecasts", [("period", "7d")]).status_code == 200


def test_a_scope_of_several_currencies_has_no_currency(merchant: Merchant, store: Store, owner: Any) -> None:
    london = StoreFactory(merchant=merchant, name="London Road", currency="GBP")
    request = RequestFactory().get("/", {"store": [store.pk, london.pk]})
    request.merchant = merchant  # type: ignore[attr-defined]
    request.user = owner
    with merchant_context(merchant.pk):
        scope = scope_get(request)  # type: ignore[arg-type]
        together = scope_get(request, across_currencies=True)  # type: ignore[arg-type]
    assert scope.choice is None
    with pytest.raises(MixedCurrencies):
        _ = scope.currency
    # A page that takes them together shows each store in its own currency: it has no one currency either.
    assert together.choice is not None
    assert together.currency_error == ""
    with pytest.raises(MixedCurrencies):
        _ = together.currency


def test_a_currency_refusal_counts_the_stores_of_a_currency_when_they_are_many() -> None:
    stores = [Store(name=f"Filiale {n}", currency="EUR") for n in range(1, 5)] + [Store(name="London", currency="GBP")]
    assert currency_problem(stores).startswith(
        "The chosen stores sell in different currencies (EUR: 4 stores; GBP: London), "
    )
    assert currency_problem(stores[:4]) == ""
