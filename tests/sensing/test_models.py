"""Sensing models and their write services: validation, atomic registration, constraints."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from merchants.models import Device, Merchant, Store
from merchants.tenancy import merchant_context
from sensing.models import Alert, AlertKind, Camera, CameraCursor, Frame, Slot, polygon_validator
from sensing.services.cameras import SlotInput, camera_calibrate, camera_register
from tests.sensing.conftest import Registered

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "polygon",
    [None, [], [[0, 0], [1, 1]], [[0, 0], [1, 1], [2]], [[0, 0], [1, "a"], [2, 2]], [[0, 0], [1, True], [2, 2]]],
)
def test_a_polygon_needs_three_numeric_corners(polygon: object) -> None:
    with pytest.raises(ValidationError):
        polygon_validator(polygon)


def test_a_slot_corner_outside_the_frame_is_refused(registered: Registered) -> None:
    with merchant_context(registered.camera.merchant_id):
        slot = Slot.objects.select_related("camera").get(camera=registered.camera, key="s1")
        slot.polygon = [[0, 0], [1281, 0], [1281, 10]]
        with pytest.raises(ValidationError) as error:
            slot.full_clean()
    assert "outside the 1280×720 frame" in str(error.value)


def test_registering_a_camera_twice_under_one_name_leaves_nothing_behind(merchant: Merchant, store: Store) -> None:
    camera, token = camera_register(merchant=merchant, store_id=store.pk, name="Fridge")
    with pytest.raises(ValidationError):
        camera_register(merchant=merchant, store_id=store.pk, name="Fridge")
    with pytest.raises(ValidationError):
        camera_register(merchant=merchant, store_id=store.pk, name="Bad retention", retention_hours=0)
    with merchant_context(merchant.pk):
        assert list(Device.objects.values_list("name", flat=True)) == ["Fridge"]
        assert list(Camera.objects.values_list("name", "retention_hours")) == [("Fridge", 24)]
        assert CameraCursor.objects.get(camera=camera).sequence == -1
    assert token.startswith("lsd_")


def test_a_store_of_another_merchant_cannot_get_a_camera(merchant: Merchant, other_store: Store) -> None:
    with pytest.raises(ValidationError):
        camera_register(merchant=merchant, store_id=other_store.pk, name="Sneaky")
    with merchant_context(merchant.pk):
        assert not Camera.objects.exists()


def test_a_camera_has_one_frame_per_sequence_and_one_open_alert_per_kind(registered: Registered) -> None:
    camera = registered.camera
    now = timezone.now()
    with merchant_context(camera.merchant_id):
        Frame.objects.create(merchant_id=camera.merchant_id, camera=camera, sequence=1, captured_at=now)
        with pytest.raises(IntegrityError), transaction.atomic():
            Frame.objects.create(merchant_id=camera.merchant_id, camera=camera, sequence=1, captured_at=now)
        Alert.objects.create(merchant_id=camera.merchant_id, camera=camera, kind=AlertKind.DARK, started_at=now)
        with pytest.raises(IntegrityError), transaction.atomic():
            Alert.objects.create(merchant_id=camera.merchant_id, camera=camera, kind=AlertKind.DARK, started_at=now)
        Alert.objects.filter(camera=camera).update(ended_at=now)
        Alert.objects.create(merchant_id=camera.merchant_id, camera=camera, kind=AlertKind.DARK, started_at=now)
        assert Alert.objects.filter(camera=camera).count() == 2


def test_recalibrating_restarts_the_pipeline_state(registered: Registered) -> None:
    camera = registered.camera
    with merchant_context(camera.merchant_id):
        CameraCursor.objects.filter(camera=camera).update(state=b"old state")
    camera_calibrate(
        merchant=camera.merchant,
        camera_id=camera.pk,
        slots=[
            SlotInput(
                key="s9",
                store_product_id=registered.products["s2"].pk,
                polygon=[[1, 1], [50, 1], [50, 50]],
                capacity=3,
                units=2,
            )
        ],
    )
    with merchant_context(camera.merchant_id):
        cursor = CameraCursor.objects.get(camera=camera)
        assert (cursor.state, cursor.calibration_version) == (None, 2)
        assert list(Slot.objects.filter(camera=camera).values_list("key", "units")) == [("s9", 2)]
