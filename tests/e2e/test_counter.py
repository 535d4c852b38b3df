"""Counter mode in a real browser: a USB scanner's speed (keyboard + Enter), nothing dropped, focus kept."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from catalog.models import StoreProduct
from catalog.services.stock import stock_move
from checkout.models import CounterPayment, OrderLine
from checkout.services import shifts
from core.money import format_amount
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import BarcodeFactory, StoreProductFactory, next_gtin
from tests.e2e.conftest import WatchedPage
from tests.e2e.test_shell import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCANS = 40


def _product(merchant: Merchant, store: Store, name: str, price: int) -> StoreProduct:
    item: StoreProduct = StoreProductFactory(store=store, price=price, product__name=name)
    stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=500)
    return item


def _code(item: StoreProduct) -> str:
    return item.product.gtin[1:]  # type: ignore[union-attr]


def _focused_id(watched: WatchedPage) -> str:
    return str(watched.page.evaluate("document.activeElement && document.activeElement.id"))


def _eur(minor: int) -> str:
    return format_amount(minor, "EUR")


def test_forty_scans_at_scanner_speed_are_all_counted_and_the_scan_field_keeps_the_focus(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, clerk: Any
) -> None:
    products = [
        _product(merchant, store, "Quellwerk Cola", 249),
        _product(merchant, store, "Knusper Chips", 129),
        _product(merchant, store, "Bergquelle Wasser", 89),
        _product(merchant, store, "Nuss Riegel", 99),
    ]
    six_pack = BarcodeFactory(product=products[2].product, quantity=6)
    shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)
    codes = [_code(products[i % len(products)]) for i in range(SCANS)]

    watched = open_page()
    page = watched.page
    log_in(watched, live_server.url, clerk)
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")
    page.goto(f"{live_server.url}/m/{merchant.slug}/counter/")
    scan_field = page.get_by_label("Scan a barcode, or type a PLU or a name and press Enter")
    expect(scan_field).to_be_focused()  # autofocus: the scanner can start at once
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/scan/") else None)

    # The scanner's keystrokes are typed in one call, key by key and as fast as the browser takes
    # them (well above 20 scans/s on an idle machine). What is asserted is that nothing is lost
    # at that speed, not the speed itself: timing depends on the machine, correctness does not.
    posts.clear()
    page.keyboard.type("".join(code + "\n" for code in codes), delay=0)
    expect(page.locator("#counter-units")).to_have_text(str(SCANS), timeout=20_000)
    expect(page.locator("#counter-scan-status")).to_have_text("")
    assert _focused_id(watched) == "counter-scan"
    expect(scan_field).to_have_value("")
    # Queued scans travel together: fewer requests than scans.
    assert 1 <= len(posts) < SCANS

    each = SCANS // len(products)
    with merchant_context(merchant.pk):
        assert dict(OrderLine.objects.values_list("store_product_id", "quantity")) == {p.pk: each for p in products}
    expect(page.locator("#counter-total")).to_have_text(_eur(each * (249 + 129 + 89 + 99)))

    # An unknown barcode in a fast burst: told, and the scans after it still count.
    unknown = next_gtin()[1:]
    page.keyboard.type(f"{unknown}\n{six_pack.code}\n{_code(products[0])}\n", delay=0)
    expect(page.locator("#counter-scan-log")).to_contain_text(
        f"Not added: {unknown}. This shop does not sell a product with this barcode."
    )
    expect(page.locator("#counter-units")).to_have_text(str(SCANS + 7))
    assert _focused_id(watched) == "counter-scan"

    # Void a line with the mouse; the focus comes back to the scan field for the next item.
    page.locator(f"tr[data-product='{products[3].pk}']").get_by_role("button", name="Void Nuss Riegel").click()
    expect(page.locator(f"tr[data-product='{products[3].pk}']")).to_have_count(0)
    expect(page.locator("#counter-units")).to_have_text(str(SCANS + 7 - each))
    expect(scan_field).to_be_focused()

    due = each * (249 + 129 + 89) + 6 * 89 + 249
    expect(page.locator("#counter-total")).to_have_text(_eur(due))
    given = (due // 10000 + 1) * 10000
    page.get_by_label("Cash given (EUR)").fill(str(given // 100))
    page.get_by_label("Cash given (EUR)").press("Enter")
    expect(page.locator("#counter-change")).to_have_text(f"Change due: {_eur(given - due)}")
    expect(page.get_by_role("heading", name="New sale")).to_be_visible()
    expect(scan_field).to_be_focused()
    with merchant_context(merchant.pk):
        payment = CounterPayment.objects.get()
    assert (payment.amount, payment.amount_tendered, payment.change_given) == (due, given, given - due)
    watched.assert_clean()


def test_a_card_on_the_reader_while_stripe_is_silent_tells_the_clerk_in_the_sale(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, clerk: Any, settings: Any, monkeypatch: Any
) -> None:
    # htmx swaps the sale's own 503 partial (its message and the other ways to pay) instead of a generic error.
    from checkout import stripe_http
    from tests.checkout.test_stripe_silent import SilentStripe

    silent = SilentStripe()
    settings.STRIPE_API_BASE = silent.url
    settings.STRIPE_SECRET_KEY = "sk_test_lingshou"
    settings.STRIPE_TIMEOUT_SECONDS = 1.0
    monkeypatch.setattr(stripe_http.breaker, "_recovery_timeout", 1)
    with merchant_context(merchant.pk):
        Store.objects.filter(pk=store.pk).update(stripe_reader="tmr_till1")
    cola = _product(merchant, store, "Quellwerk Cola", 249)
    shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)
    try:
        watched = open_page()
        page = watched.page
        log_in(watched, live_server.url, clerk)
        page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")
        page.goto(f"{live_server.url}/m/{merchant.slug}/counter/")
        page.get_by_label("Scan a barcode, or type a PLU or a name and press Enter").fill(_code(cola))
        page.keyboard.press("Enter")
        expect(page.locator("#counter-units")).to_have_text("1")
        page.get_by_role("button", name="Card on the Stripe reader").click()
        expect(page.locator("#main")).to_contain_text("Payments are not answering; please try again in a minute.")
        expect(page.get_by_role("button", name="Card on the Stripe reader")).to_be_visible()  # the sale, still open
        expect(page.locator("#main")).not_to_contain_text("That did not work")
        with merchant_context(merchant.pk):
            assert CounterPayment.objects.count() == 0
        # Chromium logs the 503 as a console error: exactly that one.
        failed = [e for e in watched.console_errors if "status of 503" in e and "/pay/reader/" in e]
        assert len(failed) == 1, watched.console_errors
        watched.console_errors.remove(failed[0])
        watched.assert_clean()
    finally:
        silent.close()
