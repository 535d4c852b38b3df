"""Fixtures of the sensing tests: a registered camera with its token, calibrated on a synthetic shelf."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.utils import timezone
from pytest_django import Settings
from rest_framework.test import APIClient

from catalog.models import StoreProduct
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from sensing.models import Camera, Frame, Slot
from sensing.services import processing
from sensing.services.cameras import SlotInput, camera_calibrate, camera_register
from tests.catalog.factories import StoreProductFactory
from tests.sensing import shelf


@dataclass
class Registered:
    camera: Camera
    token: str
    products: dict[str, StoreProduct]

    def client(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Device {self.token}")
        return client


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path: Path) -> Path:
    """Every test stores its pictures in a folder of its own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def camera_make(merchant: Merchant, store: Store, *, name: str = "Drinks shelf", calibrate: bool = True) -> Registered:
    camera, token = camera_register(merchant=merchant, store_id=store.pk, name=name)
    products = {key: StoreProductFactory(store=store, merchant=merchant) for key in ("s1", "s2")}
    if calibrate:
        camera_calibrate(
            merchant=merchant,
            camera_id=camera.pk,
            reference=shelf.jpeg(shelf.shelf({"s1": 4, "s2": 4})),
            slots=[
                SlotInput(
                    key=key,
                    store_product_id=products[key].pk,
                    polygon=shelf.slot_polygon(key),
                    capacity=shelf.CAPACITY,
                    units=4,
                )
                for key in ("s1", "s2")
            ],
        )
    with merchant_context(merchant.pk):
        camera.refresh_from_db()
    return Registered(camera=camera, token=token, products=products)


@pytest.fixture
def registered(merchant: Merchant, store: Store) -> Registered:
    return camera_make(merchant, store)


@pytest.fixture
def other_registered(other_merchant: Merchant, other_store: Store) -> Registered:
    return camera_make(other_merchant, other_store, name="Other shelf")


def upload(client: APIClient, sequence: int, data: bytes, *, captured_at: datetime | None = None):  # type: ignore[no-untyped-def]
    """POST one frame the way the camera agent does."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/api/v1/sensing/frames",
        {
            "sequence": sequence,
            "captured_at": (captured_at or timezone.now()).isoformat(),
            "image": SimpleUploadedFile(f"{sequence}.jpg", data, content_type="image/jpeg"),
        },
        format="multipart",
    )


def frames_of(camera: Camera) -> list[Frame]:
    with merchant_context(camera.merchant_id):
        return list(Frame.objects.filter(camera=camera).order_by("sequence"))


Scenes = list[tuple[dict[str, int], str | None]]

# A shopper takes one unit from s1, later two from s2; a hand covers the slot while it happens,
# and the shelf then stays still long enough for the pipeline to call the change settled.
TAKES: Scenes = (
    [({"s1": 4, "s2": 4}, None)] * 2
    + [({"s1": 4, "s2": 4}, "s1")] * 2
    + [({"s1": 3, "s2": 4}, None)] * 6
    + [({"s1": 3, "s2": 4}, "s2")] * 2
    + [({"s1": 3, "s2": 2}, None)] * 6
)


def scene_frames(scenes: Scenes, *, first: datetime | None = None) -> list[tuple[bytes, datetime]]:
    """(JPEG, capture time) of each scene, one second apart, ending a few seconds ago."""
    start = first or timezone.now() - timedelta(seconds=len(scenes) + 5)
    return [
        (shelf.jpeg(shelf.shelf(units, hand_over=hand, seed=index)), start + timedelta(seconds=index))
        for index, (units, hand) in enumerate(scenes)
    ]


def oracle_events(registered: Registered, frames: list[tuple[bytes, datetime]]) -> list[tuple[str, str, int, int]]:
    """(slot, kind, quantity, sequence) the pure pipeline finds on these frames, run in order in this process."""
    from sensing import vision

    with merchant_context(registered.camera.merchant_id):
        camera = Camera.objects.get(pk=registered.camera.pk)
        slots = list(Slot.objects.filter(camera=camera).order_by("key"))
    model = processing._camera_model(camera, slots)
    state = vision.camera_state_initial(model)
    found = []
    for sequence, (data, captured_at) in enumerate(frames):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        result = vision.frame_process(model, state, image, captured_at.timestamp())
        state = result.state
        found += [(event.slot, event.kind, event.quantity, sequence) for event in result.events]
    return found
