"""The counter in a real browser that loses its connection: sales for cash go on, wait on the till, and are booked once back."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from catalog import gtin
from catalog.models import Barcode, BarcodeKind, MovementKind, StockMovement, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import CounterPayment, OfflineSale, Order, OrderLine, OrderStatus
from checkout.selectors.counter import counter_sale_lines
from checkout.services import shifts
from core.money import format_amount
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.e2e.conftest import WatchedPage
from tests.e2e.test_shell import assert_no_horizontal_overflow, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Reads what the page keeps in IndexedDB (through the same database and store names the till uses).
STORED = """
async (key) => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("lingshou-counter");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  if (!db.objectStoreNames.contains("offline")) { db.close(); return null; }
  const rows = await new Promise((resolve, reject) => {
    const request = db.transaction("offline").objectStore("offline").getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const keys = await new Promise((resolve, reject) => {
    const request = db.transaction("offline").objectStore("offline").getAllKeys();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  db.close();
  return keys.map((k, i) => [k, rows[i]]).filter(([k]) => k.startsWith(key));
}
"""


def _product(merchant: Merchant, store: Store, name: str, price: int) -> StoreProduct:
    item: StoreProduct = StoreProductFactory(store=store, price=price, product__name=name)
    stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=50)
    return item


def _code(item: StoreProduct) -> str:
    return item.product.gtin[1:]  # type: ignore[union-attr]


def _eur(minor: int) -> str:
    return format_amount(minor, "EUR")


def _shots(tmp_path: Path) -> Path:
    # Kept where LINGSHOU_SCREENSHOTS points, to be looked at; in the test's own folder otherwise.
    return Path(os.environ.get("LINGSHOU_SCREENSHOTS", tmp_path))


def _till(watched: WatchedPage, base_url: str, merchant: Merchant, clerk: Any) -> None:
    """Signed in at the counter, with the store's price list kept in the browser."""
    page = watched.page
    log_in(watched, base_url, clerk)
    page.wait_for_url(f"{base_url}/m/{merchant.slug}/")
    with page.expect_response(lambda r: "/counter/prices/" in r.url and r.status == 200):
        page.goto(f"{base_url}/m/{merchant.slug}/counter/")
    page.wait_for_function(
        "async (key) => { const rows = await (" + STORED + ")(key); return rows && rows.length === 1; }",
        arg="prices:",
    )


def test_three_items_sold_for_cash_offline_are_booked_once_as_one_order_when_the_connection_is_back(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, clerk: Any, tmp_path: Path
) -> None:
    cola = _product(merchant, store, "Quellwerk Cola", 249)
    crisps = _product(merchant, store, "Knusper Chips", 129)
    water = _product(merchant, store, "Bergquelle Wasser", 89)
    shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)

    watched = open_page()
    page = watched.page
    _till(watched, live_server.url, merchant, clerk)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.url.endswith("/offline-sales/") else None)

    page.context.set_offline(True)
    banner = page.locator("[data-offline-banner]")
    expect(banner).to_contain_text("Offline · 0 sales waiting")
    expect(page.locator("#counter-sale")).to_be_hidden()
    expect(page.get_by_role("heading", name="Sale offline")).to_be_visible()

    scan_field = page.locator("#counter-scan")
    expect(scan_field).to_be_focused()
    page.keyboard.type(f"{_code(cola)}\n{_code(crisps)}\n{_code(water)}\n", delay=0)
    expect(page.locator("[data-offline-lines] tr")).to_have_count(3)
    expect(page.locator("#counter-offline-total")).to_have_text(_eur(249 + 129 + 89))
    expect(page.locator("#counter-offline-units")).to_have_text("3 items")
    expect(scan_field).to_be_focused()
    assert_no_horizontal_overflow(watched)
    page.screenshot(path=_shots(tmp_path) / "counter-offline-desktop.png", full_page=True)

    page.locator("#counter-offline-tendered").fill("5")
    page.locator("#counter-offline-tendered").press("Enter")
    expect(page.locator("#counter-offline-change")).to_have_text(f"Change due: {_eur(500 - 467)}")
    expect(banner).to_contain_text("Offline · 1 sale waiting")
    waiting = page.locator("[data-offline-item]")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("3 items · 4,67\xa0€ in cash")
    expect(waiting).to_contain_text("waiting to send")
    expect(waiting).to_contain_text("1 × Quellwerk Cola, 1 × Knusper Chips, 1 × Bergquelle Wasser")
    page.screenshot(path=_shots(tmp_path) / "counter-offline-waiting-desktop.png", full_page=True)
    stored = page.evaluate(STORED, "sale:")
    assert [row["status"] for _, row in stored] == ["waiting"]
    with merchant_context(merchant.pk):
        assert Order.objects.count() == 0  # nothing reached Lingshou yet
    assert sent == []

    page.context.set_offline(False)
    expect(banner).to_contain_text("Back online · 1 sale made offline booked", timeout=15_000)
    expect(page.locator("#counter-sale")).to_be_visible()
    expect(page.get_by_role("heading", name="New sale")).to_be_visible()
    expect(page.locator("[data-offline-queue]")).to_be_hidden()
    assert page.evaluate(STORED, "sale:") == []

    with merchant_context(merchant.pk):
        order = Order.objects.get()
        lines = sorted(OrderLine.objects.values_list("store_product_id", "quantity", "unit_price"))
        movements = sorted(
            StockMovement.objects.filter(kind=MovementKind.SALE).values_list(
                "store_product_id", "quantity", "reference"
            )
        )
        payment = CounterPayment.objects.get()
        offline = OfflineSale.objects.get()
    assert order.status == OrderStatus.PAID
    expect(banner).to_contain_text(f"Sales {order.number}.")
    assert lines == sorted([(cola.pk, 1, 249), (crisps.pk, 1, 129), (water.pk, 1, 89)])
    reference = f"checkout.order:{order.pk}"
    assert movements == sorted([(cola.pk, -1, reference), (crisps.pk, -1, reference), (water.pk, -1, reference)])
    assert (payment.method, payment.amount, payment.amount_tendered, payment.change_given) == ("cash", 467, 500, 33)
    assert len(sent) == 1
    assert json.loads(sent[0])["client_id"] == str(offline.client_id)

    # The same sale sent again (a retry whose first answer was lost) books nothing more.
    replay = page.evaluate(
        """async ([url, body]) => {
          const token = document.cookie.split("; ").find((c) => c.startsWith("csrftoken=")).slice(10);
          const response = await fetch(url, {method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRFToken": token}, body});
          return [response.status, await response.json()];
        }""",
        [f"{live_server.url}/m/{merchant.slug}/counter/shifts/{payment.shift_id}/offline-sales/", sent[0]],
    )
    assert replay[0] == 200
    assert (replay[1]["replayed"], replay[1]["order"]["id"]) == (True, order.pk)
    with merchant_context(merchant.pk):
        assert (Order.objects.count(), OrderLine.objects.count(), CounterPayment.objects.count()) == (1, 3, 1)
        assert StockMovement.objects.filter(kind=MovementKind.SALE).count() == 3
    watched.assert_clean()


def test_a_sale_whose_price_changed_offline_needs_attention_and_is_booked_at_the_current_price_on_a_phone(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, clerk: Any, tmp_path: Path
) -> None:
    cola = _product(merchant, store, "Quellwerk Cola", 249)
    crisps = _product(merchant, store, "Knusper Chips", 129)
    shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)

    watched = open_page(phone=True)
    page = watched.page
    _till(watched, live_server.url, merchant, clerk)
    page.context.set_offline(True)
    banner = page.locator("[data-offline-banner]")
    expect(banner).to_contain_text("Offline · 0 sales waiting")
    page.locator("#counter-scan").fill(_code(cola))
    page.locator("#counter-scan").press("Enter")
    page.locator("#counter-scan").fill(_code(cola))
    page.locator("#counter-scan").press("Enter")
    page.locator("#counter-scan").fill(_code(crisps))
    page.locator("#counter-scan").press("Enter")
    expect(page.locator("#counter-offline-total")).to_have_text(_eur(2 * 249 + 129))
    assert_no_horizontal_overflow(watched)
    page.screenshot(path=_shots(tmp_path) / "counter-offline-phone.png", full_page=True)
    page.get_by_role("button", name="10,00\xa0€", exact=True).click()
    expect(page.locator("#counter-offline-change")).to_have_text(f"Change due: {_eur(1000 - 627)}")
    expect(banner).to_contain_text("Offline · 1 sale waiting")
    page.screenshot(path=_shots(tmp_path) / "counter-offline-waiting-phone.png", full_page=True)

    # Meanwhile the owner raised the price of the crisps.
    with merchant_context(merchant.pk):
        StoreProduct.objects.filter(pk=crisps.pk).update(price=149)
    page.context.set_offline(False)
    item = page.locator("[data-offline-item]")
    expect(item).to_contain_text("needs attention", timeout=15_000)
    expect(item).to_contain_text("Knusper Chips now costs 1,49\xa0€, not 1,29\xa0€ as scanned.")
    expect(banner).to_contain_text("1 sale needs attention")
    with merchant_context(merchant.pk):
        assert Order.objects.count() == 0
    assert_no_horizontal_overflow(watched)
    page.screenshot(path=_shots(tmp_path) / "counter-offline-attention-phone.png", full_page=True)

    item.get_by_role("button", name="Book at 1,49\xa0€").click()
    expect(banner).to_contain_text("Back online · 1 sale made offline booked", timeout=15_000)
    with merchant_context(merchant.pk):
        order = Order.objects.get()
        payment = CounterPayment.objects.get()
    assert (order.total, payment.amount_tendered, payment.change_given) == (647, 1000, 353)
    # The Chromium console reports the refused send (409) once: the answer the page acted on.
    refused = [e for e in watched.console_errors if "status of 409" in e and "/offline-sales/" in e]
    assert len(refused) == 1, watched.console_errors
    watched.console_errors.remove(refused[0])
    watched.assert_clean()


