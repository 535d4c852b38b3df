"""Catalog pages in a real browser: live search, inline price edits, stock filters, counts, price lookup."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from catalog.services.stock import stock_move
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.e2e.conftest import WatchedPage
from tests.e2e.test_shell import assert_no_horizontal_overflow, log_in
from tests.factories import StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cola(merchant: Any, store: Store) -> Any:
    """A 0.5 l cola at 2,49 € with ten on the shelf (so 4,98 €/l)."""
    item: Any = StoreProductFactory(
        store=store, price=249, product__name="Quellwerk Cola", product__content_amount="0.5"
    )
    stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=10)
    return item


@pytest.fixture
def chips(merchant: Any, store: Store) -> Any:
    """A second product that no cola search matches and that is never low on stock."""
    item: Any = StoreProductFactory(store=store, price=129, product__name="Knusper Chips", product__brand="Knusper")
    stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=30)
    return item


def _signed_in(open_page: Any, base_url: str, merchant: Any, user: Any, *, phone: bool = False) -> WatchedPage:
    watched = open_page(phone=phone)
    log_in(watched, base_url, user)
    watched.page.wait_for_url(f"{base_url}/m/{merchant.slug}/")
    return watched


def _mark_document(watched: WatchedPage) -> None:
    """Tag the current document; _same_document() is true until a full page load replaces it."""
    watched.page.evaluate("window.__sameDocument = true")


def _same_document(watched: WatchedPage) -> bool:
    return bool(watched.page.evaluate("window.__sameDocument === true"))


def test_owner_searches_with_a_typo_and_edits_a_price_inline(
    live_server: Any, open_page: Any, merchant: Any, owner: Any, cola: Any, chips: Any
) -> None:
    watched = _signed_in(open_page, live_server.url, merchant, owner)
    page = watched.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/catalog/")
    row = page.locator(f"#item-{cola.pk}")
    expect(page.locator(f"#item-{chips.pk}")).to_be_visible()
    _mark_document(watched)

    # Search as you type: htmx swaps #results and pushes the query into the address bar.
    page.get_by_label("Search by name, brand or barcode").fill("quelwerk")
    page.wait_for_url(re.compile(r"[?&]q=quelwerk(&|$)"))
    expect(page.locator(f"#item-{chips.pk}")).to_have_count(0)
    expect(row).to_contain_text("Quellwerk Cola")
    # Exactly one results block: the answer replaced the old block instead of landing inside it.
    expect(page.locator("#results")).to_have_count(1)
    assert _same_document(watched)

    # Inline edit: the row is replaced by the server's row (the old element is gone).
    row.evaluate("element => element.setAttribute('data-stale', '')")
    price = page.get_by_label("Price of Quellwerk Cola")
    expect(price).to_have_value("2.49")
    price.fill("2.79")
    with page.expect_response(lambda r: r.url.endswith(f"/catalog/{cola.pk}/") and r.request.method == "POST") as info:
        row.get_by_role("button", name="Save").click()
    assert info.value.status == 200
    expect(page.locator(f"#item-{cola.pk}[data-stale]")).to_have_count(0)
    expect(row).to_contain_text("5,58 €/l")
    expect(price).to_have_value("2.79")
    assert _same_document(watched)

    page.reload()
    expect(page.get_by_label("Price of Quellwerk Cola")).to_have_value("2.79")
    expect(row).to_contain_text("5,58 €/l")

    # A refused price: the 400 answer is the row with its message, swapped in like a 200.
    page.get_by_label("Price of Quellwerk Cola").fill("2.499")
    with page.expect_response(lambda r: r.url.endswith(f"/catalog/{cola.pk}/") and r.request.method == "POST") as info:
        row.get_by_role("button", name="Save").click()
    assert info.value.status == 400
    expect(row.get_by_role("alert")).to_have_text("EUR amounts have 2 decimals at most.")
    expect(page.get_by_label("Price of Quellwerk Cola")).to_have_attribute("aria-invalid", "true")
    # The message sits in the row; the page-wide "did not work" notice stays away.
    expect(page.locator(".messages")).to_have_count(0)
    page.reload()
    expect(page.get_by_label("Price of Quellwerk Cola")).to_have_value("2.79")
    watched.forget_expected_400(f"/catalog/{cola.pk}/")
    watched.assert_clean()


def test_clerk_sees_prices_as_text_without_edit_forms(
    live_server: Any, open_page: Any, merchant: Any, clerk: Any, cola: Any
) -> None:
    watched = _signed_in(open_page, live_server.url, merchant, clerk)
    page = watched.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/catalog/")

    row = page.locator(f"#item-{cola.pk}")
    expect(row).to_contain_text("Quellwerk Cola")
    expect(row.locator("td.num").first).to_have_text("2,49 €")
    expect(row).to_contain_text("4,98 €/l")
    expect(page.locator("#results form")).to_have_count(0)
    expect(page.locator("input[name=price]")).to_have_count(0)
    expect(page.get_by_role("link", name="Import CSV")).to_have_count(0)
    watched.assert_clean()


def test_owner_filters_stock_to_low_items(
    live_server: Any,
    open_page: Any,
    merchant: Any,
    owner: Any,
    cola: Any,
    chips: Any,  # noqa: ARG001 - fixture requested for the rows it creates
) -> None:
    # 10 on hand at a threshold of 12: low. The chips have no threshold.
    cola.low_stock_threshold = 12
    with merchant_context(merchant.pk):  # row-level security: tenant rows change in their context
        cola.save(update_fields=["low_stock_threshold"])
    watched = _signed_in(open_page, live_server.url, merchant, owner)
    page = watched.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/stock/")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Knusper Chips")).to_be_visible()
    expect(results.get_by_role("link", name="Quellwerk Cola")).to_be_visible()
    _mark_document(watched)

    page.get_by_label("low", exact=True).check()

    page.wait_for_url(re.compile(r"[?&]status=low(&|$)"))
    expect(results.get_by_role("link", name="Knusper Chips")).to_have_count(0)
    expect(results.get_by_role("link", name="Quellwerk Cola")).to_be_visible()
    expect(results.locator(".badge-warning")).to_have_text("low")
    expect(page.locator("#results")).to_have_count(1)
    assert _same_document(watched)
    watched.assert_clean()


def test_store_picker_switches_store_on_change(
    live_server: Any,
    open_page: Any,
    merchant: Any,
    owner: Any,
    store: Store,
    cola: Any,  # noqa: ARG001 - fixture requested for the rows it creates
) -> None:
    second: Any = StoreFactory(merchant=merchant, name="Bahnhof 2", code="BAHN2")
    watched = _signed_in(open_page, live_server.url, merchant, owner)
    page = watched.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/stock/?store={store.pk}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Stock of {store.name}")

    # No button to press: data-autosubmit sends the picker's form on change.
    page.get_by_label("Store", exact=True).select_option(label="Bahnhof 2")

    page.wait_for_url(re.compile(rf"[?&]store={second.pk}(&|$)"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Stock of Bahnhof 2")
    expect(page.locator("#results")).to_contain_text("Nothing to show.")
    watched.assert_clean()


def test_shopper_types_a_barcode_on_a_phone_and_sees_the_price(
    live_server: Any, open_page: Any, store: Store, cola: Any
) -> None:
    watched = open_page(phone=True)
    page = watched.page
    page.goto(f"{live_server.url}/s/{store.code}/")
    assert_no_horizontal_overflow(watched)

    page.get_by_label("Barcode number").fill(cola.product.gtin)
    page.get_by_role("button", name="Show price").click()

    page.wait_for_url(f"{live_server.url}/s/{store.code}/p/{cola.product.gtin}/")
    card = page.locator(".product-card")
    expect(card.get_by_role("heading", level=1)).to_have_text("Quellwerk Cola")
    expect(card.locator(".price")).to_have_text("2,49 €")
    expect(card).to_contain_text("4,98 €/l")
    expect(card).to_contain_text("In stock")
    assert_no_horizontal_overflow(watched)
    watched.assert_clean()


def test_owner_counts_a_shelf_and_books_the_difference(
    live_server: Any, open_page: Any, merchant: Any, owner: Any, cola: Any
) -> None:
    watched = _signed_in(open_page, live_server.url, merchant, owner)
    page = watched.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/stock/")
    page.get_by_role("link", name="Counts").click()
    page.wait_for_url(re.compile(r"/stock/counts/"))
    page.get_by_label("Shelf or note").fill("drinks fridge")
    page.get_by_role("button", name="Start a count").click()
    page.wait_for_url(re.compile(r"/stock/counts/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("drinks fridge")

    page.get_by_label("Barcode").fill(cola.product.gtin)
    page.get_by_label("On the shelf").fill("7")
    page.get_by_role("button", name="Save count").click()
    expect(page.locator(".message-success")).to_contain_text("Quellwerk Cola: 7 counted.")
    expect(page.locator("tbody tr").first).to_contain_text("Quellwerk Cola")

    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.get_by_role("button", name="Close and book differences").click()

    expect(page.locator(".message-success")).to_contain_text("differences booked")
    assert dialogs == ["Close the count? Each difference becomes a stock movement."]
    # Expected 10, counted 7: the closed count shows the difference and stock follows it.
    expect(page.locator("tbody tr").first).to_contain_text("-3")
    page.goto(f"{live_server.url}/m/{merchant.slug}/stock/{cola.pk}/")
    expect(page.locator(".facts .fact-main")).to_have_text("7")
    watched.assert_clean()
