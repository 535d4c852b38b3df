"""The catalog never stops short without saying so: it counts the products, pages them like the stock page,
and a search pages its matches; the counts list pages too."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from catalog.models import CountSession, StoreProduct
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import ProductFactory, StoreProductFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _names(text: str) -> list[str]:
    """The product names of the catalog table's rows, in order (the owner's editable rows link them)."""
    return re.findall(r'<td class="cell-product"><a href="[^"]+">([^<]+)</a>', text)


@pytest.fixture
def assortment(store: Store) -> list[StoreProduct]:
    """76 products, named so that their order is known: Product 001 … Product 076."""
    return [StoreProductFactory(store=store, product__name=f"Product {n:03d}") for n in range(1, 77)]


@pytest.mark.usefixtures("assortment")
def test_the_catalog_says_how_many_products_there_are_and_pages_through_all_of_them(
    owner, merchant: Merchant, store: Store
) -> None:
    client = _client(owner)
    first = client.get(f"/m/{merchant.slug}/catalog/").content.decode()
    assert "76 products in Lindenstraße 5 · showing 1–50" in first
    assert "Page 1 of 2" in first
    assert "1–50 of 76" in first
    assert f'href="?store={store.pk}&amp;q=&amp;page=2"' in first
    second = client.get(f"/m/{merchant.slug}/catalog/", {"store": store.pk, "page": 2}).content.decode()
    assert "76 products in Lindenstraße 5 · showing 51–76" in second
    # Every product once, in name order, across the two pages: nothing left out, nothing twice.
    assert _names(first) + _names(second) == [f"Product {n:03d}" for n in range(1, 77)]
    # A page past the end shows the last one, as the stock page does.
    assert _names(client.get(f"/m/{merchant.slug}/catalog/", {"page": 9}).content.decode()) == _names(second)


def test_a_short_catalog_says_its_count_and_shows_no_pager(owner, merchant: Merchant, store: Store) -> None:
    StoreProductFactory(store=store, product__name="Quellwerk Cola")
    text = _client(owner).get(f"/m/{merchant.slug}/catalog/").content.decode()
    assert "1 product in Lindenstraße 5</p>" in text
    assert "Page 1 of" not in text


def test_a_search_counts_and_pages_its_matches(owner, merchant: Merchant, store: Store) -> None:
    for n in range(1, 56):
        StoreProductFactory(store=store, product__name=f"Quellwerk Cola {n:02d}")
    StoreProductFactory(store=store, product__name="Knusper Chips")
    client = _client(owner)
    response = client.get(f"/m/{merchant.slug}/catalog/", {"q": "quelwerk cola"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="results">')
    assert "55 products match “quelwerk cola” · showing 1–50" in text
    assert f'href="?store={store.pk}&amp;q=quelwerk+cola&amp;page=2"' in text
    second = client.get(f"/m/{merchant.slug}/catalog/", {"q": "quelwerk cola", "page": 2}).content.decode()
    found = _names(text) + _names(second)
    assert sorted(found) == [f"Quellwerk Cola {n:02d}" for n in range(1, 56)]


@pytest.mark.usefixtures("assortment")
def test_a_clerk_sees_the_same_count(clerk, merchant: Merchant) -> None:
    text = _client(clerk).get(f"/m/{merchant.slug}/catalog/").content.decode()
    assert "76 products in Lindenstraße 5 · showing 1–50" in text
    assert text.count('<td class="col-code">') == 50


def test_a_local_product_is_found_by_its_name_among_master_products(owner, merchant: Merchant, store: Store) -> None:
    StoreProductFactory(store=store, product__name="Quellwerk Cola")
    with merchant_context(merchant.pk):
        StoreProduct.objects.create(merchant=merchant, store=store, local_name="Nachbars Käsekuchen", price=250)
    text = _client(owner).get(f"/m/{merchant.slug}/catalog/", {"q": "kasekuchen"}).content.decode()
    assert "1 product match “kasekuchen”" in text
    assert _names(text) == ["Nachbars Käsekuchen"]


@pytest.mark.usefixtures("store")
def test_wholesaler_matches_beside_a_search_say_when_there_are_more(owner, merchant: Merchant) -> None:
    for n in range(1, 13):
        ProductFactory(wholesaler=merchant.wholesaler, name=f"Bergquelle Wasser {n:02d}")
    text = _client(owner).get(f"/m/{merchant.slug}/catalog/", {"q": "bergquelle"}).content.decode()
    assert "0 products match “bergquelle”" in text
    assert "The 10 closest matches; type more of the name to find others." in text
    assert text.count("Sell here</button>") == 10


def test_another_merchants_store_is_not_paged(owner, merchant: Merchant, other_store: Store) -> None:
    StoreProductFactory(store=other_store)
    response = _client(owner).get(f"/m/{merchant.slug}/catalog/", {"store": other_store.pk, "page": 2})
    assert response.status_code == 404


def test_the_counts_list_pages_newest_first(owner, merchant: Merchant, store: Store) -> None:
    with merchant_context(merchant.pk):
        sessions = [
            CountSession.objects.create(merchant=merchant, store=store, started_by=owner, note=f"shelf {n}")
            for n in range(1, 56)
        ]
    client = _client(owner)
    first = client.get(f"/m/{merchant.slug}/stock/counts/").content.decode()
    assert "Page 1 of 2" in first
    assert "1–50 of 55" in first
    assert "shelf 55" in first
    assert ">shelf 5<" not in first
    second = client.get(f"/m/{merchant.slug}/stock/counts/", {"store": store.pk, "page": 2}).content.decode()
    assert [f"shelf {n}" for n in range(5, 0, -1)] == re.findall(r"<td>(shelf \d+)</td>", second)
    assert len(sessions) == 55


def test_a_search_with_a_nul_character_is_searched_without_it(owner, merchant: Merchant, store: Store) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL text holds no NUL: a pasted one is dropped from the query, never a 500."""
    StoreProductFactory(store=store, product__name="Quellwerk Cola")
    response = _client(owner).get(f"/m/{merchant.slug}/catalog/", {"q": "quellwerk\x00 cola"})
    assert response.status_code == 200
    assert _names(response.content.decode()) == ["Quellwerk Cola"]