def test_when_lingshou_stops_answering_the_sale_in_progress_is_carried_over_and_replaced_once_booked(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, clerk: Any
) -> None:
    """The browser still thinks it is online (the shop's router is up, its line is not): the counter's own requests fail."""
    cola = _product(merchant, store, "Quellwerk Cola", 249)
    crisps = _product(merchant, store, "Knusper Chips", 129)
    shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)

    watched = open_page()
    page = watched.page
    _till(watched, live_server.url, merchant, clerk)
    page.keyboard.type(f"{_code(cola)}\n", delay=0)
    expect(page.locator("#counter-total")).to_have_text(_eur(249))
    with merchant_context(merchant.pk):
        online = Order.objects.get()

    page.route("**/*", lambda route: route.abort())
    page.keyboard.type(f"{_code(crisps)}\n", delay=0)
    banner = page.locator("[data-offline-banner]")
    expect(banner).to_contain_text("Offline · 0 sales waiting")
    expect(page.locator("[data-offline-notes]")).to_contain_text(
        f"The items of sale {online.number} were carried over; that sale is cancelled when this one is booked."
    )
    expect(page.locator("[data-offline-lines] tr")).to_have_count(2)
    expect(page.locator("#counter-offline-total")).to_have_text(_eur(249 + 129))
    page.get_by_role("button", name="Exact 3,78\xa0€").click()
    expect(banner).to_contain_text("Offline · 1 sale waiting")

    page.unroute("**/*")
    expect(banner).to_contain_text("Back online · 1 sale made offline booked", timeout=20_000)
    with merchant_context(merchant.pk):
        booked = Order.objects.exclude(pk=online.pk).get()
        assert (Order.objects.get(pk=online.pk).status, booked.status) == (OrderStatus.CANCELLED, OrderStatus.PAID)
        assert sorted(OrderLine.objects.filter(order=booked).values_list("store_product_id", "quantity")) == sorted(
            [(cola.pk, 1), (crisps.pk, 1)]
        )
        sold = StockMovement.objects.filter(kind=MovementKind.SALE).values_list("store_product_id", "quantity")
        assert sorted(sold) == sorted([(cola.pk, -1), (crisps.pk, -1)])
    expect(page.get_by_role("heading", name="New sale")).to_be_visible()
    # The requests refused while "the line was down" are Chromium's console errors, nothing else.
    watched.console_errors = [e for e in watched.console_errors if "net::ERR_FAILED" not in e]
    watched.assert_clean()


