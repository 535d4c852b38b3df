"""The wholesaler's catalog admin: scoped to its own products, import page, no inline script."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog import gtin
from catalog.models import Product
from demo.seed import accounts
from tests.catalog.factories import ProductFactory
from tests.factories import WholesalerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def depot_staff() -> Client:
    accounts.demo_seed()
    client = Client()
    client.force_login(get_user_model().objects.get(email=accounts.WHOLESALER_STAFF))
    return client


def test_wholesaler_staff_see_and_edit_only_their_products(depot_staff: Client) -> None:
    from merchants.models import Wholesaler

    mine = ProductFactory(wholesaler=Wholesaler.objects.get(slug=accounts.WHOLESALER_SLUG), name="Our cola")
    theirs = ProductFactory(wholesaler=WholesalerFactory(slug="rival", name="Rival"), name="Rival cola")
    listing = depot_staff.get("/admin/catalog/product/").content.decode()
    assert "Our cola" in listing
    assert "Rival cola" not in listing
    page = depot_staff.get(f"/admin/catalog/product/{mine.pk}/change/")
    assert page.status_code == 200
    # The admin must work under the Content-Security-Policy: no inline script.
    assert re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", page.content.decode()) == []
    assert depot_staff.get(f"/admin/catalog/product/{theirs.pk}/change/").status_code == 302


def test_the_admin_import_reports_row_column_reason_and_imports_nothing_on_error(depot_staff: Client) -> None:
    from merchants.models import Wholesaler

    wholesaler = Wholesaler.objects.get(slug=accounts.WHOLESALER_SLUG)
    good = gtin.make("400222200001")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    csv_text = f"gtin,name,suggested_retail_price\n{good},Fine,1.00\n{bad},Broken,1.00\n"
    response = depot_staff.post(
        "/admin/catalog/product/import/",
        {"wholesaler": wholesaler.pk, "file": SimpleUploadedFile("c.csv", csv_text.encode())},
    )
    assert response.status_code == 400
    assert "Wrong check digit" in response.content.decode()
    assert not Product.objects.filter(wholesaler=wholesaler).exists()
    ok = depot_staff.post(
        "/admin/catalog/product/import/",
        {
            "wholesaler": wholesaler.pk,
            "file": SimpleUploadedFile("c.csv", csv_text.split("\n", 2)[0].encode() + f"\n{good},Fine,1.00\n".encode()),
        },
    )
    assert ok.status_code == 302
    assert Product.objects.get(wholesaler=wholesaler).name == "Fine"
