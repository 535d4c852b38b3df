"""Reads of sensing, always for one merchant: cameras, slots, events, the review queue, alerts; and one
read across merchants, audited, for the operations metrics (frames waiting per camera)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from catalog.models import StoreProduct
from merchants.models import Device, DeviceKind, Merchant, Store
from merchants.tenancy import platform_access
from sensing.choices import FrameStatus
from sensing.models import DEFAULT_RETENTION_HOURS, Alert, Camera, Frame, ShelfEvent, Slot


def camera_list(*, merchant: Merchant) -> QuerySet[Camera]:
    """The merchant's cameras with their store, device and cursor, by store and name."""
    return (
        Camera.objects.for_merchant(merchant)
        .select_related("store", "device", "cursor")
        .order_by("store__name", "name")
    )


def camera_get(*, merchant: Merchant, camera_id: int) -> Camera:
    """One of the merchant's cameras; 404 for anyone else's."""
    camera = camera_list(merchant=merchant).filter(pk=camera_id).first()
    if camera is None:
        raise Http404("No such camera.")
    return camera


def camera_is_online(camera: Camera) -> bool:
    """Heard from (frame or heartbeat) within the offline limit."""
    seen = max((t for t in (camera.last_heartbeat_at, camera.last_frame_at) if t is not None), default=None)
    return seen is not None and timezone.now() - seen <= timedelta(seconds=settings.SENSING_OFFLINE_AFTER_SECONDS)


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """'s10' sorts after 's2', as people count: digit runs compare as numbers, the rest without case."""
    return tuple((1, int(part)) if part.isdigit() else (0, part.lower()) for part in re.split(r"(\d+)", text) if part)


def slot_list(*, merchant: Merchant, camera: Camera) -> list[Slot]:
    """The camera's slots with their products, in natural order of their keys (s2 before s10)."""
    slots = (
        Slot.objects.for_merchant(merchant)
        .for_camera(camera.pk)
        .select_related("store_product", "store_product__product")
    )
    return sorted(slots, key=lambda slot: natural_key(slot.key))


def event_list(*, merchant: Merchant, camera: Camera | None = None, limit: int = 50) -> list[ShelfEvent]:
    """The latest shelf events, newest first."""
    events = ShelfEvent.objects.for_merchant(merchant).with_product()
    if camera is not None:
        events = events.for_camera(camera.pk)
    return list(events.order_by("-occurred_at", "-pk")[:limit])


def review_queue(*, merchant: Merchant, limit: int = 100) -> list[ShelfEvent]:
    """Events waiting for a person's decision, oldest first."""
    return list(
        ShelfEvent.objects.for_merchant(merchant).pending_review().with_product().order_by("occurred_at", "pk")[:limit]
    )


def shelf_event_get(*, merchant: Merchant, event_id: int) -> ShelfEvent:
    """One of the merchant's shelf events with its product; 404 for anyone else's."""
    event = ShelfEvent.objects.for_merchant(merchant).with_product().filter(pk=event_id).first()
    if event is None:
        raise Http404("No such event.")
    return event


def alert_list(
    *, merchant: Merchant, camera: Camera | None = None, is_active: bool | None = None, limit: int = 100
) -> list[Alert]:
    """The latest ``limit`` alerts, newest first."""
    alerts = Alert.objects.for_merchant(merchant).select_related(
        "slot", "slot__store_product", "slot__store_product__product", "camera", "camera__store"
    )
    if camera is not None:
        alerts = alerts.for_camera(camera.pk)
    if is_active is not None:
        alerts = alerts.is_open(is_active)
    return list(alerts.order_by("-started_at", "-pk")[:limit])


def frames_for_reference(*, merchant: Merchant, camera: Camera, limit: int = 12) -> list[Frame]:
    """Stored frames an owner may pick as the calibration reference (newest first)."""
    return list(
        Frame.objects.for_merchant(merchant)
        .for_camera(camera.pk)
        .redacted()
        .with_picture()
        .order_by("-sequence")[:limit]
    )


def reference_frame_get(*, merchant: Merchant, frame_id: int) -> Frame:
    """A stored frame an owner may pick as the calibration reference; 404 for any other."""
    frame = Frame.objects.for_merchant(merchant).filter(pk=frame_id).first()
    if frame is None or frame not in frames_for_reference(merchant=merchant, camera=frame.camera):
        raise Http404("No such picture.")
    return frame


def slot_products(*, merchant: Merchant, camera: Camera) -> QuerySet[StoreProduct]:
    """The products a slot of this camera may hold: those its store sells, by name."""
    return (
        StoreProduct.objects.for_merchant(merchant)
        .filter(store_id=camera.store_id, is_active=True)
        .select_related("product")
        .order_by("local_name", "product__name")
    )


def cameras_for_store(*, store: Store) -> list[dict[str, object]]:
    """Every active camera device of a store with its purpose and retention, for the shopper's privacy notice.

    A camera device registered on the Devices page before it got its sensing settings is listed
    too, with the standard purpose and retention: shoppers are told about every camera.
    """
    devices = (
        Device.objects.filter(
            merchant_id=store.merchant_id, store=store, kind=DeviceKind.CAMERA, revoked_at__isnull=True
        )
        .select_related("camera")
        .order_by("name")
    )
    cameras = []
    for device in devices:
        camera = getattr(device, "camera", None)
        cameras.append(
            {
                "name": device.name,
                "purpose": camera.purpose if camera else Camera._meta.get_field("purpose").get_default(),
                "retention_hours": camera.retention_hours if camera else DEFAULT_RETENTION_HOURS,
            }
        )
    return cameras


def frames_waiting_per_camera() -> list[tuple[int, int, int, int]]:
    """(merchant_id, store_id, camera_id, frames waiting) of every camera of every merchant, through the audited bypass."""
    # One index lookup per camera (merchant, camera, status lead frame_camera_status_seq), not a scan of
    # every frame ever kept: the count is a correlated subquery, not a join.
    waiting = (
        Frame.objects.filter(merchant_id=OuterRef("merchant_id"), camera_id=OuterRef("pk"), status=FrameStatus.RECEIVED)
        .order_by()
        .values("camera_id")
        .annotate(count=Count("*"))
        .values("count")
    )
    with platform_access(reason="metrics: frames waiting per camera", actor="metrics"):
        rows = (
            Camera.objects.annotate(waiting=Coalesce(Subquery(waiting, output_field=IntegerField()), 0))
            .order_by("pk")
            .values_list("merchant_id", "store_id", "pk", "waiting")
        )
        return list(rows)
