"""Writes of sensing: cameras, calibration, frame ingest, the per-camera pipeline, review, retention.

Every service is keyword-only and runs inside the merchant's row-level security context. The
pipeline (``camera_process``) handles one frame per transaction under a lock on the camera's
cursor row, so that each frame is processed once, in sequence order, whatever the number of
workers, and a worker killed in the middle of a frame leaves nothing half-written.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from catalog.models import StoreProduct
from catalog.services.signals import shelf_empty_record
from merchants import services as merchant_services
from merchants.models import Device, DeviceKind, Merchant
from merchants.tenancy import merchant_context, platform_access
from sensing.models import (
    Alert,
    AlertKind,
    Camera,
    CameraCursor,
    EventKind,
    Frame,
    FrameStatus,
    ReviewStatus,
    ShelfEvent,
    Slot,
)
from sensing.vision.privacy import BACKGROUND_SIZE, uncalibrated_redact

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from sensing.vision import CameraModel

logger = logging.getLogger("lingshou.sensing")

# Events the pipeline is less sure of than this go to the owner's review queue.
REVIEW_BELOW_CONFIDENCE = 0.8


class FrameRejected(ValidationError):
    """An upload the ingest endpoint refuses with 400; ``code`` says why."""


# --- cameras -------------------------------------------------------------------------------


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
            existing = Camera.objects.filter(merchant=merchant, store=device.store).order_by("-created_at").first()
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
        return Camera.objects.for_merchant(merchant).filter(store_id=store_id).update(retention_hours=retention_hours)


@dataclass(frozen=True)
class SlotInput:
    key: str
    store_product_id: int
    polygon: list[list[float]]
    capacity: int
    units: int


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            return int(image.size[0]), int(image.size[1])
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValidationError(
            {"reference": "The reference is not a picture we can read (use a JPEG or PNG)."}
        ) from error


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
            frame = Frame.objects.for_merchant(merchant).filter(camera=camera, pk=reference_frame_id).first()
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
        Slot.objects.filter(camera=camera).delete()
        Slot.objects.bulk_create(built)
        for slot in built:
            StoreProduct.objects.filter(pk=slot.store_product_id).update(shelf_capacity=slot.capacity)
        # Frames already queued are processed against the new calibration from a fresh state.
        cursor.state = None
        cursor.calibration_version = camera.calibration_version
        cursor.save(update_fields=["state", "calibration_version"])
    return camera


# --- ingest --------------------------------------------------------------------------------


def camera_for_device(*, device: Device) -> Camera:
    """The camera a device token belongs to; ValidationError when the device is not a camera."""
    # The cursor's position comes along: ingest flags a frame older than what was processed.
    camera = (
        Camera.objects.filter(merchant_id=device.merchant_id, device_id=device.pk)
        .annotate(processed_up_to=F("cursor__sequence"))
        .first()
    )
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
    # The reduced decode still walks every entropy-coded segment, at an eighth of the cost.
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    if image is None:
        raise FrameRejected("The JPEG cannot be decoded.", code="corrupt_jpeg")
    try:
        with Image.open(io.BytesIO(data)) as header:
            return int(header.size[0]), int(header.size[1])
    except (UnidentifiedImageError, OSError) as error:
        raise FrameRejected("The JPEG cannot be decoded.", code="corrupt_jpeg") from error


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
                logger.warning("sensing_orphan_delete_failed", extra={"name": name}, exc_info=True)
        raise


def _frame_store(
    device: Device, sequence: int, captured_at: datetime, data: bytes, written: list[str], camera_process_task: Any
) -> tuple[Frame, bool]:
    with merchant_context(device.merchant_id):
        camera = camera_for_device(device=device)
        existing = Frame.objects.filter(merchant_id=camera.merchant_id, camera=camera, sequence=sequence).first()
        if existing is not None:
            return existing, False
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
            return Frame.objects.get(merchant_id=camera.merchant_id, camera=camera, sequence=sequence), False
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
        Alert.objects.filter(camera=camera, kind=AlertKind.OFFLINE, ended_at__isnull=True).update(ended_at=now)
        camera.last_heartbeat_at = now
    return camera


# --- the pipeline --------------------------------------------------------------------------

# Camera models are built from the reference image once per process and calibration version.
_MODELS: OrderedDict[tuple[int, int], CameraModel] = OrderedDict()
_MODELS_KEPT = 64


def _read_image(field: Any) -> np.ndarray:
    with field.open("rb") as handle:
        data = handle.read()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"stored image {field.name} cannot be decoded")
    return image


def _camera_model(camera: Camera, slots: list[Slot]) -> CameraModel:
    from sensing import vision

    key = (camera.pk, camera.calibration_version)
    model = _MODELS.get(key)
    if model is None:
        reference = _read_image(camera.reference_image)
        calibration = vision.Calibration(
            camera=str(camera.pk),
            width=int(camera.width or reference.shape[1]),
            height=int(camera.height or reference.shape[0]),
            reference=reference,
            slots=[
                vision.SlotSpec(
                    slot=slot.key,
                    product=str(slot.store_product_id),
                    polygon=[(round(x), round(y)) for x, y in slot.polygon],
                    capacity=slot.capacity,
                    initial_units=slot.units,
                )
                for slot in slots
            ],
        )
        model = vision.camera_model_build(calibration)
        _MODELS[key] = model
        while len(_MODELS) > _MODELS_KEPT:
            _MODELS.popitem(last=False)
    _MODELS.move_to_end(key)
    return model


def _encode_jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


# The pipeline state carries a few images (the settled scene, the last frame). Its own to_bytes
# compresses them (npz deflate, ~100 ms a frame here); the cursor stores them raw instead
# (~1 ms, ~0.8 MB, the column is not compressed by TOAST either): at 20 cameras × 1 frame/s
# the compression alone would take a whole core.
_STATE_MAGIC = b"LSS1"


def state_dump(state: Any) -> bytes:
    """Every field of a CameraState: arrays as raw .npy, the rest as JSON. Pickle-free."""
    meta: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for item in dataclasses.fields(state):
        value = getattr(state, item.name)
        if isinstance(value, np.ndarray):
            arrays[item.name] = value
        else:
            meta[item.name] = _plain(value)
    buffer = io.BytesIO()
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return _STATE_MAGIC + buffer.getvalue()


def _state_store(cursor_id: int, data: bytes) -> None:
    """Write the state in the cursor's transaction as a binary parameter.

    Django's client-side binding would send ~0.8 MB of bytea as a hex literal twice that size
    for PostgreSQL to parse; a server-binding psycopg cursor on the same connection (so the same
    transaction and tenant settings) sends the bytes as they are.
    """
    raw = connection.connection
    with psycopg.Cursor(raw) as cursor:  # type: ignore[arg-type]
        cursor.execute("UPDATE sensing_cameracursor SET state = %b WHERE id = %s", [data, cursor_id])


def state_load(data: bytes) -> Any:
    """The CameraState state_dump wrote (or one in the pipeline's own to_bytes format)."""
    from sensing.vision import CameraState

    if not data.startswith(_STATE_MAGIC):
        return CameraState.from_bytes(data)
    with np.load(io.BytesIO(data[len(_STATE_MAGIC) :]), allow_pickle=False) as loaded:
        values: dict[str, Any] = json.loads(loaded["__meta__"].tobytes().decode())
        values.update({name: loaded[name] for name in loaded.files if name != "__meta__"})
    return CameraState(**values)


# The committed state of the cameras this process worked on last, by cursor id:
# (sequence, calibration version, state). frame_process never mutates a state, so the object
# is exactly what state_load would rebuild from the row; it saves reading ~0.8 MB a frame.
_STATES: dict[int, tuple[int, int, Any]] = {}


def _state_for(cursor: CameraCursor, camera: Camera, model: Any) -> Any:
    """The state to process the cursor's next frame from: cached, loaded, or initial after a calibration."""
    from sensing import vision

    if not getattr(cursor, "has_state", False) or cursor.calibration_version != camera.calibration_version:
        return vision.camera_state_initial(model)
    cached = _STATES.get(cursor.pk)
    if cached is not None and cached[:2] == (cursor.sequence, cursor.calibration_version):
        return cached[2]
    data = CameraCursor.objects.filter(pk=cursor.pk).values_list("state", flat=True).get()
    return vision.camera_state_initial(model) if data is None else state_load(bytes(data))


def _save_replacing(field: Any, name: str, data: bytes) -> None:
    """Save under a fixed name, replacing what a killed earlier attempt may have left there."""
    path = field.field.generate_filename(field.instance, name)
    if field.storage.exists(path):
        field.storage.delete(path)
    field.save(name, ContentFile(data), save=False)


def _seconds(frame: Frame) -> float:
    return frame.captured_at.timestamp()


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def _test_pause(frame: Frame) -> None:
    """Tests only: hold a frame's transaction open, once, so a test can kill the worker inside it.

    Reads SENSING_TEST_PAUSE_DIR (never set outside tests): for the sequences listed in
    SENSING_TEST_PAUSE_SEQUENCES it writes a marker file holding the process id and sleeps.
    """
    folder = os.environ.get("SENSING_TEST_PAUSE_DIR")
    if not folder:
        return
    wanted = {int(s) for s in os.environ.get("SENSING_TEST_PAUSE_SEQUENCES", "").split(",") if s.strip()}
    marker = os.path.join(folder, f"{frame.camera_id}-{frame.sequence}")
    if frame.sequence not in wanted or os.path.exists(marker):
        return
    with open(marker, "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(float(os.environ.get("SENSING_TEST_PAUSE_SECONDS", "60")))


def _frame_process_one(merchant_id: int, camera_id: int) -> int | None:
    """Process the camera's next frame in one transaction; its sequence, or None when none is waiting or another worker holds the camera."""
    from sensing import vision

    with merchant_context(merchant_id):
        cursor = (
            # Only the cursor row is locked (of=self): the ingest keeps updating the camera row.
            CameraCursor.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("camera")
            .defer("state")
            .filter(merchant_id=merchant_id, camera_id=camera_id)
            .annotate(has_state=Q(state__isnull=False))
            .first()
        )
        if cursor is None:
            return None
        camera = cursor.camera
        frame = (
            Frame.objects.filter(
                merchant_id=merchant_id, camera_id=camera_id, status=FrameStatus.RECEIVED, sequence__gt=cursor.sequence
            )
            .order_by("sequence")
            .first()
        )
        if frame is None:
            return None
        original = frame.image.name
        if not camera.is_calibrated:
            Frame.objects.filter(pk=frame.pk).update(status=FrameStatus.FLAGGED, flag_reason="not_calibrated")
            return frame.sequence
        slots = list(Slot.objects.filter(camera=camera).select_related("store_product").order_by("key"))
        by_key = {slot.key: slot for slot in slots}
        model = _camera_model(camera, slots)
        state = _state_for(cursor, camera, model)
        try:
            image = _read_image(frame.image)
        except (ValueError, OSError):
            Frame.objects.filter(pk=frame.pk).update(status=FrameStatus.FLAGGED, flag_reason="unreadable")
            cursor.sequence = frame.sequence
            cursor.save(update_fields=["sequence"])
            return frame.sequence
        try:
            result = vision.frame_process(model, state, image, _seconds(frame))
        except Exception:
            # A frame the pipeline cannot read (wrong size, a bug) must not block the camera's
            # later frames: it is flagged, kept for the retention period, and skipped.
            logger.exception("sensing_frame_failed", extra={"camera": camera.pk, "sequence": frame.sequence})
            Frame.objects.filter(pk=frame.pk).update(status=FrameStatus.FLAGGED, flag_reason="pipeline_error")
            cursor.sequence = frame.sequence
            cursor.save(update_fields=["sequence"])
            return frame.sequence
        now = timezone.now()
        events = _events_write(camera, frame, by_key, result, now)
        _alerts_write(camera, by_key, result)
        _slots_write(by_key, result, now)
        frame.status = FrameStatus.PROCESSED
        frame.processed_at = now
        frame.is_evidence = frame.is_redacted = bool(events)
        if events:
            # Only the face-blurred picture is ever stored once processed.
            _save_replacing(frame.image, f"{frame.sequence:012d}-redacted.jpg", _encode_jpeg(result.redacted))
        else:
            frame.image = ""  # type: ignore[assignment]
        frame.save(update_fields=["status", "processed_at", "is_evidence", "is_redacted", "image"])
        cursor.calibration_version = camera.calibration_version
        cursor.sequence = frame.sequence
        cursor.processed_frames += 1
        cursor.health = _plain(result.health)
        cursor.shift = _plain(result.shift)
        cursor.is_settled = bool(result.is_settled)
        cursor.processed_at = now
        cursor.captured_at = frame.captured_at
        cursor.save(update_fields=[f.name for f in CameraCursor._meta.concrete_fields if f.name not in ("id", "state")])
        _state_store(cursor.pk, state_dump(result.state))
        # Once committed, this process may start the next frame from the object itself.
        transaction.on_commit(
            partial(_STATES.__setitem__, cursor.pk, (frame.sequence, camera.calibration_version, result.state))
        )
        _test_pause(frame)
        # The original leaves storage only once the redacted result is committed.
        if original:
            transaction.on_commit(partial(default_storage.delete, original))
        return frame.sequence


def _plain(value: Any) -> Any:
    """Vision output (dataclasses, numpy scalars, tuples) as JSON-serialisable data."""
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _events_write(camera: Camera, frame: Frame, slots: dict[str, Slot], result: Any, now: datetime) -> list[ShelfEvent]:
    events = []
    for data in result.events:
        slot = slots.get(data.slot)
        if slot is None or data.kind not in EventKind.values:
            logger.warning("sensing_event_dropped", extra={"camera": camera.pk, "slot": data.slot, "kind": data.kind})
            continue
        event = ShelfEvent(
            merchant_id=camera.merchant_id,
            camera=camera,
            slot=slot,
            frame=frame,
            sequence=frame.sequence,
            kind=data.kind,
            quantity=max(0, int(data.quantity)),
            confidence=min(1.0, max(0.0, float(data.confidence))),
            occurred_at=_at(float(data.t)),
            review=ReviewStatus.PENDING if float(data.confidence) < REVIEW_BELOW_CONFIDENCE else ReviewStatus.ACCEPTED,
            created_at=now,
        )
        for field, crop in (("before_crop", data.before_crop), ("after_crop", data.after_crop)):
            if crop is not None and crop.size:
                name = f"{frame.sequence:012d}-{slot.key}-{data.kind}-{field.split('_')[0]}.jpg"
                _save_replacing(getattr(event, field), name, _encode_jpeg(crop))
        events.append(event)
    ShelfEvent.objects.bulk_create(events)
    return events


def _alerts_write(camera: Camera, slots: dict[str, Slot], result: Any) -> None:
    for change in result.alerts:
        if change.kind not in AlertKind.values:
            continue
        slot = slots.get(change.slot) if change.slot is not None else None
        at = _at(float(change.t))
        open_alerts = Alert.objects.filter(camera=camera, slot=slot, kind=change.kind, ended_at__isnull=True)
        if change.is_active:
            if not open_alerts.exists():
                Alert.objects.create(
                    merchant_id=camera.merchant_id, camera=camera, slot=slot, kind=change.kind, started_at=at
                )
        else:
            open_alerts.update(ended_at=at)
        if change.kind == AlertKind.STOCK_OUT and slot is not None and slot.store_product_id:
            # Restocking reads an empty shelf as unknown demand (catalog keeps the period for it).
            shelf_empty_record(
                merchant=camera.merchant,
                store_product_id=slot.store_product_id,
                at=at,
                is_empty=bool(change.is_active),
            )


def _slots_write(slots: dict[str, Slot], result: Any, now: datetime) -> None:
    """Store what changed (usually nothing): one UPDATE for all changed slots, none otherwise."""
    units = dict(result.units or {})
    fill = dict(result.fill or {})
    wrong = result.wrong_product or {}
    wrong_keys = set(wrong) if not isinstance(wrong, dict) else {k for k, v in wrong.items() if v}
    changed = []
    for key, slot in slots.items():
        new_units = min(slot.capacity, max(0, int(units[key]))) if key in units else slot.units
        new_fill = float(fill[key]) if key in fill else slot.fill
        is_wrong = key in wrong_keys
        if (new_units, new_fill, is_wrong) != (slot.units, slot.fill, slot.is_wrong_product):
            slot.units, slot.fill, slot.is_wrong_product, slot.updated_at = new_units, new_fill, is_wrong, now
            changed.append(slot)
    if changed:
        Slot.objects.bulk_update(changed, ["units", "fill", "is_wrong_product", "updated_at"])


_BACKGROUND = b"lingshou-background-v1:"


def _uncalibrated_redact(merchant_id: int, camera_id: int) -> int:
    """Redact the frames an uncalibrated camera sent (fail closed: whole frame until a background is learned, then
    everything that moves, and faces), so they may be shown to pick a reference."""
    done = 0
    while True:
        with merchant_context(merchant_id):
            frame = (
                Frame.objects.select_for_update(skip_locked=True)
                .filter(
                    merchant_id=merchant_id,
                    camera_id=camera_id,
                    status=FrameStatus.FLAGGED,
                    flag_reason="not_calibrated",
                    is_redacted=False,
                )
                .exclude(image="")
                .order_by("sequence")
                .first()
            )
            if frame is None:
                return done
            original = frame.image.name
            # The cursor keeps the camera's learned background until it is calibrated (then the
            # calibration resets the state); locking it keeps the frames of a camera in turn.
            cursor = CameraCursor.objects.select_for_update().filter(camera_id=camera_id).first()
            stored = bytes(cursor.state) if cursor is not None and cursor.state is not None else b""
            background = (
                np.frombuffer(stored[len(_BACKGROUND) :], np.uint8).reshape(BACKGROUND_SIZE[::-1])
                if stored.startswith(_BACKGROUND)
                else None
            )
            try:
                redacted, learned, _boxes = uncalibrated_redact(_read_image(frame.image), background)
            except (ValueError, OSError):
                frame.image = ""  # type: ignore[assignment]
            else:
                _save_replacing(frame.image, f"{frame.sequence:012d}-redacted.jpg", _encode_jpeg(redacted))
                if cursor is not None:
                    cursor.state = _BACKGROUND + learned.tobytes()
                    cursor.save(update_fields=["state"])
            frame.is_redacted = True
            frame.save(update_fields=["image", "is_redacted"])
            if original:
                transaction.on_commit(partial(default_storage.delete, original))
            done += 1


def camera_process(*, merchant_id: int, camera_id: int, limit: int = 500) -> int:
    """Process the camera's waiting frames in sequence order, each exactly once, one transaction each; returns how many."""
    _uncalibrated_redact(merchant_id, camera_id)
    done = 0
    while done < limit:
        sequence = _frame_process_one(merchant_id, camera_id)
        if sequence is None:
            # Another worker may have held the camera while a frame arrived and its task gave up:
            # look once more now that no lock is held, so no frame is left waiting.
            if not _has_waiting(merchant_id, camera_id) or _cursor_is_locked(merchant_id, camera_id):
                break
            continue
        done += 1
    return done


def _has_waiting(merchant_id: int, camera_id: int) -> bool:
    with merchant_context(merchant_id):
        processed = CameraCursor.objects.filter(camera_id=camera_id).values_list("sequence", flat=True).first()
        if processed is None:
            return False
        return Frame.objects.filter(
            merchant_id=merchant_id, camera_id=camera_id, status=FrameStatus.RECEIVED, sequence__gt=processed
        ).exists()


def _cursor_is_locked(merchant_id: int, camera_id: int) -> bool:
    with merchant_context(merchant_id):
        free = CameraCursor.objects.select_for_update(skip_locked=True).filter(camera_id=camera_id).exists()
    return not free


def cameras_with_waiting_frames() -> list[tuple[int, int]]:
    """(merchant_id, camera_id) of every camera with frames waiting to be processed (platform sweep)."""
    with platform_access(reason="sensing: sweep cameras with waiting frames", actor="sensing.tasks"):
        rows = Frame.objects.filter(status=FrameStatus.RECEIVED).values_list("merchant_id", "camera_id").distinct()
        return sorted(set(rows))


# --- review --------------------------------------------------------------------------------


def shelf_event_review(*, merchant: Merchant, event_id: int, user: User, is_confirmed: bool) -> ShelfEvent:
    """Confirm or reject an event from the review queue; idempotent (the first decision stands). Atomic, scoped."""
    with merchant_context(merchant.pk):
        event = ShelfEvent.objects.for_merchant(merchant).select_for_update().get(pk=event_id)
        if event.review == ReviewStatus.PENDING:
            event.review = ReviewStatus.CONFIRMED if is_confirmed else ReviewStatus.REJECTED
            event.reviewed_by = user
            event.reviewed_at = timezone.now()
            event.save(update_fields=["review", "reviewed_by", "reviewed_at"])
    return event


# --- retention -----------------------------------------------------------------------------


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
            old = Frame.objects.filter(merchant_id=merchant_id, camera_id=camera_id, captured_at__lt=cutoff)
            files += list(old.exclude(image="").values_list("image", flat=True))
            events = ShelfEvent.objects.filter(merchant_id=merchant_id, camera_id=camera_id, occurred_at__lt=cutoff)
            for before, after in events.exclude(before_crop="", after_crop="").values_list("before_crop", "after_crop"):
                files += [name for name in (before, after) if name]
            result.crops_deleted += events.exclude(before_crop="", after_crop="").update(before_crop="", after_crop="")
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
            Camera.objects.filter(device__revoked_at__isnull=True).values_list(
                "merchant_id", "pk", "last_heartbeat_at", "last_frame_at"
            )
        )
    for merchant_id, camera_id, heartbeat, last_frame in cameras:
        seen = max((t for t in (heartbeat, last_frame) if t is not None), default=None)
        if seen is None or seen >= limit:
            continue
        with merchant_context(merchant_id):
            exists = Alert.objects.filter(camera_id=camera_id, kind=AlertKind.OFFLINE, ended_at__isnull=True).exists()
            if not exists:
                Alert.objects.create(
                    merchant_id=merchant_id, camera_id=camera_id, kind=AlertKind.OFFLINE, started_at=seen
                )
                opened += 1
    return opened


def last_sequence(*, merchant: Merchant, camera_id: int) -> int | None:
    """The highest sequence a camera has sent (the agent resumes after it)."""
    with merchant_context(merchant.pk):
        return Frame.objects.filter(merchant=merchant, camera_id=camera_id).aggregate(m=Max("sequence"))["m"]