def _drink(merchant: Merchant, store: Store, name: str, price: int, deposit: int) -> StoreProduct:
    item: StoreProduct = StoreProductFactory(
        store=store, price=price, deposit=deposit, product__name=name, product__tax_class="standard"
    )
    stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=50)
    return item


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_cola_with_its_deposit_sold_for_cash_offline_is_booked_once_with_its_deposit_line(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, clerk: Any, tmp_path: Path, phone: bool
) -> None:
    cola = _drink(merchant, store, "Quellwerk Dose Cola", 249, deposit=25)
    crisps = _product(merchant, store, "Knusper Chips", 129)
    shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)
    viewport = "phone" if phone else "desktop"

    watched = open_page(phone=phone)
    page = watched.page
    _till(watched, live_server.url, merchant, clerk)
    page.context.set_offline(True)
    banner = page.locator("[data-offline-banner]")
    expect(banner).to_contain_text("Offline · 0 sales waiting")
    for code in (_code(cola), _code(cola), _code(crisps)):
        page.locator("#counter-scan").fill(code)
        page.locator("#counter-scan").press("Enter")
    rows = page.locator("[data-offline-lines] tr")
    expect(rows).to_have_count(3)
    deposit = page.locator("#counter-offline-deposit-0")
    # Under its product, following its quantity: 2 × 0,25.
    expect(rows.nth(1)).to_have_id("counter-offline-deposit-0")
    expect(deposit.locator("td").nth(0)).to_have_text("Deposit Quellwerk Dose Cola")
    expect(deposit.locator("td").nth(1)).to_have_text("2")
    expect(deposit.locator("td").nth(3)).to_have_text(_eur(50))
    expect(page.locator("#counter-offline-deposit")).to_have_text(_eur(50))
    expect(page.locator("#counter-offline-total")).to_have_text(_eur(2 * 249 + 2 * 25 + 129))
    expect(page.locator("#counter-offline-units")).to_have_text("3 items")
    assert_no_horizontal_overflow(watched)
    page.screenshot(path=_shots(tmp_path) / f"counter-offline-deposit-{viewport}.png", full_page=True)
    if phone:
        # The narrowest phones a kiosk's clerk has: the deposit row must not push the Void buttons away.
        page.set_viewport_size({"width": 360, "height": 780})
        assert_no_horizontal_overflow(watched)
        page.screenshot(path=_shots(tmp_path) / "counter-offline-deposit-phone-360.png", full_page=True)

    # The clerk takes one can back off: its deposit goes with it.
    quantity = page.locator("#counter-offline-qty-0")
    quantity.fill("1")
    quantity.press("Enter")
    expect(deposit.locator("td").nth(1)).to_have_text("1")
    expect(page.locator("#counter-offline-total")).to_have_text(_eur(249 + 25 + 129))
    page.locator("#counter-offline-tendered").fill("5")
    page.locator("#counter-offline-tendered").press("Enter")
    expect(page.locator("#counter-offline-change")).to_have_text(f"Change due: {_eur(500 - 403)}")
    item = page.locator("[data-offline-item]")
    expect(item).to_contain_text("2 items · 4,03\xa0€ in cash")

    page.context.set_offline(False)
    expect(banner).to_contain_text("Back online · 1 sale made offline booked", timeout=15_000)
    with merchant_context(merchant.pk):
        order = Order.objects.get()
        lines = [
            (line.kind, line.store_product_id, line.name, line.quantity, line.unit_price, line.line_total)
            for line in counter_sale_lines(order=order)
        ]
        payment = CounterPayment.objects.get()
    assert order.status == OrderStatus.PAID
    assert lines == [
        ("product", cola.pk, "Quellwerk Dose Cola", 1, 249, 249),
        ("deposit", None, "Deposit Quellwerk Dose Cola", 1, 25, 25),
        ("product", crisps.pk, "Knusper Chips", 1, 129, 129),
    ]
    assert (order.total, order.deposit_total) == (403, 25)
    assert (payment.method, payment.amount, payment.amount_tendered, payment.change_given) == ("cash", 403, 500, 97)
    watched.assert_clean()


