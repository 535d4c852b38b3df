"""Writes of sensing about cameras: registration, settings and retention, calibration."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from catalog.models import StoreProduct
from core import inputs
from merchants import services as merchant_services
from merchants.models import DeviceKind, Merchant
from merchants.tenancy import merchant_context
from sensing.models import (
    Camera,
    CameraCursor,
    Frame,
    Slot,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def camera_register(
    *,
    merchant: Merchant,
    store_id: int,
    name: str,
    purpose: str = "",
    retention_hours: int | None = None,
    created_by: User | None = None,
) -> tuple[Camera, str]:
    """Register a camera and its device for one of the merchant's stores; returns the raw token (shown once). Atomic."""
    with merchant_context(merchant.pk), transaction.atomic():
        device, raw = merchant_services.device_create(
            merchant=merchant, store_id=store_id, name=name, kind=DeviceKind.CAMERA, created_by=created_by
        )
        camera = Camera(merchant=merchant, store=device.store, device=device, name=device.name)
        if purpose.strip():
            camera.purpose = purpose.strip()
        if retention_hours is not None:
            camera.retention_hours = retention_hours
        else:
            # A store's retention is the one its cameras share; a new camera follows the store.
            existing = Camera.objects.for_merchant(merchant).for_store(device.store_id).order_by("-created_at").first()
            if existing is not None:
                camera.retention_hours = existing.retention_hours
        camera.full_clean(exclude=["merchant", "store", "device"])
        try:
            with transaction.atomic():
                camera.save()
        except IntegrityError as error:
            raise ValidationError({"name": "This store already has a camera with that name."}) from error
        CameraCursor.objects.create(merchant=merchant, camera=camera)
    return camera, raw


def camera_update(*, merchant: Merchant, camera_id: int, purpose: str, retention_hours: int) -> Camera:
    """Change what shoppers are told about a camera and how long its pictures are kept. Atomic, scoped."""
    with merchant_context(merchant.pk):
        camera = Camera.objects.for_merchant(merchant).select_for_update().get(pk=camera_id)
        camera.purpose = purpose.strip()
        camera.retention_hours = retention_hours
        camera.full_clean(exclude=["merchant", "store", "device", "reference_image"])
        camera.save(update_fields=["purpose", "retention_hours"])
    return camera


def store_retention_set(*, merchant: Merchant, store_id: int, retention_hours: int) -> int:
    """Set the retention of every camera of one store at once; returns how many changed. Atomic, scoped."""
    if not 1 <= retention_hours <= 24 * 30:
        raise ValidationError({"retention_hours": "Keep pictures between 1 hour and 30 days."})
    with merchant_context(merchant.pk):
        return Camera.objects.for_merchant(merchant).for_store(store_id).update(retention_hours=retention_hours)


def camera_settings_save(
    *, merchant: Merchant, camera_id: int, purpose: str, retention_hours: int, is_for_store: bool
) -> Camera:
    """Save a camera's purpose and retention, and give the retention to every camera of its store if asked. Atomic."""
    # One transaction: a store-wide retention never lands without the camera's own settings.
    with merchant_context(merchant.pk):
        camera = camera_update(merchant=merchant, camera_id=camera_id, purpose=purpose, retention_hours=retention_hours)
        if is_for_store:
            store_retention_set(merchant=merchant, store_id=camera.store_id, retention_hours=retention_hours)
    return camera


# A shelf picture from a camera or a phone; a header claiming more is refused before decoding.
REFERENCE_MAX_PIXELS = 40_000_000


@dataclass(frozen=True)
class SlotInput:
    """One slot as the calibration form drew it."""

    key: str
    store_product_id: int
    polygon: list[list[float]]
    capacity: int
    units: int


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        # The header first: verify() below reads the whole file, which a bomb's header must not get to.
        size = inputs.image_size(data, max_pixels=REFERENCE_MAX_PIXELS)
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except inputs.UploadError as error:
        if error.code == "too_many_pixels":
            raise ValidationError({"reference": str(error)}) from error
        raise ValidationError(
            {"reference": "The reference is not a picture we can read (use a JPEG or PNG)."}
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValidationError(
            {"reference": "The reference is not a picture we can read (use a JPEG or PNG)."}
        ) from error
    return size


def camera_calibrate(
    *,
    merchant: Merchant,
    camera_id: int,
    slots: list[SlotInput],
    reference: bytes | None = None,
    reference_frame_id: int | None = None,
) -> Camera:
    """Replace a camera's calibration: reference image, slots, products' shelf capacity; restart its pipeline state. Atomic, scoped.

    Keeps the current reference when neither ``reference`` nor ``reference_frame_id`` is given.
    """
    with merchant_context(merchant.pk):
        camera = Camera.objects.for_merchant(merchant).select_for_update().get(pk=camera_id)
        cursor = CameraCursor.objects.select_for_update().get(camera=camera)
        if reference_frame_id is not None:
            frame = Frame.objects.for_merchant(merchant).for_camera(camera.pk).filter(pk=reference_frame_id).first()
            if frame is None or not frame.image:
                raise ValidationError({"reference": "That frame is no longer stored; upload a reference instead."})
            with frame.image.open("rb") as handle:
                reference = handle.read()
        if reference is not None:
            width, height = _image_size(reference)
        elif camera.reference_image:
            width, height = camera.width or 0, camera.height or 0
        else:
            raise ValidationError({"reference": "Upload a reference picture of the shelf first."})
        if not slots:
            raise ValidationError({"slots": "Draw at least one slot."})
        keys = [slot.key for slot in slots]
        if len(set(keys)) != len(keys):
            raise ValidationError({"slots": "Each slot needs its own name."})
        products = {
            p.pk: p
            for p in StoreProduct.objects.for_merchant(merchant).filter(
                store_id=camera.store_id, pk__in=[s.store_product_id for s in slots]
            )
        }
        camera.width, camera.height = width, height
        built: list[Slot] = []
        for item in slots:
            if item.store_product_id not in products:
                raise ValidationError({"slots": f"Slot {item.key}: choose a product this store sells."})
            if item.units > item.capacity:
                raise ValidationError({"slots": f"Slot {item.key}: {item.units} units do not fit in {item.capacity}."})
            slot = Slot(
                merchant=merchant,
                camera=camera,
                key=item.key,
                store_product=products[item.store_product_id],
                polygon=[[float(x), float(y)] for x, y in item.polygon]
                if all(len(p) == 2 for p in item.polygon)
                else item.polygon,
                capacity=item.capacity,
                units=item.units,
            )
            try:
                slot.full_clean(exclude=["merchant", "camera", "store_product"])
            except ValidationError as error:
                raise ValidationError({"slots": [f"Slot {item.key}: {m}" for m in error.messages]}) from error
            built.append(slot)
        if reference is not None:
            camera.reference_image.save(f"v{camera.calibration_version + 1}.jpg", ContentFile(reference), save=False)
        camera.calibration_version += 1
        camera.calibrated_at = timezone.now()
        camera.save()
        # Events of removed slots go with them: a recalibration starts the slot history afresh.
        Slot.objects.for_camera(camera.pk).delete()
        Slot.objects.bulk_create(built)
        for slot in built:
            StoreProduct.objects.filter(pk=slot.store_product_id).update(shelf_capacity=slot.capacity)
        # Frames already queued are processed against the new calibration from a fresh state.
        cursor.state = None
        cursor.calibration_version = camera.calibration_version
        cursor.save(update_fields=["state", "calibration_version"])
    return camera
