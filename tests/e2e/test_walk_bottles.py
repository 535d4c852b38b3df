"""A clerk in Chromium takes six cans back by hand (no slip from the machine), pays their deposit out of the
drawer, and the receipt and the shift's cash count tell it exactly."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from catalog.models import StoreProduct
from catalog.services.stock import stock_move
from checkout.models import CounterPayment
from checkout.services import shifts
from core.money import format_amount
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.e2e.test_shell import assert_no_horizontal_overflow, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _eur(minor: int) -> str:
    return format_amount(minor, "EUR")


def _stocked(merchant: Merchant, store: Store, **kwargs: Any) -> StoreProduct:
    item: StoreProduct = StoreProductFactory(store=store, **kwargs)
    stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=20)
    return item


def test_a_clerk_takes_bottles_back_by_hand_and_pays_the_deposit_out(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, clerk: Any, tmp_path: Path
) -> None:
    _stocked(merchant, store, price=249, deposit=25, product__name="Quellwerk Cola", product__tax_class="standard")
    _stocked(merchant, store, price=69, deposit=15, product__name="Quelle Still", product__tax_class="standard")
    shift = shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)
    shots = Path(os.environ.get("LINGSHOU_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)

    watched = open_page()
    page = watched.page
    log_in(watched, live_server.url, clerk)
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")
    page.goto(f"{live_server.url}/m/{merchant.slug}/counter/")
    page.locator("summary", has_text="Bottles returned").click()
    page.get_by_label("How many").fill("6")
    page.get_by_label("Deposit each").select_option(label=_eur(25))
    page.get_by_role("button", name="Take back").click()
    row = page.locator("[data-line-kind='deposit_return']")
    expect(row).to_contain_text(f"Deposit returned: 6 x {_eur(25)}")
    expect(row.locator("[data-line-total]")).to_have_text(f"−{_eur(150)}")
    expect(page.locator("#counter-total")).to_have_text(f"−{_eur(150)}")
    expect(page.locator("#counter-payout-amount")).to_have_text(_eur(150))
    expect(page.get_by_role("button", name="Paid by card on the terminal")).to_have_count(0)
    page.screenshot(path=shots / "bottles-counter-desktop.png", full_page=True)

    phone = open_page(phone=True, storage_state=page.context.storage_state())
    phone.page.goto(f"{live_server.url}/m/{merchant.slug}/counter/")
    expect(phone.page.locator("#counter-payout-amount")).to_have_text(_eur(150))
    assert_no_horizontal_overflow(phone)
    phone.page.screenshot(path=shots / "bottles-counter-phone-390.png", full_page=True)
    phone.page.set_viewport_size({"width": 360, "height": 780})
    assert_no_horizontal_overflow(phone)
    phone.page.screenshot(path=shots / "bottles-counter-phone-360.png", full_page=True)
    phone.assert_clean()

    page.get_by_role("button", name="Paid out in cash").click()
    expect(page.locator("#counter-paid-out")).to_have_text(f"Pay out {_eur(150)}")
    page.screenshot(path=shots / "bottles-paid-out-desktop.png", full_page=True)
    with merchant_context(merchant.pk):
        payment = CounterPayment.objects.get()
    assert (payment.method, payment.amount, payment.amount_tendered, payment.change_given) == ("cash", -150, 0, 150)

    page.goto(f"{live_server.url}/m/{merchant.slug}/counter/sales/{payment.order_id}/receipt/")
    expect(page.locator("#receipt-total")).to_have_text(f"−{_eur(150)}")
    expect(page.locator("#receipt-paid-out")).to_have_text(_eur(150))
    expect(page.locator("tr", has_text="Paid out")).to_have_count(1)
    page.screenshot(path=shots / "bottles-receipt-desktop.png", full_page=True)

    page.goto(f"{live_server.url}/m/{merchant.slug}/counter/shifts/{shift.pk}/")
    page.get_by_label("Cash counted in the drawer (EUR)").fill("98,50")
    page.get_by_role("button", name="Close shift").click()
    expect(page.locator("#shift-paid-out")).to_have_text(f"−{_eur(150)}")
    expect(page.locator("#shift-expected")).to_have_text(_eur(9850))
    expect(page.locator("#shift-difference")).to_contain_text("exact")
    expect(page.locator("#shift-paid-out-so-far")).to_have_text(f"{_eur(150)} (1 return)")
    page.screenshot(path=shots / "bottles-shift-desktop.png", full_page=True)
    watched.assert_clean()