def test_a_sale_in_progress_with_a_deposit_is_carried_over_with_its_deposit_once(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, clerk: Any
) -> None:
    cola = _drink(merchant, store, "Quellwerk Dose Cola", 249, deposit=25)
    shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)

    watched = open_page()
    page = watched.page
    _till(watched, live_server.url, merchant, clerk)
    page.keyboard.type(f"{_code(cola)}\n", delay=0)
    expect(page.locator("#counter-total")).to_have_text(_eur(274))
    with merchant_context(merchant.pk):
        online = Order.objects.get()

    page.route("**/*", lambda route: route.abort())
    page.keyboard.type(f"{_code(cola)}\n", delay=0)
    banner = page.locator("[data-offline-banner]")
    expect(banner).to_contain_text("Offline · 0 sales waiting")
    expect(page.locator("[data-offline-notes]")).to_contain_text(f"The items of sale {online.number} were carried over")
    expect(page.locator("[data-offline-lines] tr")).to_have_count(2)
    expect(page.locator("#counter-offline-deposit-0 td").nth(1)).to_have_text("2")
    expect(page.locator("#counter-offline-total")).to_have_text(_eur(2 * 274))
    page.get_by_role("button", name="Exact 5,48\xa0€").click()
    expect(banner).to_contain_text("Offline · 1 sale waiting")

    page.unroute("**/*")
    expect(banner).to_contain_text("Back online · 1 sale made offline booked", timeout=20_000)
    with merchant_context(merchant.pk):
        booked = Order.objects.exclude(pk=online.pk).get()
        assert (Order.objects.get(pk=online.pk).status, booked.status) == (OrderStatus.CANCELLED, OrderStatus.PAID)
        assert [(line.kind, line.quantity) for line in counter_sale_lines(order=booked)] == [
            ("product", 2),
            ("deposit", 2),
        ]
        assert (booked.total, booked.deposit_total) == (548, 50)
    watched.console_errors = [e for e in watched.console_errors if "net::ERR_FAILED" not in e]
    watched.assert_clean()


