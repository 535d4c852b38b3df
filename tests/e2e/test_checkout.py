"""The shopper's whole path in a real phone browser: entrance QR page, scan by code, cart, pay with a
test card at localstripe, the webhook, the receipt with its exit pass, and the clerk checking it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from catalog.services.stock import stock_move
from checkout.models import Order
from checkout.services.exit_passes import exit_pass_token
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.checkout.conftest import localstripe_url, localstripe_webhook, stripe_settings  # noqa: F401 - fixtures
from tests.e2e.test_shell import assert_no_horizontal_overflow, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("localstripe_webhook")
def test_scan_pay_receipt_and_exit_pass_in_chromium(
    live_server: Any,
    open_page: Any,
    merchant: Merchant,
    store: Store,
    clerk: Any,
) -> None:
    item = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola", product__content_amount="0.5")
    stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=10)

    shopper = open_page(phone=True)
    page = shopper.page
    page.goto(f"{live_server.url}/s/{store.code}/")  # what the entrance poster's QR code opens
    page.get_by_label("Barcode number").fill(item.product.gtin[1:])
    page.get_by_role("button", name="Show price").click()
    expect(page.locator(".price")).to_have_text("2,49\xa0€")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(f"{live_server.url}/s/{store.code}/cart/")
    expect(page.get_by_text("Quellwerk Cola")).to_be_visible()
    page.get_by_label("E-mail for the receipt (optional)").fill("shopper@example.com")
    page.get_by_role("button", name="Pay 2,49\xa0€").click()
    expect(page.get_by_role("heading", name="Pay 2,49\xa0€")).to_be_visible()
    page.get_by_role("button", name="Visa that pays (4242)").click()
    # The page waits for the webhook (htmx polls) and then shows the receipt and the exit pass.
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=20_000)
    expect(page.locator(".exit-qr svg")).to_be_visible()
    assert_no_horizontal_overflow(shopper)
    shopper.assert_clean()

    with merchant_context(merchant.pk):
        order = Order.objects.select_related("store").get()
    assert order.status == "paid"
    token = exit_pass_token(order=order)
    assert token is not None

    counter = open_page()
    log_in(counter, live_server.url, clerk)
    counter.page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")
    counter.page.goto(f"{live_server.url}/m/{merchant.slug}/exit/")
    counter.page.get_by_label("Scan the shopper's exit pass").fill(token)
    counter.page.get_by_role("button", name="Check").click()
    expect(counter.page.locator(".pass-result h2")).to_have_text("Paid")
    counter.page.get_by_label("Scan the shopper's exit pass").fill(token)
    counter.page.get_by_role("button", name="Check").click()
    expect(counter.page.locator(".pass-result h2")).to_have_text("Already used")
    # Chromium logs the 409 of the second scan as a console error: the one expected.
    counter.console_errors[:] = [e for e in counter.console_errors if "409" not in e]
    counter.assert_clean()


@pytest.mark.usefixtures("localstripe_webhook")
def test_a_shopper_signs_in_by_email_link_and_finds_the_receipt_in_chromium(
    live_server: Any,
    open_page: Any,
    merchant: Merchant,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import re

    from django.core import mail

    from checkout import tasks

    # The sign-in e-mail task runs in the live server's process (real task code, no broker).
    monkeypatch.setattr(tasks.shopper_sign_in_send, "delay", lambda *args: tasks.shopper_sign_in_send.apply(args))
    item = StoreProductFactory(store=store, price=120, product__name="Quellwerk Wasser")
    stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=5)

    shopper = open_page(phone=True)
    page = shopper.page
    page.goto(f"{live_server.url}/s/{store.code}/")
    page.get_by_role("link", name="Sign in to keep receipts").click()
    page.get_by_label("E-mail address").fill("mia@example.com")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_text("We sent a sign-in link to")).to_be_visible()
    link = re.search(r"http://\S+(/shopper/sign-in/\S+/)", mail.outbox[-1].body)
    assert link is not None
    page.goto(f"{live_server.url}{link.group(1)}")
    page.get_by_role("button", name="Sign in to Lingshou").click()
    page.wait_for_url(f"{live_server.url}/s/{store.code}/")  # back where the shopper was

    page.get_by_label("Barcode number").fill(item.product.gtin[1:])
    page.get_by_role("button", name="Show price").click()
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("button", name="Pay 1,20\xa0€").click()
    page.get_by_role("button", name="Visa that pays (4242)").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=20_000)

    page.get_by_role("link", name="Your receipts").click()
    expect(page.get_by_role("heading", name="Your receipts")).to_be_visible()
    expect(page.get_by_role("cell", name="1,20\xa0€")).to_be_visible()
    page.get_by_role("link", name=re.compile(store.name)).click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert_no_horizontal_overflow(shopper)
    shopper.assert_clean()
