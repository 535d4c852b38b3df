"""Bad input to the pages answers a clear 400 (or is cleaned) and changes nothing: never a 500.

Each case was answered 500 (or wrongly accepted) before the validation layer (core.inputs).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog import csv_io, gtin
from catalog.models import CountSession, MovementKind, PriceChange, Product, StockMovement, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import Order
from merchants.models import Merchant, Store
from merchants.tenancy import platform_access
from tests.catalog.factories import StoreProductFactory, next_gtin
from tests.checkout.test_shopper_pages import _shopper
from tests.core.test_inputs import _jpeg_claiming
from tests.sensing.conftest import Registered, camera_make

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _snapshot() -> dict[str, Any]:
    with platform_access(reason="test: snapshot", actor="test"):
        return {
            "items": list(
                StoreProduct.objects.order_by("pk").values_list(
                    "pk", "price", "on_hand", "low_stock_threshold", "is_active", "shelf_location"
                )
            ),
            "movements": StockMovement.objects.count(),
            "prices": PriceChange.objects.count(),
            "counts": list(CountSession.objects.values_list("pk", "status")),
            "orders": Order.objects.count(),
        }


@pytest.fixture
def item(store: Store) -> StoreProduct:
    item = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola")
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=10)
    return item


@pytest.mark.parametrize("price", ["99999999999", "1e30", "21474836.48"])
def test_a_price_beyond_the_column_is_refused_on_the_catalog_row(owner, merchant: Merchant, item: StoreProduct, price: str) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    before = _snapshot()
    response = _client(owner).post(
        f"/m/{merchant.slug}/catalog/{item.pk}/", {"price": price, "shelf_location": "A1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "more than the largest amount Lingshou keeps (21474836.47)" in response.content.decode()
    assert _snapshot() == before


@pytest.mark.parametrize("quantity", [str(10**20), str(2**63), "1e20"])
def test_a_stock_adjustment_beyond_the_column_is_refused(owner, merchant: Merchant, item: StoreProduct, quantity: str) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    before = _snapshot()
    response = _client(owner).post(
        f"/m/{merchant.slug}/stock/{item.pk}/", {"quantity": quantity, "reason": "damaged", "note": ""}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Quantity must be at most 2147483647." in body or "Enter a whole number." in body
    assert _snapshot() == before


def test_an_adjustment_that_would_take_on_hand_past_its_column_is_refused(owner, merchant: Merchant, item: StoreProduct) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    before = _snapshot()
    response = _client(owner).post(
        f"/m/{merchant.slug}/stock/{item.pk}/", {"quantity": "2147483647", "reason": "found", "note": ""}
    )
    assert response.status_code == 400
    assert "+2147483647 would leave 2147483657 on hand, beyond what Lingshou can count." in response.content.decode()
    assert _snapshot() == before


def test_a_count_of_1e12_is_refused_naming_the_field(owner, merchant: Merchant, store: Store, item: StoreProduct) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    client = _client(owner)
    started = client.post(f"/m/{merchant.slug}/stock/counts/", {"store": store.pk})
    session_url = started["Location"]
    before = _snapshot()
    response = client.post(session_url, {"code": gtin.display(item.product.gtin), "counted": str(10**12)})
    assert response.status_code == 400
    assert "On the shelf must be at most 2147483647." in response.content.decode()
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/m/{slug}/catalog/", {"q": "cola\x00"}),
        ("/m/{slug}/stock/", {"q": "co\x00la"}),
        ("/m/{slug}/orders/", {"q": "\x00"}),
        ("/s/{code}/", {"code": "40\x0012345"}),
        ("/s/{code}/search/", {"q": "\x00\x00"}),
        ("/s/{code}/p/4000%00001/", {}),
    ],
)
def test_a_nul_byte_in_any_search_is_cleaned_never_a_500(owner, merchant: Merchant, store: Store, item: StoreProduct, url: str, params: dict[str, str]) -> None:  # type: ignore[no-untyped-def]  # noqa: ARG001 - item gives the searches something to find  # fmt: skip
    response = _client(owner).get(url.format(slug=merchant.slug, code=store.code), params)
    assert response.status_code in (200, 302, 404)


def test_a_store_code_with_a_nul_byte_is_no_store(store: Store) -> None:
    assert Client().get(f"/s/{store.code}%00/").status_code == 404
    assert Client().get(f"/s/{store.code}/").status_code == 200


def _import(owner: Any, merchant: Merchant, data: bytes) -> Any:
    return _client(owner).post(f"/m/{merchant.slug}/catalog/import/", {"file": SimpleUploadedFile("a.csv", data)})


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{code},99999999999,A1,yes,5", "more than the largest amount Lingshou keeps"),
        ("{code},1e30,A1,yes,5", "more than the largest amount Lingshou keeps"),
        ("{code},2.49,A1,yes,5²", "Low stock threshold: &#x27;5²&#x27; is not a whole number."),
        ("{code},2.49,A1,yes,99999999999", "Low stock threshold must be at most 2147483647."),
    ],
)
def test_a_csv_import_with_a_number_beyond_its_column_is_refused_with_the_row(owner, merchant: Merchant, item: StoreProduct, row: str, message: str) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    before = _snapshot()
    data = "code,price,shelf_location,active,low_stock_threshold\n" + row.format(code=gtin.display(item.product.gtin))
    response = _import(owner, merchant, data.encode())
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _snapshot() == before


def test_a_latin1_csv_is_imported_with_its_umlauts(owner, merchant: Merchant, item: StoreProduct) -> None:  # type: ignore[no-untyped-def]
    data = f"code,price,shelf_location\n{gtin.display(item.product.gtin)},1.99,Kühlregal\n".encode("latin-1")
    response = _import(owner, merchant, data)
    assert response.status_code == 200
    with platform_access(reason="test", actor="test"):
        item.refresh_from_db()
    assert (item.price, item.shelf_location) == (199, "Kühlregal")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"code,price\n4000001,\x001.99\n", "row 1 holds a NUL byte"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "row 2 holds a NUL byte"),
        (b"code,price,shelf_location\n4000001,1.99," + b"A" * 200_000 + b"\n", "Row 1: the file is not valid CSV"),
    ],
)
def test_a_csv_file_that_is_no_text_is_refused_with_its_row(owner, merchant: Merchant, item: StoreProduct, data: bytes, message: str) -> None:  # type: ignore[no-untyped-def]  # noqa: ARG001 - item is what must stay unchanged  # fmt: skip
    before = _snapshot()
    response = _import(owner, merchant, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _snapshot() == before


def test_the_assortment_export_escapes_cells_that_start_like_a_formula(owner, merchant: Merchant, store: Store) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    StoreProductFactory(store=store, price=100, product__name='=HYPERLINK("http://x","Cola")')
    response = _client(owner).get(f"/m/{merchant.slug}/catalog/export.csv", {"store": store.pk})
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert '"\'=HYPERLINK(""http://x"",""Cola"")"' in body
    assert ",=HYPERLINK" not in body


@pytest.mark.parametrize("email", ["shopper@example.com\nBcc: all@example.com", "no-at-sign.example.com", "a@b@c"])
def test_the_checkout_refuses_an_email_address_that_is_not_one(store: Store, item: StoreProduct, email: str) -> None:
    client, _visit = _shopper(store, [(item, 1)])
    before = _snapshot()
    response = client.post(f"/s/{store.code}/checkout/", {"email": email})
    assert response.status_code == 400
    assert "Enter an e-mail address like name@example.com" in response.content.decode()
    assert _snapshot() == before


def _slot(**changes: str) -> str:
    """One slot as calibrate.js posts it, with some of its JSON values replaced by ``changes``."""
    values = {"store_product": "1", "polygon": "[[0, 0], [1, 0], [1, 1]]", "capacity": "4", "units": "1"} | changes
    return '[{"key": "a", ' + ", ".join(f'"{key}": {value}' for key, value in values.items()) + "}]"


@pytest.fixture
def registered(merchant: Merchant, store: Store) -> Registered:
    return camera_make(merchant, store)


@pytest.mark.parametrize(
    "slots",
    [
        "[" * 100_000 + "]" * 100_000,
        _slot(polygon="[[0, 0], [NaN, 1], [1, 1]]"),
        _slot(polygon="[[0, 0], [Infinity, 1], [1, 1]]"),
        _slot(capacity="1e999"),
        _slot(store_product="99999999999999999999999"),
        _slot(units="10000000000000"),
        '{"key": "a"}',
        '[null, 7, "x"]',
    ],
)
def test_garbage_slots_on_the_calibration_page_are_refused(owner, merchant: Merchant, registered: Registered, slots: str) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    url = f"/m/{merchant.slug}/cameras/{registered.camera.pk}/calibrate/"
    with platform_access(reason="test", actor="test"):
        version = type(registered.camera).objects.get(pk=registered.camera.pk).calibration_version
    response = _client(owner).post(url, {"slots": slots})
    assert response.status_code == 400
    with platform_access(reason="test", actor="test"):
        assert type(registered.camera).objects.get(pk=registered.camera.pk).calibration_version == version


def test_a_reference_picture_claiming_20000_pixels_square_is_refused(owner, merchant: Merchant, registered: Registered) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    url = f"/m/{merchant.slug}/cameras/{registered.camera.pk}/calibrate/"
    picture = SimpleUploadedFile("shelf.jpg", _jpeg_claiming(20000, 20000), content_type="image/jpeg")
    response = _client(owner).post(url, {"slots": "[]", "reference": picture})
    assert response.status_code == 400


def test_a_catalog_import_with_numbers_beyond_their_columns_names_each_and_writes_nothing(merchant: Merchant) -> None:
    codes = [next_gtin() for _ in range(5)]
    rows = [
        "gtin,name,case_pack,minimum_age,age_restricted,barcodes",
        f"{codes[0]},Cola,{2**63},,no,",
        f"{codes[1]},Chips,1e20,,no,",
        f"{codes[2]},Bier,6,18²,yes,",
        f"{codes[3]},Wasser,6,,no,{codes[4]}:case:{10**20}",
    ]
    report = csv_io.catalog_import(wholesaler=merchant.wholesaler, open_file=lambda: io.StringIO("\n".join(rows)))
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (1, "case_pack", "Units per case must be at most 2147483647."),
        (2, "case_pack", "Units per case: '1e20' is not a whole number."),
        (3, "minimum_age", "An age is a whole number, e.g. 18."),
        (3, "minimum_age", "Give the minimum age of an age-restricted product."),
        (4, "barcodes", f"'{codes[4]}:case:{10**20}': write code:kind:quantity, e.g. 14012345000013:case:24."),
    ]  # fmt: skip
    with platform_access(reason="test", actor="test"):
        assert not Product.objects.filter(wholesaler=merchant.wholesaler).exists()
