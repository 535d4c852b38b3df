"""Restocking for a real day, in Chromium: a delivery received on a phone files no claim by accident (the
ordered quantity is labelled, a line not counted is asked about with the claim it files, everything as
shipped takes one tap), and the review page on a desktop shows each line's cost, the total at cost and the
delivery fee a top-up saves. Screenshots go where LINGSHOU_SCREENSHOTS points (the test's folder otherwise)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from catalog.models import Product, StoreProduct
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import Claim, OrderState, PurchaseOrder, PurchaseOrderLine, StoreSupply
from ordering.services import drafting, editing, fulfilment
from tests.e2e.test_restock import _signed_in, assert_within_screen
from tests.e2e.test_shell import assert_no_horizontal_overflow
from tests.ordering.conftest import MONDAY_NOON, chips, cola, depot, item_for, selling, supply, wholesaler  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _shots(tmp_path: Path) -> Path:
    shots = Path(os.environ.get("LINGSHOU_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def _shipped(merchant: Merchant, items: list[tuple[StoreProduct, int]]) -> PurchaseOrder:
    """An order of these items and quantities that the depot shipped in full."""
    order = drafting.purchase_order_draft(store=items[0][0].store).order
    assert order is not None
    for item, quantity in items:
        editing.purchase_order_line_add(
            merchant=merchant, order_id=order.pk, store_product_id=item.pk, quantity=quantity
        )
    editing.purchase_order_submit(merchant=merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_confirm(merchant=merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_ship(merchant=merchant, order_id=order.pk, by=None)
    return order


@pytest.mark.usefixtures("supply")
def test_a_delivery_received_on_a_phone_asks_before_it_files_a_claim_for_a_line_not_counted(
    live_server: Any,
    open_page: Any,
    merchant: Merchant,
    store: Store,
    owner: Any,
    cola: Product,  # noqa: F811
    chips: Product,  # noqa: F811
    tmp_path: Path,
) -> None:
    cola_item, chips_item = item_for(store, cola), item_for(store, chips)
    order = _shipped(merchant, [(cola_item, 24), (chips_item, 12)])
    with merchant_context(merchant.pk):
        lines = {line.product_id: line for line in order.lines.all()}
    shots = _shots(tmp_path)

    phone = _signed_in(open_page, live_server.url, merchant, owner, phone=True)
    page = phone.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/restock/orders/{order.pk}/receive/")
    assert_no_horizontal_overflow(phone)
    # The phone shows no table head: each number says what it is.
    ordered = page.locator(f"#received-{lines[cola.pk].pk}").locator("xpath=ancestor::tr").locator("td").nth(1)
    expect(ordered).to_have_text("24")
    assert ordered.evaluate("cell => getComputedStyle(cell, '::before').content") == '"Ordered "'
    assert_within_screen(phone, "#all-shipped")
    page.screenshot(path=shots / "receive-phone.png", full_page=True)

    page.fill("#scan-code", cola.gtin)
    page.keyboard.press("Enter")
    expect(page.locator("#receive-scan-status")).to_have_text(f"{cola}: 1 counted.")
    page.fill(f"#received-{lines[cola.pk].pk}", "24")
    page.fill(f"#damaged-{lines[cola.pk].pk}", "2")
    page.get_by_role("button", name="Book into stock").click()
    panel = page.locator("#receive-confirm")
    expect(panel).to_contain_text("1 line not counted yet")
    expect(panel).to_contain_text("Knusper Chips (12 shipped)")
    claims = panel.locator(".claim-preview")
    expect(claims.nth(0)).to_have_text("Quellwerk Cola: 2 damaged")
    expect(claims.nth(1)).to_have_text(re.compile(r"Knusper Chips: 12 missing\s*Quellwerk Cola: 2 damaged"))
    expect(page.locator(f"#damaged-{lines[cola.pk].pk}")).to_have_value("2")  # nothing typed is lost
    assert_no_horizontal_overflow(phone)
    page.screenshot(path=shots / "receive-confirm-phone.png", full_page=True)
    with merchant_context(merchant.pk):
        assert PurchaseOrder.objects.get(pk=order.pk).state == OrderState.SHIPPED

    page.get_by_role("button", name="Book it as missing").click()
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/restock/orders/{order.pk}/")
    expect(page.locator("body")).to_contain_text("the differences went to the wholesaler as a claim")
    with merchant_context(merchant.pk):
        claim = Claim.objects.get(order=order)
        assert sorted((c.line.product.name, c.shipped, c.received, c.damaged) for c in claim.lines.all()) == [
            ("Knusper Chips", 12, 0, 0),
            ("Quellwerk Cola", 24, 24, 2),
        ]
        assert [StoreProduct.objects.get(pk=i.pk).on_hand for i in (cola_item, chips_item)] == [22, 0]

    # The next delivery came as shipped: one tap books it, and no claim goes out.
    second = _shipped(merchant, [(cola_item, 12)])
    page.goto(f"{live_server.url}/m/{merchant.slug}/restock/orders/{second.pk}/receive/")
    page.get_by_role("button", name="Everything arrived as shipped").click()
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/restock/orders/{second.pk}/")
    expect(page.locator("body")).to_contain_text(f"Order {second.number} received: everything is in stock.")
    with merchant_context(merchant.pk):
        assert not Claim.objects.filter(order=second).exists()
        assert StoreProduct.objects.get(pk=cola_item.pk).on_hand == 34
    phone.assert_clean()


def test_the_restock_review_page_shows_costs_and_the_fee_a_top_up_saves_on_a_desktop(
    live_server: Any,
    open_page: Any,
    merchant: Merchant,
    store: Store,
    owner: Any,
    supply: StoreSupply,  # noqa: F811
    cola: Product,  # noqa: F811
    chips: Product,  # noqa: F811
    tmp_path: Path,
) -> None:
    selling(store, cola, daily=[6, 5, 7, 6, 8, 4, 6] * 8, left=3, end=MONDAY_NOON)
    selling(store, chips, daily=[1, 0, 2, 1, 0, 1, 1] * 8, left=2, end=MONDAY_NOON)
    plain = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert plain is not None
    with merchant_context(merchant.pk):
        value = sum(line.value for line in plain.lines.all())
        StoreSupply.objects.filter(pk=supply.pk).update(free_delivery_threshold=value + 1000, delivery_fee=1490)
    order = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert order is not None
    with merchant_context(merchant.pk):
        lines = list(PurchaseOrderLine.objects.filter(order=order).order_by("product__name"))
        total = sum(line.value for line in lines)

    watched = _signed_in(open_page, live_server.url, merchant, owner)
    page = watched.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/restock/orders/{order.pk}/")
    expect(page.locator(".message-info").first).to_contain_text("saves the 14,90\xa0€ delivery fee")
    expect(page.locator(".message-info").first).to_contain_text("(25 % a year of its cost)")
    for line in lines:
        row = page.locator(f"#line-{line.pk}")
        euros = f"{line.value / 100:.2f}".replace(".", ",")
        expect(row.locator(".cell-cost")).to_contain_text(f"{euros}\xa0€")
        expect(row.locator(".cost-each")).to_have_text(f"{line.unit_cost / 100:.2f}\xa0€ each".replace(".", ","))
    expect(page.locator(".cell-why").filter(has_text="for free delivery").first).to_contain_text(
        "below the 14,90\xa0€ delivery fee it saves"
    )
    summary = page.locator("#order-summary")
    expect(summary).to_contain_text(f"Total at cost {total / 100:.2f}\xa0€".replace(".", ","))
    expect(summary).to_contain_text("Free delivery: saves the 14,90\xa0€ delivery fee")
    assert re.search(r"€[ \xa0]?\d", page.locator("main").inner_text()) is None  # no amount written "€26.40"
    page.screenshot(path=_shots(tmp_path) / "restock-review-desktop.png", full_page=True)

    # A case more: the line's cost and the total follow without a page load.
    cola_line = next(line for line in lines if line.product_id == cola.pk)
    page.get_by_role("button", name="One case more of Quellwerk Cola").click()
    more = (cola_line.quantity + 12) * cola_line.unit_cost
    expect(page.locator(f"#line-{cola_line.pk} .cell-cost")).to_contain_text(f"{more / 100:.2f}\xa0€".replace(".", ","))
    expect(summary).to_contain_text(f"{(total + 12 * cola_line.unit_cost) / 100:.2f}\xa0€".replace(".", ","))
    watched.assert_clean()


def test_the_catalog_says_how_many_products_there_are_and_pages_to_the_rest_in_chromium(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, owner: Any, tmp_path: Path
) -> None:
    from tests.catalog.factories import StoreProductFactory

    for n in range(1, 77):
        StoreProductFactory(store=store, product__name=f"Product {n:03d}")
    shots = _shots(tmp_path)
    for phone in (False, True):
        watched = _signed_in(open_page, live_server.url, merchant, owner, phone=phone)
        page = watched.page
        page.goto(f"{live_server.url}/m/{merchant.slug}/catalog/")
        expect(page.locator("#catalog-count")).to_have_text("76 products in Lindenstraße 5 · showing 1–50")
        expect(page.locator(".pager")).to_contain_text("Page 1 of 2 · 1–50 of 76")
        if phone:
            assert_no_horizontal_overflow(watched)
        size = "phone" if phone else "desktop"
        page.screenshot(path=shots / f"catalog-{size}.png")
        page.locator(".pager").scroll_into_view_if_needed()
        page.screenshot(path=shots / f"catalog-pager-{size}.png")
        page.get_by_role("link", name="Next").click()
        expect(page.locator("#catalog-count")).to_have_text("76 products in Lindenstraße 5 · showing 51–76")
        expect(page.locator("#results tbody tr")).to_have_count(26)
        expect(page.locator("#results tbody tr").last).to_contain_text("Product 076")
        # A search says how many match, and a search result pages like the rest.
        page.fill("#catalog-search", "product 07")
        expect(page.locator("#catalog-count")).to_contain_text("match “product 07”")
        watched.assert_clean()
