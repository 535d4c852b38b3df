"""The owner and a manager walk the dashboard in Chromium: store settings, the menu each sees, and the camera
review queue named by products with a bulk confirm. Screenshots go where LINGSHOU_SCREENSHOTS points."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from sensing.models import ReviewStatus, ShelfEvent, Slot
from tests.analytics.conftest import code, counter_sale, phone_order, stocked
from tests.e2e.test_shell import assert_no_horizontal_overflow, log_in
from tests.sensing import shelf
from tests.sensing.conftest import camera_make

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OWNER_MENU = ["Overview", "Catalog", "Stock", "Counter", "Exit passes", "Orders", "Cameras", "Restock", "Analytics",
              "Stores", "Devices", "Staff", "Payments", "Your data"]  # fmt: skip


def _shots(tmp_path: Path) -> Path:
    shots = Path(os.environ.get("LINGSHOU_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def _signed_in(open_page: Any, base_url: str, merchant: Merchant, user: Any) -> Any:
    watched = open_page()
    log_in(watched, base_url, user)
    watched.page.wait_for_url(f"{base_url}/m/{merchant.slug}/")
    return watched


def _menu(page: Any) -> list[str]:
    return [text.strip() for text in page.get_by_role("navigation", name="Dashboard").locator("a").all_inner_texts()]


def test_the_owner_edits_a_store_and_opens_the_new_store_form_on_phones(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, owner: Any, tmp_path: Path
) -> None:
    shots = _shots(tmp_path)
    watched = _signed_in(open_page, live_server.url, merchant, owner)
    page = watched.page
    assert _menu(page) == OWNER_MENU
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Stores").click()
    page.get_by_role("link", name=f"Settings of {store.name}").click()
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/stores/{store.pk}/")

    page.get_by_label("VAT id (USt-IdNr.)").fill("DE123456789")
    page.get_by_label("Friday").fill("07:00-13:00, 15:00-02:00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field-error")).to_contain_text("its check digit is wrong")
    expect(page.locator(".messages")).to_contain_text("Nothing was saved")
    watched.forget_expected_400(f"/stores/{store.pk}/")
    # The refused page keeps what was typed.
    expect(page.get_by_label("Friday")).to_have_value("07:00-13:00, 15:00-02:00")

    page.get_by_label("VAT id (USt-IdNr.)").fill("DE 298 765 435")
    page.get_by_label("Tax number (Steuernummer)").fill("29/123/45678")
    page.get_by_label("Receipt footer").fill("Danke für Ihren Einkauf!")
    page.get_by_label("Sunday").fill("")
    page.get_by_label("Share this store's sales rate and stock with the wholesaler").check()
    page.screenshot(path=shots / "settings14-store-settings-desktop.png", full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/stores/")
    expect(page.locator(".messages")).to_contain_text(f"{store.name} saved.")
    expect(page.locator("main table")).to_contain_text("DE298765435")
    page.screenshot(path=shots / "settings14-stores-desktop.png", full_page=True)
    with merchant_context(merchant.pk):
        saved = Store.objects.get(pk=store.pk)
    assert (saved.vat_id, saved.tax_number, saved.share_with_wholesaler) == ("DE298765435", "29/123/45678", True)
    assert (saved.opening_hours["fri"], saved.opening_hours["sun"]) == ([["07:00", "13:00"], ["15:00", "02:00"]], [])
    watched.assert_clean()

    # A sale at the counter and one on a shopper's phone: both receipts carry the tax ids and the footer.
    cola = stocked(store, 10, price=249, product__name="Quellwerk Cola")
    sale = counter_sale(store, owner, [code(cola)], tendered=500)
    page.goto(f"{live_server.url}/m/{merchant.slug}/counter/sales/{sale.pk}/receipt/")
    expect(page.locator(".receipt-head")).to_contain_text("VAT id DE298765435 · Tax number 29/123/45678")
    expect(page.locator(".receipt-foot")).to_have_text("Danke für Ihren Einkauf!")
    page.screenshot(path=shots / "settings14-counter-receipt-desktop.png", full_page=True)
    order = phone_order(store, [(cola, 2)])
    shopper = open_page(phone=True)
    shopper.page.set_viewport_size({"width": 360, "height": 780})
    shopper.page.goto(f"{live_server.url}/s/{store.code}/orders/{order.token}/")
    expect(shopper.page.locator(".receipt-head")).to_contain_text("VAT id DE298765435")
    expect(shopper.page.locator(".receipt-foot")).to_have_text("Danke für Ihren Einkauf!")
    assert_no_horizontal_overflow(shopper)
    shopper.page.screenshot(path=shots / "settings14-shopper-receipt-phone360.png", full_page=True)
    shopper.assert_clean()

    # Adding a store, on a phone of 360 and of 390 pixels.
    for width in (360, 390):
        phone = open_page(phone=True, storage_state=page.context.storage_state())
        phone.page.set_viewport_size({"width": width, "height": 780})
        phone.page.goto(f"{live_server.url}/m/{merchant.slug}/stores/new/")
        assert_no_horizontal_overflow(phone)
        phone.page.screenshot(path=shots / f"settings14-store-new-phone{width}.png", full_page=True)
        phone.assert_clean()


def _event(camera: Any, key: str, kind: str, quantity: int, seen: int) -> ShelfEvent:
    with merchant_context(camera.merchant_id):
        slot = Slot.objects.get(camera=camera, key=key)
        event = ShelfEvent(
            merchant_id=camera.merchant_id, camera=camera, slot=slot, sequence=5, kind=kind, quantity=quantity,
            confidence=0.45, occurred_at=timezone.now(), review=ReviewStatus.PENDING, times_seen=seen,
            last_seen_at=timezone.now() if seen > 1 else None,
        )  # fmt: skip
        crop = shelf.jpeg(shelf.shelf({"s1": 4, "s2": 4})[100:340, 140:620])
        event.before_crop.save("before.jpg", SimpleUploadedFile("b.jpg", crop), save=False)
        event.after_crop.save("after.jpg", SimpleUploadedFile("a.jpg", crop), save=False)
        event.save()
    return event


def test_a_manager_confirms_the_cameras_doubts_in_one_go(
    live_server: Any, open_page: Any, merchant: Merchant, store: Store, manager: Any, tmp_path: Path
) -> None:
    shots = _shots(tmp_path)
    registered = camera_make(merchant, store)
    names = {key: item.name for key, item in registered.products.items()}
    events = [
        _event(registered.camera, "s1", "take", 1, seen=3),
        _event(registered.camera, "s2", "take", 2, seen=1),
        _event(registered.camera, "s1", "put_back", 1, seen=1),
    ]
    watched = _signed_in(open_page, live_server.url, merchant, manager)
    page = watched.page
    # A manager runs the shop but not its payments or store settings.
    assert _menu(page) == [label for label in OWNER_MENU if label not in ("Payments", "Your data")]
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Stores").click()
    expect(page.get_by_role("link", name="Add a store")).to_have_count(0)
    expect(page.get_by_role("link", name=f"Settings of {store.name}")).to_have_count(0)

    page.goto(f"{live_server.url}/m/{merchant.slug}/cameras/review/")
    cards = page.locator(".event-card")
    expect(cards).to_have_count(3)
    expect(cards.nth(0).locator(".event-product")).to_have_text(names["s1"])
    expect(cards.nth(0)).to_contain_text("Seen 3 times")
    expect(cards.nth(1).locator(".event-product")).to_have_text(names["s2"])
    expect(page.locator("main")).not_to_contain_text("slot s1")
    page.wait_for_load_state("networkidle")  # the crops load lazily
    page.screenshot(path=shots / "settings14-review-queue-desktop.png", full_page=True)

    page.get_by_label("All").check()
    for event in events:
        expect(page.locator(f"#pick-{event.pk}")).to_be_checked()
    page.locator(f"#pick-{events[2].pk}").uncheck()
    expect(page.get_by_label("All")).not_to_be_checked()
    page.get_by_role("button", name="Confirm selected").click()
    expect(page.locator(".messages")).to_contain_text("Confirmed 2 events.")
    expect(page.locator(".event-card")).to_have_count(1)
    expect(page.locator(".event-card .event-what")).to_have_text("Put back ×1")
    page.screenshot(path=shots / "settings14-review-queue-confirmed-desktop.png", full_page=True)
    with merchant_context(merchant.pk):
        assert dict(ShelfEvent.objects.values_list("pk", "review")) == {
            events[0].pk: "confirmed",
            events[1].pk: "confirmed",
            events[2].pk: "pending",
        }
    watched.assert_clean()

    phone = open_page(phone=True, storage_state=page.context.storage_state())
    phone.page.goto(f"{live_server.url}/m/{merchant.slug}/cameras/review/")
    assert_no_horizontal_overflow(phone)
    phone.page.wait_for_load_state("networkidle")
    phone.page.screenshot(path=shots / "settings14-review-queue-phone390.png", full_page=True)
    phone.assert_clean()
