"""Costs and margins on the catalog page in a real browser: a local product's cost edited inline, a refused
cost, and the page on a phone (screenshots of both sizes are written to the test's tmp_path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from catalog.models import StoreProduct
from catalog.services.assortment import local_product_create
from catalog.services.stock import stock_move
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.e2e.test_catalog import _signed_in
from tests.e2e.test_shell import assert_no_horizontal_overflow

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cola(merchant: Any, store: Store) -> Any:
    """A wholesaler's cola at 2,49 € (19 % VAT inside) that cost 0,56 € on average."""
    item: Any = StoreProductFactory(
        store=store, price=249, product__name="Quellwerk Cola", product__tax_class="standard"
    )
    stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=48)
    with merchant_context(merchant.pk):
        StoreProduct.objects.filter(pk=item.pk).update(average_cost=56)
    return item


@pytest.fixture
def bread(merchant: Any, store: Store) -> Any:
    """The baker's bread at 2,49 € (7 % VAT inside), cost not known yet."""
    return local_product_create(merchant=merchant, store=store, name="Bauernbrot", price=249)


def test_owner_sets_a_local_products_cost_inline_and_sees_its_margin(
    live_server: Any, open_page: Any, merchant: Any, owner: Any, cola: Any, bread: Any, tmp_path: Path
) -> None:
    watched = _signed_in(open_page, live_server.url, merchant, owner)
    page = watched.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/catalog/")
    cola_row, bread_row = page.locator(f"#item-{cola.pk}"), page.locator(f"#item-{bread.pk}")
    expect(cola_row).to_contain_text("0,56 €")
    expect(cola_row).to_contain_text("73,2 %")
    expect(bread_row).to_contain_text("— cost unknown")
    expect(page.get_by_label("Cost of Quellwerk Cola")).to_have_count(0)  # costed by its deliveries
    # On a desktop the whole row, cost and margin included, is on screen without scrolling the table.
    widths = page.evaluate(
        "(() => { const wrap = document.querySelector('#results .table-wrap');"
        " return {scroll: wrap.scrollWidth, client: wrap.clientWidth}; })()"
    )
    assert widths["scroll"] <= widths["client"], widths
    page.screenshot(path=str(tmp_path / "catalog-costs-desktop-before.png"), full_page=True)

    cost = page.get_by_label("Cost of Bauernbrot")
    cost.fill("1.20")
    with page.expect_response(lambda r: r.url.endswith(f"/catalog/{bread.pk}/") and r.request.method == "POST") as info:
        bread_row.get_by_role("button", name="Save").click()
    assert info.value.status == 200
    # 2,33 € without tax, less 1,20 €: 1,13 €, 48,5 %.
    expect(bread_row).to_contain_text("48,5 %")
    expect(bread_row).to_contain_text("1,13 €")
    expect(page.get_by_label("Cost of Bauernbrot")).to_have_value("1.20")
    page.screenshot(path=str(tmp_path / "catalog-costs-desktop.png"), full_page=True)

    page.get_by_label("Cost of Bauernbrot").fill("-1")
    with page.expect_response(lambda r: r.url.endswith(f"/catalog/{bread.pk}/") and r.request.method == "POST") as info:
        bread_row.get_by_role("button", name="Save").click()
    assert info.value.status == 400
    expect(bread_row.get_by_role("alert")).to_have_text("A cost cannot be negative.")
    expect(page.get_by_label("Cost of Bauernbrot")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Price of Bauernbrot")).not_to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(tmp_path / "catalog-costs-refused-desktop.png"), full_page=True)
    page.reload()
    expect(page.get_by_label("Cost of Bauernbrot")).to_have_value("1.20")
    watched.forget_expected_400(f"/catalog/{bread.pk}/")
    watched.assert_clean()


def test_the_catalog_with_costs_fits_a_phone(
    live_server: Any, open_page: Any, merchant: Any, owner: Any, cola: Any, bread: Any, tmp_path: Path
) -> None:
    watched = _signed_in(open_page, live_server.url, merchant, owner, phone=True)
    page = watched.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/catalog/")
    expect(page.locator(f"#item-{cola.pk}")).to_contain_text("73,2 %")
    expect(page.locator(f"#item-{bread.pk}")).to_contain_text("— cost unknown")
    assert_no_horizontal_overflow(watched)
    page.screenshot(path=str(tmp_path / "catalog-costs-phone.png"), full_page=True)
    page.goto(f"{live_server.url}/m/{merchant.slug}/stock/{cola.pk}/")
    expect(page.locator(".facts")).to_contain_text("73,2 %")
    assert_no_horizontal_overflow(watched)
    page.screenshot(path=str(tmp_path / "item-costs-phone.png"), full_page=True)
    watched.assert_clean()
