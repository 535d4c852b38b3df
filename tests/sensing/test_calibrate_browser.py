"""The calibration page in a real Chromium: upload a reference, draw a slot, link a product, save."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from sensing.models import Camera, Slot
from tests.e2e.conftest import CHROMIUM, browser, open_page  # noqa: F401 - fixtures
from tests.e2e.test_shell import log_in
from tests.sensing import shelf
from tests.sensing.conftest import camera_make

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Debian's Chromium at {CHROMIUM}"),
]


def test_an_owner_draws_a_slot_on_the_reference_and_saves_it(
    live_server: Any,
    open_page: Any,  # noqa: F811 - the e2e fixture imported above
    merchant: Merchant,
    store: Store,
    owner: Any,
    tmp_path: Path,
) -> None:
    bare = camera_make(merchant, store, name="Fridge", calibrate=False)
    product = bare.products["s1"]
    reference = tmp_path / "reference.jpg"
    reference.write_bytes(shelf.jpeg(shelf.shelf({"s1": 4, "s2": 4})))
    watched = open_page()
    log_in(watched, live_server.url, owner)
    watched.page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/")
    page = watched.page
    page.goto(f"{live_server.url}/m/{merchant.slug}/cameras/{bare.camera.pk}/calibrate/")
    page.set_input_files("input[name=reference]", str(reference))
    page.wait_for_function("() => document.getElementById('calibrate-image').getAttribute('href')")
    svg = page.locator("#calibrate-svg")
    box = svg.bounding_box()
    assert box is not None
    scale = box["width"] / shelf.WIDTH  # the picture is shown smaller than its 1280 pixels
    corners = [(150, 110), (610, 110), (610, 330), (150, 330)]
    for x, y in corners:
        page.mouse.click(box["x"] + x * scale, box["y"] + y * scale)
    page.click("#calibrate-finish")
    page.select_option(".slot-product", str(product.pk))
    page.fill(".slot-key", "cola")
    page.fill(".slot-capacity", "4")
    page.fill(".slot-units", "3")
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(f"{live_server.url}/m/{merchant.slug}/cameras/{bare.camera.pk}/")
    assert page.locator("svg.slot-map polygon").count() == 1
    with merchant_context(merchant.pk):
        camera = Camera.objects.get(pk=bare.camera.pk)
        slot = Slot.objects.get(camera=camera)
    assert (camera.width, camera.height, camera.calibration_version) == (1280, 720, 1)
    assert (slot.key, slot.store_product_id, slot.capacity, slot.units) == ("cola", product.pk, 4, 3)
    # Clicks land within a couple of picture pixels of the intended corners, whatever the zoom.
    assert all(abs(px - x) <= 3 and abs(py - y) <= 3 for (px, py), (x, y) in zip(slot.polygon, corners, strict=True))
    watched.assert_clean()
