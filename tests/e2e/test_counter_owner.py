"""The owner's side of the counter in Chromium, on a desktop and on a phone: the rules at the till, a product's PLU
and deposit, and a cash sale refunded in cash out of the open shift."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from catalog.models import StoreProduct
from catalog.services.stock import stock_move
from checkout.models import Refund
from checkout.selectors.counter import shift_totals
from checkout.services import counter, shifts
from core.money import format_amount
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.e2e.test_shell import assert_no_horizontal_overflow, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_owner_sets_the_till_rules_a_plu_and_a_deposit_and_refunds_cash(
    live_server: Any,
    open_page: Any,
    merchant: Merchant,
    store: Store,
    owner: Any,
    clerk: Any,
    phone: bool,
    tmp_path: Path,
) -> None:
    cola: StoreProduct = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola")
    stock_move(merchant=merchant, store_product_id=cola.pk, kind="receipt", quantity=10)
    shift = shifts.shift_open(store=store, opened_by=clerk, opening_cash=5000)
    sale = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_lines_scan(order=sale, codes=[cola.product.gtin[1:]] * 2)  # type: ignore[union-attr]
    counter.counter_pay_cash(order=sale, tendered=1000, recorded_by=clerk)
    shots = Path(os.environ.get("LINGSHOU_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    size = "phone" if phone else "desktop"

    watched = open_page(phone=phone)
    page = watched.page
    log_in(watched, live_server.url, owner)
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")

    page.goto(f"{live_server.url}/m/{merchant.slug}/settings/payments/")
    page.get_by_label("Largest discount a clerk may give (%)").fill("15")
    page.get_by_label("Return slips start with").fill("99")
    page.get_by_role("button", name="Save").last.click()
    expect(page.get_by_text("Saved: the rules at the till.")).to_be_visible()
    merchant.refresh_from_db()
    assert (merchant.clerk_discount_limit, merchant.deposit_slip_prefix) == (15, "99")
    if phone:
        assert_no_horizontal_overflow(watched)
    page.screenshot(path=shots / f"counter-owner-till-settings-{size}.png", full_page=True)

    page.goto(f"{live_server.url}/m/{merchant.slug}/stock/{cola.pk}/")
    page.get_by_label("PLU").fill("4011")
    page.get_by_label("Deposit per unit (EUR)").fill("0,25")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#item-plu")).to_have_text("4011")
    expect(page.locator("#item-deposit")).to_have_text(format_amount(25, "EUR"))
    if phone:
        assert_no_horizontal_overflow(watched)
    page.screenshot(path=shots / f"counter-owner-product-{size}.png", full_page=True)

    page.goto(f"{live_server.url}/m/{merchant.slug}/orders/{sale.pk}/")
    expect(page.locator("#order-payment-method")).to_have_text("Cash")
    page.get_by_label("Amount (EUR)").fill("2,49")
    page.get_by_label("How").select_option("cash")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Refund").click()
    expect(page.get_by_text("Refunded 2,49")).to_be_visible()
    with merchant_context(merchant.pk):
        assert list(Refund.objects.values_list("method", "shift_id", "amount")) == [("cash", shift.pk, 249)]
    # 50,00 float + 10,00 taken − 5,02 change − 2,49 refunded.
    assert shift_totals(shift=shift).expected_cash == 5000 + 1000 - 502 - 249
    if phone:
        assert_no_horizontal_overflow(watched)
    page.screenshot(path=shots / f"counter-owner-order-refunded-{size}.png", full_page=True)
    watched.assert_clean()