def test_scale_labels_sold_offline_are_priced_from_the_label_and_booked_by_lingshous_reading(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, clerk: Any, tmp_path: Path
) -> None:
    cheese: StoreProduct = StoreProductFactory(
        store=store,
        price=1990,
        product__name="Bergkäse",
        product__tax_class="reduced",
        product__is_sold_by_weight=True,
        product__content_unit="kg",
    )
    Barcode.objects.create(
        wholesaler=cheese.product.wholesaler,  # type: ignore[union-attr]
        product=cheese.product,
        code="2312345",
        kind=BarcodeKind.VARIABLE,
    )
    cola = _drink(merchant, store, "Quellwerk Dose Cola", 249, deposit=25)
    shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)
    quarter = gtin.variable_code("2312345", 250)  # 250 g at 19,90 €/kg: 4,98
    half = gtin.variable_code("2312345", 500)  # 9,95

    watched = open_page()
    page = watched.page
    _till(watched, live_server.url, merchant, clerk)
    page.context.set_offline(True)
    banner = page.locator("[data-offline-banner]")
    expect(banner).to_contain_text("Offline · 0 sales waiting")
    for code in (quarter, half, quarter, _code(cola), gtin.variable_code("2312345", 0)):
        page.locator("#counter-scan").fill(code)
        page.locator("#counter-scan").press("Enter")
    expect(page.locator("#counter-scan-log")).to_contain_text(
        "Bergkäse: the scale label shows no weight (0 g). Weigh it again."
    )
    rows = page.locator("[data-offline-lines] tr")
    expect(rows).to_have_count(4)  # two labels, the cola and its deposit
    expect(rows.nth(0)).to_contain_text("Bergkäse 250 g")
    expect(rows.nth(0)).to_contain_text(quarter)
    expect(page.locator("#counter-offline-qty-0")).to_have_value("2")
    expect(rows.nth(1)).to_contain_text("Bergkäse 500 g")
    expect(page.locator("#counter-offline-total")).to_have_text(_eur(2 * 498 + 995 + 249 + 25))
    page.screenshot(path=_shots(tmp_path) / "counter-offline-scale-desktop.png", full_page=True)
    # Voiding the half kilo takes that label's line only.
    rows.nth(1).get_by_role("button", name="Void").click()
    expect(rows).to_have_count(3)
    expect(page.locator("#counter-offline-total")).to_have_text(_eur(2 * 498 + 249 + 25))
    page.get_by_role("button", name="Exact 12,70\xa0€").click()
    expect(banner).to_contain_text("Offline · 1 sale waiting")

    page.context.set_offline(False)
    expect(banner).to_contain_text("Back online · 1 sale made offline booked", timeout=15_000)
    with merchant_context(merchant.pk):
        order = Order.objects.get()
        lines = [
            (line.kind, line.store_product_id, line.code, line.quantity, line.unit_price, line.weight_grams)
            for line in counter_sale_lines(order=order)
        ]
    assert lines == [
        ("product", cheese.pk, quarter, 2, 498, 250),
        ("product", cola.pk, "", 1, 249, None),
        ("deposit", None, "", 1, 25, None),
    ]
    assert (order.status, order.total) == (OrderStatus.PAID, 1270)
    watched.assert_clean()
