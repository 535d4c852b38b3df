"""The owner reviews a suggested order in a real browser: a case more or less, a typed quantity and
Remove change the line in place, and the order's value and terms follow without a page load."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Category, Product, StoreProduct
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import Claim, PurchaseOrderLine, StoreSupply
from ordering.services import drafting, editing, fulfilment
from tests.catalog.factories import BarcodeFactory
from tests.e2e.test_shell import assert_no_horizontal_overflow, log_in
from tests.ordering.conftest import chips, cola, depot, item_for, selling, supply, wholesaler  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _signed_in(open_page: Any, base_url: str, merchant: Merchant, owner: Any, *, phone: bool = False) -> Any:
    watched = open_page(phone=phone)
    log_in(watched, base_url, owner)
    watched.page.wait_for_url(f"{base_url}/m/{merchant.slug}/")
    return watched


def assert_within_screen(watched: Any, selector: str) -> None:
    """The element is on screen as the page is laid out, not inside a part that scrolls sideways."""
    box = watched.page.locator(selector).bounding_box()
    width = watched.page.evaluate("window.innerWidth")
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= width, (selector, box, width)


def test_the_owner_steps_types_and_removes_lines_of_a_suggested_order_in_chromium(
    live_server: Any,
    open_page: Any,
    merchant: Merchant,
    store: Store,
    owner: Any,
    supply: StoreSupply,  # noqa: F811
    cola: Product,  # noqa: F811
    chips: Product,  # noqa: F811
) -> None:
    selling(store, cola, daily=[6, 5, 7, 6, 8, 4, 6] * 4, left=3, end=timezone.now())
    selling(store, chips, daily=[2, 1, 3, 2] * 7, left=0, end=timezone.now())
    order = drafting.purchase_order_draft(store=store).order
    assert order is not None
    with merchant_context(merchant.pk):
        StoreSupply.objects.filter(pk=supply.pk).update(minimum_order_value=10000)
        PurchaseOrderLine.objects.filter(order=order, product=cola).update(quantity=24)  # 2 × 12 at 0,80 €
        PurchaseOrderLine.objects.filter(order=order, product=chips).update(quantity=6)  # 1 × 6 at 1,20 €
        cola_line = PurchaseOrderLine.objects.get(order=order, product=cola)
        chips_line = PurchaseOrderLine.objects.get(order=order, product=chips)

    watched = _signed_in(open_page, live_server.url, merchant, owner)
    page = watched.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/restock/orders/{order.pk}/")
    page.evaluate("window.__sameDocument = true")
    summary = page.locator("#order-summary")
    expect(summary).to_contain_text("26,40\xa0€")  # 24 × 0,80 + 6 × 1,20
    expect(summary).to_contain_text("73,60\xa0€ short of the 100,00\xa0€ minimum order")

    page.get_by_role("button", name="One case more of Quellwerk Cola").click()
    expect(page.locator(f"#qty-{cola_line.pk}")).to_have_value("36")
    expect(summary).to_contain_text("36,00\xa0€")
    expect(summary).to_contain_text("2 lines, 4 cases")

    # The swapped-in row is wired up by htmx once it has settled; Enter before that submits the plain form
    # (a page load, as without JavaScript), which a busy machine showed now and then.
    # A function, not an expression: Playwright evaluates an expression again on each poll, and from the second
    # poll on that runs under the page's CSP (no 'unsafe-eval'); a function is evaluated once.
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )
    page.fill(f"#qty-{cola_line.pk}", "120")
    page.keyboard.press("Enter")
    expect(summary).to_contain_text("103,20\xa0€")  # 120 × 0,80 + 7,20
    expect(summary).not_to_contain_text("short of")

    page.get_by_role("button", name="Remove Knusper Chips").click()
    expect(page.locator(f"#line-{chips_line.pk}")).to_have_count(0)
    expect(summary).to_contain_text("96,00\xa0€")
    expect(summary).to_contain_text("1 line, 10 cases")

    assert page.evaluate("window.__sameDocument === true")  # all of it without a page load
    with merchant_context(merchant.pk):
        assert list(PurchaseOrderLine.objects.filter(order=order).values_list("product_id", "quantity")) == [
            (cola.pk, 120)
        ]
    watched.assert_clean()

    # On a phone every line is a block that fits the screen, and its buttons still work.
    phone = _signed_in(open_page, live_server.url, merchant, owner, phone=True)
    phone.page.goto(f"{live_server.url}/m/{merchant.slug}/restock/orders/{order.pk}/")
    assert_no_horizontal_overflow(phone)
    assert_within_screen(phone, f"#line-{cola_line.pk} .btn-remove")
    phone.page.get_by_role("button", name="One case less of Quellwerk Cola").click()
    expect(phone.page.locator(f"#qty-{cola_line.pk}")).to_have_value("108")
    expect(phone.page.locator("#order-summary")).to_contain_text("86,40\xa0€")
    phone.assert_clean()


def _shipped(merchant: Merchant, item: StoreProduct, quantity: int) -> tuple[Any, PurchaseOrderLine]:
    """An order of ``quantity`` units of ``item`` that the depot shipped in full, ready to receive."""
    order = drafting.purchase_order_draft(store=item.store).order
    assert order is not None
    line = editing.purchase_order_line_add(
        merchant=merchant, order_id=order.pk, store_product_id=item.pk, quantity=quantity
    )
    editing.purchase_order_submit(merchant=merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_confirm(merchant=merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_ship(merchant=merchant, order_id=order.pk, by=None)
    return order, line


@pytest.mark.usefixtures("supply")
def test_a_delivery_is_received_on_a_phone_by_scanning_cases_in_chromium(
    live_server: Any,
    open_page: Any,
    merchant: Merchant,
    store: Store,
    owner: Any,
    cola: Product,  # noqa: F811
    chips: Product,  # noqa: F811
) -> None:
    item = item_for(store, cola)
    item_for(store, chips)
    case = BarcodeFactory(product=cola, kind="case", quantity=12)
    order, line = _shipped(merchant, item, 24)

    phone = _signed_in(open_page, live_server.url, merchant, owner, phone=True)
    page = phone.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/restock/orders/{order.pk}/receive/")
    assert_no_horizontal_overflow(phone)
    assert_within_screen(phone, f"#damaged-{line.pk}")  # no sideways scrolling of the table to reach it
    page.fill("#scan-code", chips.gtin)
    page.keyboard.press("Enter")
    expect(page.locator("#receive-scan-status")).to_have_text("Knusper Chips is not on this delivery.")
    phone.forget_expected_400(f"/restock/orders/{order.pk}/receive/scan/")
    expect(page.locator("#scan-code")).to_have_value("")
    page.fill("#scan-code", case.code)
    page.keyboard.press("Enter")
    expect(page.locator("#receive-scan-status")).to_have_text(f"{cola}: 12 counted.")
    # Then the scanner reads the second case, the damaged count is typed and Book pressed at once:
    # no scan waits for the one before, nothing typed is overwritten, Book waits for the count.
    page.fill("#scan-code", case.code)
    page.keyboard.press("Enter")
    page.fill(f"#damaged-{line.pk}", "2")
    page.get_by_role("button", name="Book into stock").click()
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/restock/orders/{order.pk}/")
    expect(page.locator("body")).to_contain_text("the differences went to the wholesaler as a claim")

    with merchant_context(merchant.pk):
        assert StoreProduct.objects.get(pk=item.pk).on_hand == 22  # the damaged two are not stock
        claim = Claim.objects.get(order=order)
        assert [(c.shipped, c.received, c.damaged) for c in claim.lines.all()] == [(24, 24, 2)]
    phone.assert_clean()


def test_the_owner_opts_in_to_auto_submit_and_raises_a_categorys_level_on_a_phone(
    live_server: Any,
    open_page: Any,
    merchant: Merchant,
    store: Store,
    owner: Any,
    supply: StoreSupply,  # noqa: F811
    cola: Product,  # noqa: F811
) -> None:
    drinks, _ = Category.objects.get_or_create(wholesaler=cola.wholesaler, path="drinks", defaults={"name": "Drinks"})
    watched = _signed_in(open_page, live_server.url, merchant, owner, phone=True)
    page = watched.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/restock/")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Submit the suggested order without review").check()
    page.get_by_label("Drinks").fill("98.5")
    assert_no_horizontal_overflow(watched)
    assert_within_screen(watched, "button:has-text('Save')")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Saved how Lingshou restocks {store.name}.")).to_be_visible()
    expect(page.get_by_label("Drinks")).to_have_value("98.5")
    with merchant_context(merchant.pk):
        saved = StoreSupply.objects.get(pk=supply.pk)
    assert saved.is_auto_submit
    assert saved.service_levels == {drinks.path: 0.985}
    watched.assert_clean()


@pytest.mark.usefixtures("supply")
def test_a_scan_made_without_a_connection_is_counted_once_it_is_back(
    live_server: Any,
    open_page: Any,
    merchant: Merchant,
    store: Store,
    owner: Any,
    cola: Product,  # noqa: F811
) -> None:
    order, line = _shipped(merchant, item_for(store, cola), 12)

    phone = _signed_in(open_page, live_server.url, merchant, owner, phone=True)
    page = phone.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/restock/orders/{order.pk}/receive/")
    page.context.set_offline(True)
    for _ in range(2):
        page.fill("#scan-code", cola.gtin)
        page.keyboard.press("Enter")
    expect(page.locator("#receive-scan-status")).to_have_text("No connection: 2 scans waiting…")
    expect(page.locator(f"#received-{line.pk}")).to_have_value("")
    page.context.set_offline(False)
    expect(page.locator(f"#received-{line.pk}")).to_have_value("2")
    expect(page.locator("#receive-scan-status")).to_have_text(f"{cola}: 2 counted.")
    # The failed attempts are Chromium's console errors, not the page's.
    phone.console_errors = [e for e in phone.console_errors if "ERR_INTERNET_DISCONNECTED" not in e]
    phone.assert_clean()
