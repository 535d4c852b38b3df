"""The demo's shelf camera: one camera in the first demo store, calibrated on a generated recording.

``demo_seed`` renders a short synthetic recording with the project's scene generator
(``sensing.vision.simulate``) under ``.data/demo-camera/``, registers a camera for the store,
calibrates it on the recording's reference frame (each generated slot linked to one of the
store's cold drinks, so that the camera's name says what it watches) and leaves the camera's
token in ``.data/demo-camera/token``. The Procfile's
``camera`` process then runs ``manage.py camera_agent`` over the recording's frames in a loop,
through the real device API, so the slot map, events and alerts fill up as the demo runs.
"""

from __future__ import annotations

import json
import os
from itertools import zip_longest
from pathlib import Path

from django.conf import settings

from catalog.models import StoreProduct
from demo.seed.accounts import MERCHANTS
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, platform_access
from sensing.models import Camera
from sensing.services import cameras as services

DEMO_MINUTES = 4.0
DEMO_SEED = 20261122
# What the camera watches: the cold drinks shelf. Its slots hold products of these categories
# only, and its name and the purpose shoppers read say so.
WATCHED_CATEGORIES = ("drinks/soft-drinks", "drinks/water", "drinks/juice", "drinks/energy-drinks")
CAMERA_NAME = "Cold drinks shelf"
CAMERA_PURPOSE = (
    "Counts the soft drinks, water, juice and energy drinks on the cold drinks shelf so that empty slots are refilled."
)


def demo_folder() -> Path:
    """Where the demo camera's recording and token live (under DATA_DIR)."""
    return Path(settings.DATA_DIR) / "demo-camera"


def demo_seed() -> bool:
    """Create and calibrate the demo camera once; False (and nothing changed) when it exists."""
    from sensing.vision.simulate import simulate

    merchant_slug = MERCHANTS[0][1]
    with platform_access(reason="demo seed: sensing", actor="command:demo_seed"):
        merchant = Merchant.objects.get(slug=merchant_slug)
        if Camera.objects.filter(merchant=merchant).exists():
            return False
    with merchant_context(merchant.pk):
        store = Store.objects.filter(merchant=merchant).order_by("pk").first()
        assert store is not None, "the merchants seeder creates the demo stores first"
        drinks = list(
            StoreProduct.objects.filter(
                merchant=merchant,
                store=store,
                is_active=True,
                product__category__path__in=WATCHED_CATEGORIES,
            )
            .select_related("product__category")
            .order_by("pk")
        )
    # Side by side as on a real shelf: a soft drink, a water, a juice, an energy drink, and again.
    by_category = [[item for item in drinks if item.product.category.path == path] for path in WATCHED_CATEGORIES]
    products = [item for row in zip_longest(*by_category) for item in row if item is not None]
    folder = demo_folder()
    if not (folder / "cameras.json").exists():
        simulate(folder, minutes=DEMO_MINUTES, seed=DEMO_SEED, cameras=1, fps=2.0)
    [calibration] = json.loads((folder / "cameras.json").read_text())
    camera, token = services.camera_register(
        merchant=merchant,
        store_id=store.pk,
        name=CAMERA_NAME,
        purpose=CAMERA_PURPOSE,
    )
    slots = [
        services.SlotInput(
            key=slot["slot"],
            store_product_id=products[index % len(products)].pk,
            polygon=slot["polygon"],
            capacity=slot["capacity"],
            units=slot["initial_units"],
        )
        for index, slot in enumerate(calibration["slots"])
        # One slot per product: a product's shelf capacity comes from a single slot.
        if index < len(products)
    ]
    services.camera_calibrate(
        merchant=merchant,
        camera_id=camera.pk,
        slots=slots,
        reference=(folder / calibration["reference"]).read_bytes(),
    )
    token_file = folder / "token"
    token_file.write_text(token)
    os.chmod(token_file, 0o600)
    return True
