"""A shopper's walk on a phone in Chromium, without a single barcode: the store page, a search by name with a
typo, the product card, the cart's stepper, the pay page's totals with tax, a test card at localstripe, the
receipt with its exit pass; then the clerk's exit check showing paid, already used and not valid.

Each page is also laid out at 360 px, the narrowest phone, where nothing may overflow. Screenshots
(phone 360 px and desktop) go where LINGSHOU_SCREENSHOTS points, else to the test's own folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from catalog import gtin
from catalog.models import Barcode, BarcodeKind
from catalog.services.stock import stock_move
from checkout.models import Order
from checkout.services.exit_passes import exit_pass_token
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.checkout.conftest import localstripe_url, localstripe_webhook, stripe_settings  # noqa: F401 - fixtures
from tests.e2e.conftest import WatchedPage
from tests.e2e.test_shell import assert_no_horizontal_overflow, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NARROW_PHONE = {"width": 360, "height": 780}


class Shots:
    """Checks each page at 360 px and keeps its pictures: phone (360 px) and desktop (same session)."""

    def __init__(self, folder: Path, open_page: Any) -> None:
        self.folder = folder
        self.open_page = open_page

    def take(self, watched: WatchedPage, name: str, *, desktop: bool = True) -> None:
        page = watched.page
        size = page.viewport_size
        page.set_viewport_size(NARROW_PHONE)
        assert_no_horizontal_overflow(watched)
        page.screenshot(path=str(self.folder / f"{name}-phone360.png"), full_page=True)
        page.set_viewport_size(size)
        if desktop:
            # The same page in a desktop browser with the shopper's cookies (a GET changes nothing).
            wide = self.open_page(storage_state=page.context.storage_state())
            wide.page.goto(page.url)
            wide.page.screenshot(path=str(self.folder / f"{name}-desktop.png"), full_page=True)
            wide.assert_clean()


@pytest.fixture
def shots(tmp_path: Path, open_page: Any) -> Shots:
    folder = Path(os.environ.get("LINGSHOU_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return Shots(folder, open_page)


def _background(locator: Any) -> str:
    return str(locator.evaluate("element => getComputedStyle(element).backgroundColor"))


def _totals(page: Any) -> list[str]:
    # Runs of ordinary white space as one; the no-break space inside an amount stays.
    return [re.sub(r"[ \t\r\n]+", " ", row).strip() for row in page.locator(".totals-row").all_inner_texts()]


@pytest.mark.usefixtures("localstripe_webhook")
def test_a_shopper_finds_pays_and_leaves_and_the_clerk_tells_the_three_states_apart(
    live_server: Any,
    open_page: Any,
    shots: Shots,
    merchant: Merchant,
    store: Store,
    clerk: Any,
) -> None:
    milk = StoreProductFactory(
        store=store,
        price=189,
        product__name="Almliebe Vanillemilch",
        product__brand="Almliebe",
        product__tax_class="reduced",
    )
    cola = StoreProductFactory(
        store=store,
        price=249,
        product__name="Quellwerk Cola",
        product__brand="Quellwerk",
        product__tax_class="standard",
    )
    for item in (milk, cola):
        stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=10)

    shopper = open_page(phone=True)
    page = shopper.page
    page.goto(f"{live_server.url}/s/{store.code}/")
    shots.take(shopper, "store", desktop=False)

    # No barcode at hand: the name, misspelt.
    page.get_by_label("Search by name").fill("vanilemilch")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="1 match for “vanilemilch”")).to_be_visible()
    shots.take(shopper, "search")
    page.get_by_role("link", name=re.compile("Almliebe Vanillemilch")).click()
    expect(page.locator(".product-card .price")).to_have_text("1,89\xa0€")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(f"{live_server.url}/s/{store.code}/cart/")

    # The stepper: htmx swaps the cart and its totals, and the "+" keeps the focus for the next tap.
    page.get_by_role("button", name="One more Almliebe Vanillemilch").click()
    expect(page.locator(".stepper-value")).to_have_text("2")
    expect(page.get_by_role("button", name="One more Almliebe Vanillemilch")).to_be_focused()
    expect(page.get_by_role("button", name="Pay 3,78\xa0€")).to_be_visible()
    assert page.url == f"{live_server.url}/s/{store.code}/cart/"  # swapped in place, no reload

    # A name typed into the barcode field searches too.
    page.get_by_role("link", name="Scan or search for more").click()
    page.get_by_label("Barcode number").fill("quelwerk")
    page.get_by_role("button", name="Show price").click()
    page.get_by_role("link", name=re.compile("Quellwerk Cola")).click()
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(f"{live_server.url}/s/{store.code}/cart/")
    assert _totals(page) == [
        "Subtotal · 3 items 6,27\xa0€",
        "incl. 19 % VAT 0,40\xa0€",
        "incl. 7 % VAT 0,25\xa0€",
        "Total 6,27\xa0€",
    ]
    shots.take(shopper, "cart")

    page.get_by_label("E-mail for the receipt (optional)").fill("mia@example.com")
    page.get_by_role("button", name="Pay 6,27\xa0€").click()
    expect(page.get_by_role("heading", name="Pay 6,27\xa0€")).to_be_visible()
    assert _totals(page) == [
        "Subtotal · 3 items 6,27\xa0€",
        "incl. 19 % VAT 0,40\xa0€",
        "incl. 7 % VAT 0,25\xa0€",
        "Total 6,27\xa0€",
    ]
    shots.take(shopper, "pay")
    page.get_by_role("button", name="Visa that pays (4242)").click()

    # The webhook marks the order paid; the page polls and shows the receipt and the exit pass.
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=20_000)
    expect(page.locator(".exit-qr svg")).to_be_visible()
    expect(page.locator(".exit-pass-count")).to_contain_text("3 items")
    assert _totals(page)[-1] == "Total 6,27\xa0€"
    shots.take(shopper, "receipt")
    shopper.assert_clean()

    with merchant_context(merchant.pk):
        order = Order.objects.select_related("store").get()
    assert (order.status, order.total, order.email) == ("paid", 627, "mia@example.com")
    token = exit_pass_token(order=order)
    assert token is not None

    door = open_page(phone=True)
    log_in(door, live_server.url, clerk)
    door.page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")
    door.page.goto(f"{live_server.url}/m/{merchant.slug}/exit/")
    field = door.page.get_by_label("Scan the shopper's exit pass")
    result = door.page.locator(".pass-result")

    field.fill(token)
    door.page.get_by_role("button", name="Check", exact=True).click()
    expect(result.get_by_role("heading")).to_have_text("Paid")
    expect(result).to_have_class(re.compile(r"\bpass-ok\b"))
    expect(result.locator(".pass-items-list li")).to_have_text(["2 × Almliebe Vanillemilch", "1 × Quellwerk Cola"])
    expect(result.locator(".pass-items-count")).to_contain_text("3 items in the bag")
    colours = [_background(result)]
    shots.take(door, "exit-paid", desktop=False)

    field.fill(token)
    door.page.get_by_role("button", name="Check", exact=True).click()
    expect(result.get_by_role("heading")).to_have_text("Already used")
    expect(result).to_have_class(re.compile(r"\bpass-used\b"))
    expect(result.locator(".pass-items-list")).to_have_count(0)
    colours.append(_background(result))
    shots.take(door, "exit-used", desktop=False)

    header, claims, signature = token.split(".")
    field.fill(f"{header}.{claims[:-2]}AA.{signature}")  # altered: the signature no longer matches
    door.page.get_by_role("button", name="Check", exact=True).click()
    expect(result.get_by_role("heading")).to_have_text("Not valid")
    expect(result).to_have_class(re.compile(r"\bpass-invalid\b"))
    expect(result).to_contain_text("This is not a valid exit pass.")
    colours.append(_background(result))
    shots.take(door, "exit-invalid", desktop=False)

    # Green, amber, red (lingshou.css: --success, the amber of .pass-used, --danger).
    assert colours == ["rgb(23, 117, 58)", "rgb(180, 83, 9)", "rgb(192, 38, 45)"]
    # Chromium logs each 409 (used, not valid) as a console error: the two expected.
    assert len([e for e in door.console_errors if "409" in e]) == 2
    door.console_errors[:] = [e for e in door.console_errors if "409" not in e]
    door.assert_clean()


@pytest.mark.usefixtures("localstripe_webhook")
def test_a_shopper_buys_a_weighed_cheese_and_a_bottle_with_its_deposit_on_the_stores_clock(
    live_server: Any, open_page: Any, shots: Shots, merchant: Merchant, store: Store
) -> None:
    cheese = StoreProductFactory(
        store=store, price=1990, product__name="Bergkäse", product__tax_class="reduced", product__is_sold_by_weight=True
    )  # 19,90 € per kg
    Barcode.objects.create(
        wholesaler=cheese.product.wholesaler, product=cheese.product, code="2312345", kind=BarcodeKind.VARIABLE
    )
    cola = StoreProductFactory(
        store=store, price=249, deposit=25, product__name="Quellwerk Cola", product__tax_class="standard"
    )
    stock_move(merchant=merchant, store_product_id=cheese.pk, kind="receipt", quantity=1000)
    stock_move(merchant=merchant, store_product_id=cola.pk, kind="receipt", quantity=10)
    label = gtin.variable_code("2312345", 250)  # 250 g at 19,90 €/kg

    shopper = open_page(phone=True)
    page = shopper.page
    page.goto(f"{live_server.url}/s/{store.code}/p/{label}/")
    expect(page.locator("main")).to_contain_text("250 g, as weighed")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(f"{live_server.url}/s/{store.code}/cart/")
    page.goto(f"{live_server.url}/s/{store.code}/p/{cola.lookup_code}/")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(f"{live_server.url}/s/{store.code}/cart/")
    expect(page.locator(".order-line").first).to_contain_text("4,98\xa0€ as weighed · 250 g")
    expect(page.locator(".order-line").nth(1)).to_contain_text("plus 0,25\xa0€ deposit")
    # 4,98 + 2,49 + 0,25 deposit; the deposit is taxed at the cola's 19 %.
    assert _totals(page) == [
        "Subtotal · 2 items 7,47\xa0€",
        "Deposit 0,25\xa0€",
        "incl. 19 % VAT 0,44\xa0€",
        "incl. 7 % VAT 0,33\xa0€",
        "Total 7,72\xa0€",
    ]
    shots.take(shopper, "cart-weighed-deposit")
    page.get_by_role("button", name="Pay 7,72\xa0€").click()
    page.get_by_role("button", name="Visa that pays (4242)").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=20_000)
    assert _totals(page)[-1] == "Total 7,72\xa0€"

    with merchant_context(merchant.pk):
        order = Order.objects.get()
        weighed = order.lines.get(store_product=cheese)
    assert (order.total, order.deposit_total, weighed.weight_grams, weighed.line_total) == (772, 25, 250, 498)
    # The receipt's time is Berlin's, not the server's UTC.
    local = order.paid_at.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:%M")
    assert store.timezone == "Europe/Berlin"
    expect(page.locator(".receipt-head")).to_contain_text(local)
    shots.take(shopper, "receipt-weighed-deposit")
    shopper.assert_clean()
