"""Catalog pages and API: what owners and clerks may do, and 404 for other merchants' ids."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from catalog.models import CountSession, MovementKind, PriceChange, ProductLookup, StockMovement, StoreProduct
from catalog.services.stock import stock_move
from merchants.models import Merchant, Store
from merchants.services import api_token_create
from merchants.tenancy import merchant_context, platform_access
from tests.catalog.factories import ProductFactory, StoreProductFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _bearer(user) -> APIClient:  # type: ignore[no-untyped-def]
    _token, raw = api_token_create(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _snapshot() -> dict[str, Any]:
    with platform_access(reason="test: snapshot", actor="test"):
        return {
            "items": list(
                StoreProduct.objects.order_by("pk").values_list("pk", "price", "on_hand", "is_active", "shelf_location")
            ),
            "movements": StockMovement.objects.count(),
            "prices": PriceChange.objects.count(),
            "counts": list(CountSession.objects.values_list("pk", "status")),
        }


@pytest.fixture
def item(store: Store) -> StoreProduct:
    item = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola", product__content_amount="0.5")
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=10)
    return item


@pytest.fixture
def foreign_item(other_store: Store) -> StoreProduct:
    return StoreProductFactory(store=other_store, price=100)


def test_the_shopper_sees_price_unit_price_and_stock_by_any_code(store: Store, item: StoreProduct) -> None:
    body = Client().get(f"/s/{store.code}/p/{item.product.gtin[1:]}/").content.decode()
    assert "Quellwerk Cola" in body
    assert "2,49\xa0€" in body
    assert "4,98\xa0€/l" in body
    assert "In stock" in body
    with merchant_context(store.merchant.pk):
        lookup = ProductLookup.objects.get()
    assert (lookup.store_product_id, lookup.code) == (item.pk, item.product.gtin[1:])


def test_an_unknown_barcode_gets_a_clear_404_and_is_still_counted_as_demand(store: Store) -> None:
    response = Client().get(f"/s/{store.code}/p/4006381333931/")
    assert response.status_code == 404
    assert "does not sell" in response.content.decode()
    bad = Client().get(f"/s/{store.code}/p/4006381333932/", HTTP_ACCEPT="application/json")
    assert bad.json()["error"]["message"].startswith("Wrong check digit")
    with merchant_context(store.merchant.pk):
        assert ProductLookup.objects.filter(store_product__isnull=True).count() == 2


def test_a_product_of_another_store_is_not_found_here(store: Store, foreign_item: StoreProduct) -> None:
    assert Client().get(f"/s/{store.code}/p/{foreign_item.product.gtin}/").status_code == 404
    assert Client().get(f"/s/{store.code}/p/L{foreign_item.pk}/").status_code == 404


def test_the_owner_edits_a_price_inline_and_the_change_is_kept(merchant: Merchant, item: StoreProduct, owner) -> None:  # type: ignore[no-untyped-def]
    response = _client(owner).post(
        f"/m/{merchant.slug}/catalog/{item.pk}/",
        {"price": "2.79", "shelf_location": "A3", "low_stock_threshold": "4", "is_active": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'id="item-' in response.content.decode()
    with merchant_context(merchant.pk):
        item.refresh_from_db()
        change = PriceChange.objects.filter(store_product=item).latest("changed_at")
    assert (item.price, item.shelf_location, item.low_stock_threshold) == (279, "A3", 4)
    assert (change.old_price, change.new_price, change.changed_by_id) == (249, 279, owner.pk)


@pytest.mark.parametrize(
    ("price", "message"), [("-1", "cannot be negative"), ("2.499", "2 decimals at most"), ("abc", "not an amount")]
)
def test_a_bad_price_is_refused_with_a_message_and_changes_nothing(
    merchant: Merchant,
    item: StoreProduct,
    owner,
    price: str,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    before = _snapshot()
    response = _client(owner).post(f"/m/{merchant.slug}/catalog/{item.pk}/", {"price": price}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _snapshot() == before


def test_a_clerk_sees_the_catalog_but_cannot_change_prices(merchant: Merchant, item: StoreProduct, clerk) -> None:  # type: ignore[no-untyped-def]
    client = _client(clerk)
    assert "Quellwerk Cola" in client.get(f"/m/{merchant.slug}/catalog/").content.decode()
    before = _snapshot()
    assert client.post(f"/m/{merchant.slug}/catalog/{item.pk}/", {"price": "0.10"}).status_code == 403
    assert _snapshot() == before


def test_search_tolerates_typos(merchant: Merchant, store: Store, item: StoreProduct, owner) -> None:  # type: ignore[no-untyped-def]  # noqa: ARG001 - fixture requested for the rows it creates
    body = (
        _client(owner)
        .get(f"/m/{merchant.slug}/catalog/", {"q": "quelwerk cola"}, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "Quellwerk Cola" in body
    assert "<html" not in body  # the partial only


def test_the_owner_adds_a_catalog_product_at_its_suggested_price(merchant: Merchant, store: Store, owner) -> None:  # type: ignore[no-untyped-def]
    product = ProductFactory(wholesaler=merchant.wholesaler, name="Kieznacht Mate", suggested_retail_price=229)
    _client(owner).post(f"/m/{merchant.slug}/catalog/add/", {"product": product.pk, "store": store.pk})
    with merchant_context(merchant.pk):
        added = StoreProduct.objects.get(product=product)
    assert (added.price, added.store_id) == (229, store.pk)


def test_an_adjustment_without_a_reason_is_refused_and_one_with_a_reason_is_booked(
    merchant: Merchant,
    item: StoreProduct,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    client = _client(owner)
    before = _snapshot()
    assert client.post(f"/m/{merchant.slug}/stock/{item.pk}/", {"quantity": "-2", "reason": ""}).status_code == 400
    assert _snapshot() == before
    client.post(f"/m/{merchant.slug}/stock/{item.pk}/", {"quantity": "-2", "reason": "damaged", "note": "dropped"})
    with merchant_context(merchant.pk):
        item.refresh_from_db()
        movement = StockMovement.objects.latest("pk")
    assert item.on_hand == 8
    assert (movement.kind, movement.reason, movement.note) == ("write_off", "damaged", "dropped")


def test_a_count_books_the_difference(merchant: Merchant, store: Store, item: StoreProduct, owner) -> None:  # type: ignore[no-untyped-def]
    client = _client(owner)
    response = client.post(f"/m/{merchant.slug}/stock/counts/", {"store": store.pk, "note": "fridge"})
    session_url = response["Location"]
    client.post(session_url, {"code": item.product.gtin, "counted": "7"})
    client.post(session_url, {"code": item.product.gtin, "counted": "6"})  # a recount corrects
    client.post(session_url, {"action": "close"})
    with merchant_context(merchant.pk):
        item.refresh_from_db()
        movement = StockMovement.objects.latest("pk")
    assert item.on_hand == 6
    assert (movement.kind, movement.quantity) == ("count", -4)


def test_stock_filters_low_and_negative(merchant: Merchant, store: Store, item: StoreProduct, owner) -> None:  # type: ignore[no-untyped-def]  # noqa: ARG001 - fixture requested for the rows it creates
    low = StoreProductFactory(store=store, product__name="Almost gone", low_stock_threshold=3)
    negative = StoreProductFactory(store=store, product__name="Oversold")
    stock_move(merchant=merchant, store_product_id=negative.pk, kind=MovementKind.SALE, quantity=-1)
    client = _client(owner)
    low_page = client.get(f"/m/{merchant.slug}/stock/", {"status": "low"}).content.decode()
    negative_page = client.get(f"/m/{merchant.slug}/stock/", {"status": "negative"}).content.decode()
    assert "Almost gone" in low_page
    assert "Quellwerk Cola" not in low_page
    assert "Oversold" in negative_page
    assert "Almost gone" not in negative_page
    assert low.pk != negative.pk


def test_every_catalog_page_hides_other_merchants_items(
    merchant: Merchant,
    store: Store,  # noqa: ARG001 - fixture requested for the rows it creates
    item: StoreProduct,  # noqa: ARG001 - fixture requested for the rows it creates
    foreign_item: StoreProduct,
    other_store: Store,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    client = _client(owner)
    before = _snapshot()
    base = f"/m/{merchant.slug}"
    assert client.get(f"{base}/catalog/{foreign_item.pk}/").status_code == 404
    assert client.post(f"{base}/catalog/{foreign_item.pk}/", {"price": "0.01"}).status_code == 404
    assert client.get(f"{base}/stock/{foreign_item.pk}/").status_code == 404
    assert client.post(f"{base}/stock/{foreign_item.pk}/", {"quantity": "5", "reason": "found"}).status_code == 404
    assert client.get(f"{base}/catalog/", {"store": other_store.pk}).status_code == 404
    assert client.get(f"{base}/stock/", {"store": other_store.pk}).status_code == 404
    assert client.get(f"{base}/catalog/labels.pdf", {"store": other_store.pk}).status_code == 404
    assert client.get(f"{base}/catalog/export.csv", {"store": other_store.pk}).status_code == 404
    assert client.post(f"{base}/catalog/prices/", {"store": other_store.pk, "percent": "50"}).status_code == 404
    with merchant_context(other_store.merchant.pk):
        session = CountSession.objects.create(merchant=other_store.merchant, store=other_store)
    assert client.post(f"{base}/stock/counts/{session.pk}/", {"action": "close"}).status_code == 404
    assert _snapshot()["items"] == before["items"]
    assert _snapshot()["movements"] == before["movements"]


def test_the_export_holds_only_this_stores_items_and_imports_back(
    merchant: Merchant,
    store: Store,  # noqa: ARG001 - fixture requested for the rows it creates
    item: StoreProduct,
    foreign_item: StoreProduct,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    client = _client(owner)
    exported = b"".join(client.get(f"/m/{merchant.slug}/catalog/export.csv").streaming_content).decode()
    assert "Quellwerk Cola" in exported
    assert foreign_item.product.name not in exported
    changed = exported.replace(",2.49,", ",2.59,")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("a.csv", changed.encode(), content_type="text/csv")
    assert client.post(f"/m/{merchant.slug}/catalog/import/", {"file": upload}).status_code == 200
    with merchant_context(merchant.pk):
        item.refresh_from_db()
    assert item.price == 259


def test_an_import_with_one_bad_row_changes_nothing_and_names_row_column_reason(
    merchant: Merchant,
    store: Store,
    item: StoreProduct,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    other = StoreProductFactory(store=store, price=100)
    csv_text = f"code,price\n{item.product.gtin},3.00\n{other.product.gtin},-1\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = _snapshot()
    response = _client(owner).post(
        f"/m/{merchant.slug}/catalog/import/", {"file": SimpleUploadedFile("a.csv", csv_text.encode())}
    )
    assert response.status_code == 400
    report = response.context["report"]
    assert [(e.row, e.column, e.reason) for e in report.errors] == [(2, "price", "A price cannot be negative.")]
    assert _snapshot() == before


def test_bulk_price_change_by_percentage_is_rounded_and_kept(
    merchant: Merchant, store: Store, item: StoreProduct, owner
) -> None:  # type: ignore[no-untyped-def]
    _client(owner).post(f"/m/{merchant.slug}/catalog/prices/", {"store": store.pk, "percent": "10"})
    with merchant_context(merchant.pk):
        item.refresh_from_db()
        assert PriceChange.objects.filter(store_product=item, old_price=249, new_price=274).exists()
    assert item.price == 274  # 2.49 * 1.10 = 2.739 -> 2.74


# API -------------------------------------------------------------------------------------------


def test_api_lists_assortment_stock_and_movements(merchant: Merchant, store: Store, item: StoreProduct, owner) -> None:  # type: ignore[no-untyped-def]
    client = _bearer(owner)
    base = f"/api/v1/merchants/{merchant.pk}/stores/{store.pk}"
    rows = client.get(f"{base}/assortment/").json()["results"]
    assert [(r["name"], r["price"], r["price_decimal"], r["on_hand"]) for r in rows] == [
        ("Quellwerk Cola", 249, "2.49", 10)
    ]
    movements = client.get(f"{base}/assortment/{item.pk}/movements/").json()["results"]
    assert [(m["kind"], m["quantity"]) for m in movements] == [("receipt", 10)]
    products = client.get(f"/api/v1/merchants/{merchant.pk}/products/", {"q": "quelwerk"}).json()["results"]
    assert [p["name"] for p in products] == ["Quellwerk Cola"]


def test_api_adjustment_and_count(merchant: Merchant, store: Store, item: StoreProduct, owner) -> None:  # type: ignore[no-untyped-def]
    client = _bearer(owner)
    base = f"/api/v1/merchants/{merchant.pk}/stores/{store.pk}"
    response = client.post(
        f"{base}/adjustments/", {"item_id": item.pk, "quantity": -20, "reason": "theft"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Only 10 on hand")
    assert client.post(f"{base}/adjustments/", {"item_id": item.pk, "quantity": -1}, format="json").json()["error"][
        "fields"
    ] == {"reason": ["This field is required."]}
    count = client.post(f"{base}/counts/", {"note": "x"}, format="json").json()
    client.post(f"{base}/counts/{count['id']}/lines/", {"code": item.product.gtin, "counted": 12}, format="json")
    booked = client.post(f"{base}/counts/{count['id']}/close/").json()
    assert [(m["kind"], m["quantity"], m["on_hand_after"]) for m in booked] == [("count", 2, 12)]


def test_every_catalog_api_route_is_404_for_another_merchant(
    merchant: Merchant,
    store: Store,
    other_store: Store,
    item: StoreProduct,
    owner,
    other_owner,  # type: ignore[no-untyped-def]
) -> None:
    with merchant_context(merchant.pk):
        session = CountSession.objects.create(merchant=merchant, store=store)
    base = f"/api/v1/merchants/{merchant.pk}/stores/{store.pk}"
    routes: list[tuple[str, str, dict[str, Any]]] = [
        ("get", f"/api/v1/merchants/{merchant.pk}/products/", {}),
        ("get", f"{base}/assortment/", {}),
        ("get", f"{base}/assortment/{item.pk}/", {}),
        ("post", f"{base}/assortment/{item.pk}/price/", {"price": "0.01"}),
        ("get", f"{base}/assortment/{item.pk}/movements/", {}),
        ("get", f"{base}/stock/", {}),
        ("post", f"{base}/adjustments/", {"item_id": item.pk, "quantity": -1, "reason": "theft"}),
        ("post", f"{base}/counts/", {}),
        ("post", f"{base}/counts/{session.pk}/lines/", {"item_id": item.pk, "counted": 0}),
        ("post", f"{base}/counts/{session.pk}/close/", {}),
    ]
    theirs, mine = _bearer(other_owner), _bearer(owner)
    for method, url, data in routes:
        before = _snapshot()
        response = getattr(theirs, method)(url, data, format="json")
        assert response.status_code == 404, url
        assert _snapshot() == before, url
    # And my own ids under another merchant's store are 404 too.
    response = mine.get(f"/api/v1/merchants/{merchant.pk}/stores/{other_store.pk}/assortment/")
    assert response.status_code == 404
