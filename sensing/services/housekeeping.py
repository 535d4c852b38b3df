"""Writes of sensing's platform sweeps: retention of camera pictures and cameras gone silent."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from merchants.tenancy import merchant_context, platform_access
from sensing.models import (
    Alert,
    AlertKind,
    Camera,
    Frame,
    ShelfEvent,
)

logger = logging.getLogger("lingshou.sensing")


@dataclass
class RetentionResult:
    frames_deleted: int = 0
    crops_deleted: int = 0
    files_deleted: int = 0


def frames_retention_apply(*, now: datetime | None = None) -> RetentionResult:
    """Delete every picture older than its camera's retention: frame rows and files, and event crops. Idempotent.

    Policy: a processed frame that shows no event loses its picture at once (the pipeline drops
    it); a frame that is evidence of an event keeps its redacted picture, and the event its
    before/after crops, until the camera's retention has passed since capture. Then the frame
    row and every picture go; the event row stays (kind, quantity, time) without pictures.
    Unprocessed frames are deleted at the same age: a frame never outlives the retention.
    """
    now = now or timezone.now()
    result = RetentionResult()
    with platform_access(reason="sensing: retention of camera pictures", actor="sensing.tasks"):
        cameras = list(Camera.objects.values_list("merchant_id", "pk", "retention_hours"))
    for merchant_id, camera_id, hours in cameras:
        cutoff = now - timedelta(hours=hours)
        files: list[str] = []
        with merchant_context(merchant_id):
            old = Frame.objects.for_merchant_camera(merchant_id=merchant_id, camera_id=camera_id).captured_before(
                cutoff
            )
            files += list(old.with_picture().values_list("image", flat=True))
            events = ShelfEvent.objects.for_merchant_camera(
                merchant_id=merchant_id, camera_id=camera_id
            ).occurred_before(cutoff)
            for before, after in events.with_crops().values_list("before_crop", "after_crop"):
                files += [name for name in (before, after) if name]
            result.crops_deleted += events.with_crops().update(before_crop="", after_crop="")
            result.frames_deleted += old.delete()[0]
            transaction.on_commit(partial(_files_delete, tuple(files)))
        result.files_deleted += len(files)
    return result


def _files_delete(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("sensing_file_delete_failed", extra={"file": name})


def cameras_offline_mark(*, now: datetime | None = None) -> int:
    """Open an offline alert for cameras silent for longer than the offline limit; idempotent."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.SENSING_OFFLINE_AFTER_SECONDS)
    opened = 0
    with platform_access(reason="sensing: find silent cameras", actor="sensing.tasks"):
        cameras = list(
            Camera.objects.listening().values_list("merchant_id", "pk", "last_heartbeat_at", "last_frame_at")
        )
    for merchant_id, camera_id, heartbeat, last_frame in cameras:
        seen = max((t for t in (heartbeat, last_frame) if t is not None), default=None)
        if seen is None or seen >= limit:
            continue
        with merchant_context(merchant_id):
            exists = Alert.objects.for_camera(camera_id).open().filter(kind=AlertKind.OFFLINE).exists()
            if not exists:
                Alert.objects.create(
                    merchant_id=merchant_id, camera_id=camera_id, kind=AlertKind.OFFLINE, started_at=seen
                )
                opened += 1
    return opened
