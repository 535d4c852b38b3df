"""Scanning every kind of code, master-catalog CSV import, label and photo endpoints."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import qrcode
from django.core.exceptions import ValidationError
from django.test import Client

from catalog import gtin
from catalog.csv_io import CATALOG_COLUMNS, catalog_import
from catalog.models import Barcode, BarcodeKind, Product
from catalog.selectors import LookupError_, store_product_by_code
from catalog.services.assortment import local_product_create
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import BarcodeFactory, ProductFactory, StoreProductFactory

pytestmark = pytest.mark.django_db


def test_a_multipack_barcode_finds_the_product_with_its_quantity(store: Store) -> None:
    item = StoreProductFactory(store=store)
    pack = BarcodeFactory(product=item.product, kind=BarcodeKind.MULTIPACK, quantity=6)
    with merchant_context(store.merchant.pk):
        result = store_product_by_code(store=store, code=gtin.display(pack.code))
    assert (result.store_product.pk, result.quantity) == (item.pk, 6)


def test_a_scale_label_finds_its_product_and_carries_the_price(store: Store) -> None:
    item = StoreProductFactory(store=store, product__is_sold_by_weight=True)
    Barcode.objects.create(
        wholesaler=item.product.wholesaler, product=item.product, code="2112345", kind=BarcodeKind.VARIABLE
    )
    with merchant_context(store.merchant.pk):
        result = store_product_by_code(store=store, code=gtin.variable_code("2112345", 349))
    assert result.store_product.pk == item.pk
    assert result.variable == gtin.VariableMeasure(key="2112345", kind="price", value=349)


def test_a_store_local_product_is_found_by_its_own_barcode_and_label_code(
    merchant: Merchant, store: Store, other_store: Store
) -> None:
    bread = local_product_create(
        merchant=merchant, store=store, name="Sourdough loaf", price=420, barcodes=["2000000000015"]
    )
    with merchant_context(merchant.pk):
        assert store_product_by_code(store=store, code="2000000000015").store_product.pk == bread.pk
        assert store_product_by_code(store=store, code=f"L{bread.pk}").store_product.pk == bread.pk
    with merchant_context(other_store.merchant.pk), pytest.raises(LookupError_):
        store_product_by_code(store=other_store, code=f"L{bread.pk}")


def test_a_duplicate_store_barcode_is_refused_and_nothing_is_created(merchant: Merchant, store: Store) -> None:
    local_product_create(merchant=merchant, store=store, name="Loaf", price=420, barcodes=["2000000000015"])
    with pytest.raises(ValidationError, match="already has this barcode"):
        local_product_create(merchant=merchant, store=store, name="Other", price=100, barcodes=["2000000000015"])
    with merchant_context(merchant.pk):
        from catalog.models import StoreProduct

        assert list(StoreProduct.objects.values_list("local_name", flat=True)) == ["Loaf"]


def _csv(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    import csv

    path = tmp_path / "catalog.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CATALOG_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in CATALOG_COLUMNS})
    return path


def _row(body: str, **values: str) -> dict[str, str]:
    return {
        "gtin": gtin.make(body),
        "name": f"Product {body}",
        "category": "drinks/soft-drinks",
        "suggested_retail_price": "1.49",
        **values,
    }


def test_the_catalog_import_creates_products_categories_and_barcodes_and_is_idempotent(
    store: Store, tmp_path: Path
) -> None:
    wholesaler = store.merchant.wholesaler
    path = _csv(
        tmp_path,
        [
            _row("400111100001", barcodes=f"{gtin.make('1400111100001')}:case:24"),
            _row("400111100002", age_restricted="yes", minimum_age="18"),
        ],
    )
    report = catalog_import(wholesaler=wholesaler, open_file=lambda: path.open(encoding="utf-8", newline=""))
    assert (report.ok, report.rows, report.applied) == (True, 2, 2)
    product = Product.objects.get(gtin=gtin.make("400111100001").zfill(14))
    assert (product.category.path, product.suggested_retail_price) == ("drinks/soft-drinks", 149)
    assert product.category.parent.path == "drinks"
    assert Barcode.objects.get(product=product).quantity == 24
    again = catalog_import(wholesaler=wholesaler, open_file=lambda: path.open(encoding="utf-8", newline=""))
    assert again.ok
    assert Product.objects.filter(wholesaler=wholesaler).count() == 2


def test_a_catalog_file_with_one_bad_row_changes_nothing_and_says_where(store: Store, tmp_path: Path) -> None:
    wholesaler = store.merchant.wholesaler
    existing = ProductFactory(wholesaler=wholesaler)
    before = set(Product.objects.values_list("gtin", "suggested_retail_price"))
    bad_gtin = (
        gtin.make("400111100003")[:-1] + "0"
        if not gtin.make("400111100003").endswith("0")
        else gtin.make("400111100003")[:-1] + "1"
    )
    path = _csv(
        tmp_path,
        [
            _row("400111100001"),
            _row("400111100002", suggested_retail_price="1.499"),
            {"gtin": bad_gtin, "name": "Wrong"},
            _row("400111100004", barcodes=f"{existing.gtin}:multipack:6"),
            _row("400111100001"),
        ],
    )
    report = catalog_import(wholesaler=wholesaler, open_file=lambda: path.open(encoding="utf-8", newline=""))
    assert not report.ok
    problems = {(e.row, e.column) for e in report.errors}
    assert problems == {(2, "suggested_retail_price"), (3, "gtin"), (4, "barcodes"), (5, "gtin")}
    assert "EUR amounts have 2 decimals at most" in next(e.reason for e in report.errors if e.row == 2)
    assert set(Product.objects.values_list("gtin", "suggested_retail_price")) == before


def _login(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_label_pdf_of_a_store_encodes_its_products_lookup_urls(merchant: Merchant, store: Store, owner) -> None:  # type: ignore[no-untyped-def]
    import pypdfium2
    import zxingcpp

    item = StoreProductFactory(store=store)
    response = _login(owner).get(f"/m/{merchant.slug}/catalog/labels.pdf", {"store": store.pk})
    assert response["Content-Type"] == "application/pdf"
    page = pypdfium2.PdfDocument(response.content)[0].render(scale=200 / 72).to_pil()
    texts = {b.text for b in zxingcpp.read_barcodes(page)}
    assert texts == {f"http://testserver/s/{store.code}/p/{item.product.gtin}/"}


def test_a_photo_of_a_label_opens_the_product_page(store: Store) -> None:
    item = StoreProductFactory(store=store)
    image = qrcode.make(f"https://x.example/s/{store.code}/p/{item.product.gtin}/")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "photo.png"
    response = Client().post(f"/s/{store.code}/scan/photo/", {"photo": buffer})
    assert response.status_code == 302
    assert response["Location"] == f"/s/{store.code}/p/{item.product.gtin}/"


def test_a_photo_without_a_barcode_gets_a_message(store: Store) -> None:
    buffer = io.BytesIO(b"not an image at all")
    buffer.name = "photo.jpg"
    response = Client().post(f"/s/{store.code}/scan/photo/", {"photo": buffer})
    assert response.status_code == 400
    assert "message-error" in response.content.decode()
