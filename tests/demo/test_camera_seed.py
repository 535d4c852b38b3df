"""The demo's camera is named for what it watches: every slot holds one of the store's cold drinks."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_django import Settings

from demo.seed import accounts, cameras
from demo.seed import catalog as catalog_seed
from merchants.models import Merchant
from merchants.tenancy import merchant_context, platform_access
from sensing.models import Camera, Slot

pytestmark = pytest.mark.django_db


def test_the_demo_camera_watches_the_cold_drinks_it_is_named_for(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setattr(cameras, "DEMO_MINUTES", 0.1)  # the recording's length does not matter here
    accounts.demo_seed()
    catalog_seed.demo_seed()

    assert cameras.demo_seed() is True

    with platform_access(reason="test", actor="test"):
        merchant = Merchant.objects.get(slug=accounts.MERCHANTS[0][1])
    with merchant_context(merchant.pk):
        [camera] = Camera.objects.filter(merchant=merchant).select_related("store")
        slots = list(Slot.objects.filter(camera=camera).select_related("store_product__product__category"))
    assert camera.name == "Cold drinks shelf"
    assert camera.store.name == "Lindenstraße"
    assert "cold drinks shelf" in camera.purpose
    assert len(slots) >= 4
    categories = [slot.store_product.product.category.path for slot in slots]
    assert set(categories) == set(cameras.WATCHED_CATEGORIES)  # each kind of cold drink, nothing else
    assert len({slot.store_product_id for slot in slots}) == len(slots)  # one slot per product
    assert (tmp_path / "demo-camera" / "token").read_text()
    assert cameras.demo_seed() is False
