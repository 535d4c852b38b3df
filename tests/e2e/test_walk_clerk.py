"""A clerk's walk through a German kiosk's sale in Chromium: a weighed cheese, a cola with its deposit and a
bottle machine's return slip, rolls by their PLU, a cola found by name, a neighbour's cake at an open price,
a discount refused over the limit and one given within it, paid in cash; the receipt and the orders list
tell it as it was."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from catalog import gtin
from catalog.models import Barcode, BarcodeKind, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import CounterPayment, Order, OrderLine
from checkout.services import shifts
from core.money import format_amount
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.e2e.test_shell import assert_no_horizontal_overflow, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _eur(minor: int) -> str:
    return format_amount(minor, "EUR")


def _stocked(merchant: Merchant, store: Store, units: int, **kwargs: Any) -> StoreProduct:
    item: StoreProduct = StoreProductFactory(store=store, **kwargs)
    stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=units)
    return item


def _on_hand(merchant: Merchant, *items: StoreProduct) -> list[int]:
    with merchant_context(merchant.pk):
        return [StoreProduct.objects.get(pk=item.pk).on_hand for item in items]


def test_a_clerk_sells_a_kiosks_goods_and_the_receipt_and_orders_tell_it_exactly(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, clerk: Any, tmp_path: Path
) -> None:
    cheese = _stocked(
        merchant,
        store,
        5000,
        price=1990,
        product__name="Bergkäse",
        product__tax_class="reduced",
        product__is_sold_by_weight=True,
    )
    Barcode.objects.create(
        wholesaler=cheese.product.wholesaler, product=cheese.product, code="2312345", kind=BarcodeKind.VARIABLE
    )
    cola = _stocked(
        merchant, store, 20, price=249, deposit=25, product__name="Quellwerk Cola", product__tax_class="standard"
    )
    rolls = _stocked(
        merchant, store, 100, product=None, local_name="Brötchen", local_tax_class="reduced", price=45, plu="12"
    )
    shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)
    label = gtin.variable_code("2312345", 250)  # 250 g at 19,90 €/kg: 4,98
    slip = gtin.make("98" + "00042" + "00050")  # two bottles back: 0,50
    shots = Path(os.environ.get("LINGSHOU_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)

    watched = open_page()
    page = watched.page
    log_in(watched, live_server.url, clerk)
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")
    page.goto(f"{live_server.url}/m/{merchant.slug}/counter/")
    scan = page.get_by_label("Scan a barcode, or type a PLU or a name and press Enter")
    expect(scan).to_be_focused()

    # The scanner: the weighed label, the cola, the return slip; then the rolls' PLU typed by hand.
    page.keyboard.type(f"{label}\n{cola.product.gtin[1:]}\n{slip}\n12\n", delay=0)  # type: ignore[union-attr]
    expect(page.locator("[data-line-kind='deposit_return']")).to_have_count(1)
    expect(page.locator(f"tr[data-product='{rolls.pk}']")).to_have_count(1)
    cheese_row = page.locator(f"tr[data-product='{cheese.pk}']")
    expect(cheese_row).to_contain_text("Bergkäse 250 g")
    expect(cheese_row.locator("[data-line-total]")).to_have_text(_eur(498))
    expect(page.locator("tr.line-deposit")).to_contain_text("Deposit Quellwerk Cola")

    # A second cola found by name (typo and all), picked from the results.
    scan.focus()
    page.keyboard.type("Quelwerk\n", delay=0)
    expect(page.get_by_role("heading", name="Products matching “Quelwerk”")).to_be_visible()
    page.get_by_role("button", name="Add Quellwerk Cola").click()
    cola_row = page.locator(f"tr[data-product='{cola.pk}']")
    expect(cola_row.locator("[data-counter-quantity]")).to_have_value("2")
    expect(page.locator("tr.line-deposit [data-line-total]")).to_have_text(_eur(50))

    # A neighbour's cake: no barcode, a price and the reduced rate.
    page.locator("summary", has_text="Item without a barcode").click()
    page.get_by_label("What it is (for the receipt)").fill("Kuchen vom Nachbarn")
    page.get_by_label("Price (EUR)").fill("3,50")
    page.get_by_label("VAT rate").select_option("reduced")
    page.get_by_role("button", name="Add item").click()
    expect(page.locator("tr[data-line-kind='open_price']")).to_contain_text("Kuchen vom Nachbarn")

    # 20 % off the colas is more than a clerk may give (10 %): refused, nothing changes.
    with merchant_context(merchant.pk):
        cola_line = OrderLine.objects.get(kind="product", store_product=cola)
    cola_row.locator("summary", has_text="Discount").click()
    page.locator(f"#discount-value-{cola_line.pk}").fill("20")
    page.locator(f"#discount-unit-{cola_line.pk}").select_option("percent")
    page.locator(f"#discount-reason-{cola_line.pk}").fill("Dented can")
    page.get_by_role("button", name="Give discount on Quellwerk Cola").click()
    expect(page.locator("[data-counter-error]")).to_have_text(
        "A discount of 20 % on 2 × Quellwerk Cola is more than the 10 % you may give: ask the owner or a manager."
    )
    watched.forget_expected_400("/discount/")
    expect(page.locator("[data-line-discount]")).to_have_count(0)
    # 10 % is within the limit: 0,50 off the 4,98.
    page.locator(f"#discount-value-{cola_line.pk}").fill("10")
    page.get_by_role("button", name="Give discount on Quellwerk Cola").click()
    expect(page.locator("[data-line-discount] [data-discount-amount]")).to_have_text(f"−{_eur(50)}")

    # Goods 4,98 + 4,98 + 0,45 + 3,50; less 0,50 discount; deposit 0,50 charged and 0,50 returned.
    expect(page.locator("#counter-goods")).to_have_text(_eur(1391))
    expect(page.locator("#counter-line-discounts")).to_have_text(f"−{_eur(50)}")
    expect(page.locator("#counter-deposit")).to_have_text(_eur(50))
    expect(page.locator("#counter-deposit-returned")).to_have_text(f"−{_eur(50)}")
    expect(page.locator("#counter-total")).to_have_text(_eur(1341))
    page.screenshot(path=shots / "walk-clerk-counter-desktop.png", full_page=True)

    # The same sale on a phone-sized screen: it must still fit.
    phone = open_page(phone=True, storage_state=page.context.storage_state())
    phone.page.goto(f"{live_server.url}/m/{merchant.slug}/counter/")
    expect(phone.page.locator("#counter-total")).to_have_text(_eur(1341))
    assert_no_horizontal_overflow(phone)
    phone.page.screenshot(path=shots / "walk-clerk-counter-phone.png", full_page=True)
    phone.assert_clean()

    cash = page.get_by_label("Cash given (EUR)")
    cash.fill("20")
    cash.press("Enter")
    expect(page.locator("#counter-change")).to_have_text(f"Change due: {_eur(2000 - 1341)}")
    with merchant_context(merchant.pk):
        payment = CounterPayment.objects.select_related("order").get()
        order = Order.objects.get(pk=payment.order_id)
    assert (payment.method, payment.amount, payment.change_given) == ("cash", 1341, 659)
    assert (order.total, order.deposit_total, order.discount_total) == (1341, 0, 50)
    # Grams of cheese, cans of cola, one roll; the cake and the slip move no stock.
    assert _on_hand(merchant, cheese, cola, rolls) == [5000 - 250, 18, 99]

    page.goto(f"{live_server.url}/m/{merchant.slug}/counter/sales/{order.pk}/receipt/")
    expect(page.locator("[data-receipt-line='deposit']")).to_have_text(
        f"Deposit Quellwerk Cola, 2 × {_eur(25)}{_eur(50)}"
    )
    expect(page.locator("[data-receipt-line='discount']")).to_have_text(f"Discount 10 %: Dented can−{_eur(50)}")
    expect(page.locator("[data-receipt-line='deposit_return']")).to_contain_text(f"−{_eur(50)}")
    expect(page.locator("#receipt-goods")).to_have_text(_eur(1391))
    expect(page.locator("#receipt-line-discounts")).to_have_text(f"−{_eur(50)}")
    expect(page.locator("#receipt-deposit")).to_have_text(_eur(50))
    expect(page.locator("#receipt-deposit-returned")).to_have_text(f"−{_eur(50)}")
    expect(page.locator("#receipt-total")).to_have_text(_eur(1341))
    expect(page.locator("#receipt-change")).to_have_text(_eur(659))
    page.screenshot(path=shots / "walk-clerk-receipt-desktop.png", full_page=True)

    page.goto(f"{live_server.url}/m/{merchant.slug}/orders/")
    row = page.locator("tr", has=page.get_by_role("link", name=order.number))
    expect(row.locator("[data-payment]")).to_have_text("Cash")
    expect(page.locator("#orders-paid-total")).to_have_text(_eur(1341))
    page.screenshot(path=shots / "walk-clerk-orders-desktop.png", full_page=True)
    watched.assert_clean()
