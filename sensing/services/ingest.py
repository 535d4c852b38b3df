"""Writes of sensing at the camera's door: frame upload and heartbeat, checked and stored idempotently."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.utils import timezone

from core import inputs
from merchants.models import Device, Merchant
from merchants.tenancy import merchant_context
from sensing.models import (
    Alert,
    AlertKind,
    Camera,
    Frame,
    FrameStatus,
)

logger = logging.getLogger("lingshou.sensing")


# A camera's frame is a few megapixels; a header claiming more is refused before decoding.
FRAME_MAX_PIXELS = 40_000_000


class FrameRejected(ValidationError):
    """An upload the ingest endpoint refuses with 400; ``code`` says why."""


def camera_for_device(*, device: Device, sequence: int | None = None) -> Camera:
    """The camera a device token belongs to; ValidationError when the device is not a camera.

    With ``sequence``, the camera's ``repeat_of`` is the id of the frame it already has with that sequence, if
    any: read in the same statement.
    """
    # The cursor's position comes along: ingest flags a frame older than what was processed.
    cameras = Camera.objects.filter(merchant_id=device.merchant_id, device_id=device.pk).annotate(
        processed_up_to=F("cursor__sequence")
    )
    if sequence is not None:
        cameras = cameras.annotate(
            repeat_of=Subquery(
                Frame.objects.filter(
                    merchant_id=device.merchant_id, camera_id=OuterRef("pk"), sequence=sequence
                ).values("pk")[:1]
            )
        )
    camera = cameras.first()
    if camera is None:
        raise ValidationError("This device is not registered as a camera.", code="not_a_camera")
    return camera


def jpeg_check(data: bytes) -> tuple[int, int]:
    """(width, height) of a complete JPEG; FrameRejected when it is not one or is cut short."""
    if len(data) < 4 or data[:3] != b"\xff\xd8\xff":
        raise FrameRejected("The upload is not a JPEG picture.", code="not_jpeg")
    # A JPEG ends with the EOI marker; a cut-off upload does not (decoders pad it silently).
    if not data.rstrip(b"\x00\r\n")[-2:] == b"\xff\xd9":
        raise FrameRejected("The JPEG is truncated.", code="truncated_jpeg")
    # The header first: a few bytes may claim 20000 × 20000 pixels, which no decoder may be asked to allocate.
    try:
        size = inputs.image_size(data, max_pixels=FRAME_MAX_PIXELS, formats=("JPEG",))
    except inputs.UploadError as error:
        if error.code == "too_many_pixels":
            raise FrameRejected(str(error), code=error.code) from error
        raise FrameRejected("The JPEG cannot be decoded.", code="corrupt_jpeg") from error
    # The reduced decode still walks every entropy-coded segment, at an eighth of the cost.
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    if image is None:
        raise FrameRejected("The JPEG cannot be decoded.", code="corrupt_jpeg")
    return size


def _check_time(camera: Camera, captured_at: datetime, now: datetime) -> None:
    if captured_at > now + timedelta(seconds=settings.SENSING_MAX_CLOCK_SKEW_SECONDS):
        raise FrameRejected("The capture time is in the future; check the camera's clock.", code="captured_in_future")
    # A frame older than the camera's retention would be deleted on arrival: refuse it instead.
    if captured_at < now - timedelta(hours=camera.retention_hours):
        raise FrameRejected(
            f"The capture time is older than this camera's retention ({camera.retention_hours} h).",
            code="captured_too_old",
        )


def frame_ingest(*, device: Device, sequence: int, captured_at: datetime, data: bytes) -> tuple[Frame, bool]:
    """Store one uploaded frame and enqueue its camera's processing after commit; idempotent per camera and sequence.

    Returns the frame and whether it is new. A repeat returns the stored frame and stores nothing.
    """
    from sensing.tasks import camera_process as camera_process_task

    written: list[str] = []
    try:
        return _frame_store(device, sequence, captured_at, data, written, camera_process_task)
    except BaseException:
        # Nothing was committed: the picture written for it must not stay behind in storage.
        for name in written:
            try:
                default_storage.delete(name)
            except Exception:  # the original error is the one to report
                logger.warning("sensing_orphan_delete_failed", extra={"file": name}, exc_info=True)
        raise


def _frame_store(
    device: Device, sequence: int, captured_at: datetime, data: bytes, written: list[str], camera_process_task: Any
) -> tuple[Frame, bool]:
    """frame_ingest's transaction; every picture it writes is listed in ``written`` so a failure can remove it."""
    with merchant_context(device.merchant_id):
        camera = camera_for_device(device=device, sequence=sequence)
        frames = Frame.objects.for_merchant_camera(merchant_id=camera.merchant_id, camera_id=camera.pk)
        repeat_of = getattr(camera, "repeat_of", None)
        if repeat_of is not None:
            return frames.get(pk=repeat_of), False
        now = timezone.now()
        _check_time(camera, captured_at, now)
        jpeg_check(data)
        frame = Frame(
            merchant_id=camera.merchant_id, camera=camera, sequence=sequence, captured_at=captured_at, size=len(data)
        )
        processed_up_to = getattr(camera, "processed_up_to", None)
        if not camera.is_calibrated:
            frame.status, frame.flag_reason = FrameStatus.FLAGGED, "not_calibrated"
        elif processed_up_to is not None and sequence <= processed_up_to:
            # The camera's later frames are already processed; this one cannot be put before them.
            frame.status, frame.flag_reason = FrameStatus.FLAGGED, "late"
        frame.image.save(f"{sequence:012d}.jpg", ContentFile(data), save=False)
        written.append(str(frame.image.name))
        try:
            with transaction.atomic():
                frame.save()
        except IntegrityError:
            # The same frame won a concurrent upload: answer with it and drop our copy.
            frame.image.delete(save=False)
            written.clear()
            return frames.get(sequence=sequence), False
        Camera.objects.filter(pk=camera.pk).update(last_frame_at=now)
        # An uncalibrated camera's frames are kept (to pick a reference from) once a worker blurred faces.
        if frame.status == FrameStatus.RECEIVED or frame.flag_reason == "not_calibrated":
            transaction.on_commit(partial(_enqueue, camera_process_task, camera.merchant_id, camera.pk))
    return frame, True


def _enqueue(task: Any, merchant_id: int, camera_id: int) -> None:
    """Send the processing task; the frame is committed already, so a broker outage only delays it.

    The beat's sweep (cameras_sweep) enqueues every camera with waiting frames, so nothing is lost.
    """
    try:
        task.delay(merchant_id, camera_id)
    except Exception:  # any broker failure: the sweep catches up
        logger.warning("sensing_enqueue_failed", extra={"camera": camera_id}, exc_info=True)


def camera_heartbeat(*, device: Device) -> Camera:
    """Record that the camera is alive and close its offline alert; idempotent."""
    now = timezone.now()
    with merchant_context(device.merchant_id):
        camera = camera_for_device(device=device)
        Camera.objects.filter(pk=camera.pk).update(last_heartbeat_at=now)
        Alert.objects.for_camera(camera.pk).open().filter(kind=AlertKind.OFFLINE).update(ended_at=now)
        camera.last_heartbeat_at = now
    return camera


def last_sequence(*, merchant: Merchant, camera_id: int) -> int | None:
    """The highest sequence a camera has sent (the agent resumes after it)."""
    with merchant_context(merchant.pk):
        return Frame.objects.for_merchant(merchant).for_camera(camera_id).aggregate(m=Max("sequence"))["m"]
