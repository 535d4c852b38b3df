"""Wholesaler staff in Chromium: signing in lands on the admin, and an order line shows the shop's sales rate and
stock only once the owner shares them. Screenshots go where LINGSHOU_SCREENSHOTS points."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from catalog.models import Product
from merchants.models import Merchant, Store
from merchants.tenancy import platform_access
from ordering.models import PurchaseOrderLine, StoreSupply
from ordering.services import drafting, editing
from tests.e2e.test_shell import log_in
from tests.ordering.conftest import (  # noqa: F401 - fixtures
    MONDAY_NOON,
    cola,
    depot,
    depot_staff_user,
    selling,
    supply,
    wholesaler,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_wholesaler_staff_land_on_the_admin_and_see_shared_figures_only(
    live_server: Any,
    open_page: Any,
    merchant: Merchant,
    store: Store,
    owner: Any,
    depot_staff_user: Any,  # noqa: F811
    supply: StoreSupply,  # noqa: F811
    cola: Product,  # noqa: F811
    tmp_path: Path,
) -> None:
    del supply  # asked for so that the store is supplied
    shots = Path(os.environ.get("LINGSHOU_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    selling(store, cola, daily=[6, 5, 7, 6, 8, 4, 6] * 8, left=3, end=MONDAY_NOON)
    order = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert order is not None
    editing.purchase_order_submit(merchant=merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    with platform_access(reason="test", actor="test"):
        explanation = PurchaseOrderLine.objects.get(order=order).explanation
    assert " a day, 3 on hand" in explanation

    staff = open_page()
    log_in(staff, live_server.url, depot_staff_user)
    staff.page.wait_for_url(f"{live_server.url}/admin/")
    expect(staff.page.locator("#site-name")).to_contain_text("Lingshou administration")
    staff.page.goto(f"{live_server.url}/admin/ordering/purchaseorder/{order.pk}/change/")
    line = staff.page.locator(".field-reason").first
    expect(line).to_have_text("not shared by the shop")
    expect(staff.page.locator(".field-stock_at_shop").first).to_have_text("not shared by the shop")
    expect(staff.page.locator("body")).not_to_contain_text(explanation)
    staff.page.screenshot(path=shots / "settings14-wholesaler-order-not-shared.png", full_page=True)

    # The owner shares the store's figures on its settings page.
    shop = open_page()
    log_in(shop, live_server.url, owner)
    shop.page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")
    shop.page.goto(f"{live_server.url}/m/{merchant.slug}/stores/{store.pk}/")
    shop.page.get_by_label("Share this store's sales rate and stock with the wholesaler").check()
    shop.page.get_by_role("button", name="Save").click()
    expect(shop.page.locator(".messages")).to_contain_text(f"{store.name} saved.")
    shop.assert_clean()

    staff.page.reload()
    expect(line).to_have_text(explanation)
    expect(staff.page.locator(".field-stock_at_shop").first).to_have_text("3")
    staff.page.screenshot(path=shots / "settings14-wholesaler-order-shared.png", full_page=True)
