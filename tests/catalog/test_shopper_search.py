"""The shopper finds a product without its barcode: search by name, typo tolerant, only this store's active products."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from catalog.models import ProductLookup, StoreProduct
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, platform_access
from tests.catalog.factories import ProductFactory, StoreProductFactory
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _names(body: str) -> list[str]:
    """The product names in the results, in order."""
    return re.findall(r'<span class="search-result-name">([^<]*)</span>', body)


def _links(body: str) -> list[str]:
    return re.findall(r'<a class="search-result" href="([^"]*)"', body)


@pytest.fixture
def milk(store: Store) -> StoreProduct:
    return StoreProductFactory(
        store=store,
        price=189,
        product__name="Almliebe Vanillemilch",
        product__brand="Almliebe",
        product__unit_size="0.5 l",
    )


def test_a_name_with_a_typo_finds_the_product_and_links_to_its_card(store: Store, milk: StoreProduct) -> None:
    StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola", product__brand="Quellwerk")

    response = Client().get(f"/s/{store.code}/search/", {"q": "vanilemilch"})

    body = response.content.decode()
    assert response.status_code == 200
    assert _names(body) == ["Almliebe Vanillemilch"]
    assert _links(body) == [f"/s/{store.code}/p/{milk.product.gtin}/"]
    assert "1,89\xa0€" in body
    assert "1 match for “vanilemilch”" in body
    # The card the result opens is the product's.
    card = Client().get(_links(body)[0]).content.decode()
    assert "Almliebe Vanillemilch" in card
    assert "1,89\xa0€" in card


def test_only_this_stores_active_products_are_found(
    merchant: Merchant,
    store: Store,
    other_store: Store,
    milk: StoreProduct,  # noqa: ARG001 - fixture requested for the rows it creates
) -> None:
    wholesaler = merchant.wholesaler
    # The same kind of product: taken out of this store's assortment, sold only in the merchant's other
    # store, and sold only by another merchant (both merchants buy from the same wholesaler).
    StoreProductFactory(
        store=store, is_active=False, product=ProductFactory(wholesaler=wholesaler, name="Almliebe Vanillemilch Bio")
    )
    second_store = StoreFactory(merchant=merchant, name="Bahnhof", code="BAHNHOF")
    StoreProductFactory(
        store=second_store, product=ProductFactory(wholesaler=wholesaler, name="Almliebe Vanillemilch Erdbeer")
    )
    StoreProductFactory(
        store=other_store, product=ProductFactory(wholesaler=wholesaler, name="Almliebe Vanillemilch Light")
    )
    # A store's own product (no master row) is searched by its local name.
    local = StoreProductFactory(store=store, product=None, local_name="Vanillemilch vom Hof", price=229)

    body = Client().get(f"/s/{store.code}/search/", {"q": "vanillemilch"}).content.decode()

    assert sorted(_names(body)) == ["Almliebe Vanillemilch", "Vanillemilch vom Hof"]
    assert f"/s/{store.code}/p/L{local.pk}/" in _links(body)
    # The other merchant's shoppers see their own product and never this store's.
    other = Client().get(f"/s/{other_store.code}/search/", {"q": "vanillemilch"}).content.decode()
    assert _names(other) == ["Almliebe Vanillemilch Light"]


def test_nothing_found_is_said_with_what_to_try(store: Store, milk: StoreProduct) -> None:  # noqa: ARG001 - fixture requested for the rows it creates
    response = Client().get(f"/s/{store.code}/search/", {"q": "zahnpasta"})

    body = response.content.decode()
    assert response.status_code == 200
    assert _names(body) == []
    assert "Nothing found for “zahnpasta”" in body
    assert "Check the spelling" in body


def test_an_empty_search_shows_the_form_and_no_results(store: Store, milk: StoreProduct) -> None:  # noqa: ARG001 - fixture requested for the rows it creates
    response = Client().get(f"/s/{store.code}/search/", {"q": "   "})

    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="q"' in body
    assert _names(body) == []
    assert "Nothing found" not in body


def test_a_search_too_long_is_refused_with_a_message(store: Store, milk: StoreProduct) -> None:  # noqa: ARG001 - fixture requested for the rows it creates
    response = Client().get(f"/s/{store.code}/search/", {"q": "vanille " * 20})

    body = response.content.decode()
    assert response.status_code == 400
    assert "Type at most 100 characters: a few letters of the name are enough." in body
    assert _names(body) == []


def test_a_nul_character_is_searched_without_it(store: Store, milk: StoreProduct) -> None:  # noqa: ARG001 - fixture requested for the rows it creates
    response = Client().get(f"/s/{store.code}/search/", {"q": "vanille\x00milch"})

    assert response.status_code == 200
    assert _names(response.content.decode()) == ["Almliebe Vanillemilch"]


def test_an_unknown_store_is_404(milk: StoreProduct) -> None:  # noqa: ARG001 - fixture requested for the rows it creates
    assert Client().get("/s/NOSUCHSTORE/search/", {"q": "vanillemilch"}).status_code == 404


def test_a_name_typed_into_the_barcode_form_opens_the_search(store: Store) -> None:
    by_name = Client().get(f"/s/{store.code}/", {"code": " Vanille milch "})
    by_number = Client().get(f"/s/{store.code}/", {"code": "4006381 333931"})
    by_label = Client().get(f"/s/{store.code}/", {"code": "L12"})

    assert (by_name.status_code, by_name["Location"]) == (302, f"/s/{store.code}/search/?q=Vanille+milch")
    assert (by_number.status_code, by_number["Location"]) == (302, f"/s/{store.code}/p/4006381333931/")
    assert (by_label.status_code, by_label["Location"]) == (302, f"/s/{store.code}/p/L12/")


def test_a_name_in_a_product_address_opens_the_search_not_a_404(store: Store) -> None:
    response = Client().get(f"/s/{store.code}/p/Vanillemilch/")

    assert (response.status_code, response["Location"]) == (302, f"/s/{store.code}/search/?q=Vanillemilch")
    # A name is not a barcode lookup: the demand for unknown codes is not counted with it.
    with platform_access(reason="test: lookups", actor="test"):
        assert ProductLookup.objects.count() == 0
    # Scripts asking for JSON still get the error, not a page.
    api = Client().get(f"/s/{store.code}/p/Vanillemilch/", HTTP_ACCEPT="application/json")
    assert api.status_code == 404
    assert api.json()["error"] == {"code": "unknown_product", "message": "A barcode number has digits only."}


def test_the_store_page_and_the_not_found_page_offer_the_search(store: Store) -> None:
    form = f'action="/s/{store.code}/search/"'
    assert form in Client().get(f"/s/{store.code}/").content.decode()
    unknown = Client().get(f"/s/{store.code}/p/4006381333931/")
    assert unknown.status_code == 404
    assert form in unknown.content.decode()
    assert "Search by name" in unknown.content.decode()


def test_the_results_show_price_unit_price_and_stock(store: Store, milk: StoreProduct) -> None:
    with merchant_context(store.merchant_id):
        StoreProduct.objects.filter(pk=milk.pk).update(on_hand=0)

    body = Client().get(f"/s/{store.code}/search/", {"q": "Almliebe"}).content.decode()

    assert "1,89\xa0€" in body
    assert "3,78\xa0€/l" in body  # 1,89 € for 0.5 l
    assert "Out of stock here" in body


def test_a_brand_alone_finds_its_products_whose_names_do_not_say_it(store: Store) -> None:
    StoreProductFactory(store=store, price=99, product__name="Stilles Wasser", product__brand="Bergquelle")
    StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola", product__brand="Quellwerk")
    body = Client().get(f"/s/{store.code}/search/", {"q": "bergqelle"}).content.decode()
    assert _names(body) == ["Stilles Wasser"]


def test_the_search_matches_brand_and_name_through_their_one_trigram_index(store: Store, milk: StoreProduct) -> None:
    """The words are matched against the very expression the index holds, so PostgreSQL can read the candidates
    from it (an OR of the brand's and the name's indexes fell back to a scan of every product, 400 ms on
    50,000 of them): with sequential scans priced out, the plan of the match is that index."""
    from django.db import connection, transaction

    from catalog.models import Product, search_text
    from catalog.selectors import assortment_search

    matches = Product.objects.alias(search=search_text()).filter(search__trigram_word_similar="almlibe vanille")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = matches.values("id").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "product_search_trgm" in plan, plan
    with merchant_context(store.merchant_id):
        assert [item.pk for item in assortment_search(store=store, query="almlibe vanille")] == [milk.pk]
