"""The owner downloads everything of the shop: every merchant table as CSV and JSON, and its media, streamed."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from catalog.models import StoreProduct
from merchants.data_export import merchant_models
from merchants.models import Merchant
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.merchants.shops import shop_fill

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _download(client: Client, merchant: Merchant) -> zipfile.ZipFile:
    response = client.get(f"/m/{merchant.slug}/data/export.zip")
    assert response.status_code == 200
    # Streamed: the zip is written as it is sent, never built in memory first.
    assert response.streaming
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{merchant.slug}-')
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]


def test_the_owner_downloads_every_table_of_the_shop_and_its_media_and_nothing_of_another(
    merchant: Merchant, other_merchant: Merchant, owner: Any
) -> None:
    shop = shop_fill(merchant, marker="Linden")
    shop_fill(other_merchant, marker="Parkweg")
    StoreProductFactory(store=shop.store, local_name="=HYPERLINK(evil)")

    archive = _download(_client(owner), merchant)

    names = set(archive.namelist())
    for model in merchant_models():
        assert f"{model._meta.app_label}/{model._meta.model_name}.csv" in names, model
        assert f"{model._meta.app_label}/{model._meta.model_name}.json" in names, model
    assert {"README.txt", "merchants/merchant.json", "merchants/staff.csv"} <= names
    assert archive.read(f"media/{shop.camera.reference_image.name}") == b"reference of Linden"
    everything = b"".join(archive.read(name) for name in names)
    # Nothing of the other shop, though its rows are in the same tables (marker rows).
    assert b"Parkweg" not in everything
    assert b"parkweg" not in everything

    orders = json.loads(archive.read("checkout/order.json"))
    assert [(o["id"], o["email"], o["total"]) for o in orders] == [(shop.order.pk, "linden@shopper.example", 398)]
    ledger = list(csv.DictReader(io.StringIO(archive.read("catalog/stockmovement.csv").decode())))
    assert [(row["store_product_id"], row["kind"], row["quantity"]) for row in ledger] == [
        (str(shop.item.pk), "receipt", "10")
    ]
    products = list(csv.DictReader(io.StringIO(archive.read("catalog/storeproduct.csv").decode())))
    # A cell that starts like a formula is text in a spreadsheet; the JSON keeps the exact value.
    assert sorted(row["local_name"] for row in products) == ["'=HYPERLINK(evil)", "Linden Limonade"]
    assert "=HYPERLINK(evil)" in {row["local_name"] for row in json.loads(archive.read("catalog/storeproduct.json"))}
    staff = list(csv.DictReader(io.StringIO(archive.read("merchants/staff.csv").decode())))
    assert sorted((row["username"], row["role"]) for row in staff) == [
        ("linden-clerk@example.com", "clerk"),
        ("owner@example.com", "owner"),
    ]
    devices = next(csv.reader(io.StringIO(archive.read("merchants/device.csv").decode())))
    assert "token_hash" not in devices


@pytest.mark.parametrize("url", ["data/", "data/export.zip"])
def test_only_the_owner_opens_the_data_page_and_the_download(
    url: str, merchant: Merchant, other_merchant: Merchant, manager: Any, clerk: Any, other_owner: Any
) -> None:
    shop_fill(merchant, marker="Linden")
    assert _client(manager).get(f"/m/{merchant.slug}/{url}").status_code == 403
    assert _client(clerk).get(f"/m/{merchant.slug}/{url}").status_code == 403
    # Another shop's owner: the same answer as for a shop that does not exist.
    assert _client(other_owner).get(f"/m/{merchant.slug}/{url}").status_code == 404
    response = Client().get(f"/m/{merchant.slug}/{url}")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    del other_merchant


def test_the_data_page_offers_the_download_and_the_closing(merchant: Merchant, owner: Any) -> None:
    body = _client(owner).get(f"/m/{merchant.slug}/data/").content.decode()
    assert f'href="/m/{merchant.slug}/data/export.zip"' in body
    assert f'action="/m/{merchant.slug}/data/close/"' in body
    assert "Ask to close the shop" in body


def test_an_empty_shop_downloads_headers_and_empty_lists(merchant: Merchant, owner: Any) -> None:
    archive = _download(_client(owner), merchant)
    assert json.loads(archive.read("catalog/stockmovement.json")) == []
    header = archive.read("catalog/stockmovement.csv").decode().splitlines()
    assert header[0].startswith("id,merchant_id,store_id,store_product_id,kind,quantity")
    assert len(header) == 1
    with merchant_context(merchant.pk):
        assert StoreProduct.objects.count() == 0
