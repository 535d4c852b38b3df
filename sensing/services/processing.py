"""Writes of sensing's per-camera pipeline: each frame run through vision, its events, alerts and slot stock.

The pipeline (``camera_process``) handles one frame per transaction under a lock on the camera's
cursor row, so that each frame is processed once, in sequence order, whatever the number of
workers, and a worker killed in the middle of a frame leaves nothing half-written.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections import OrderedDict
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import psycopg
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.services.signals import shelf_empty_record
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
from sensing.services.events import shelf_event_queue, shelf_event_repeat
from sensing.vision.privacy import BACKGROUND_SIZE, uncalibrated_redact

if TYPE_CHECKING:
    from sensing.vision import CameraModel

logger = logging.getLogger("lingshou.sensing")

# Events the pipeline is less sure of than this go to the owner's review queue.
REVIEW_BELOW_CONFIDENCE = 0.8


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
    """The vision model of the camera's current calibration, built once per process and kept for the next frames."""
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
    with psycopg.Cursor(raw) as cursor:
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


def _frame_process_one(merchant_id: int, camera_id: int) -> int | None:
    """Process the camera's next frame in one transaction; its sequence, or None when none is waiting or another worker holds the camera."""
    from sensing import vision

    with merchant_context(merchant_id):
        cursor = (
            # Only the cursor row is locked (of=self): the ingest keeps updating the camera row.
            CameraCursor.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("camera")
            .defer("state")
            .for_merchant_camera(merchant_id=merchant_id, camera_id=camera_id)
            .annotate(has_state=Q(state__isnull=False))
            .first()
        )
        if cursor is None:
            return None
        camera = cursor.camera
        frame = (
            Frame.objects.for_merchant_camera(merchant_id=merchant_id, camera_id=camera_id)
            .waiting(after=cursor.sequence)
            .order_by("sequence")
            .first()
        )
        if frame is None:
            return None
        original = frame.image.name
        if not camera.is_calibrated:
            Frame.objects.filter(pk=frame.pk).update(status=FrameStatus.FLAGGED, flag_reason="not_calibrated")
            return frame.sequence
        slots = list(Slot.objects.for_camera(camera.pk).select_related("store_product").order_by("key"))
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
            frame.image = ""
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
    """The frame's new shelf events with their crops; unsure ones wait for review, once (a repeat is counted)."""
    events: list[ShelfEvent] = []
    queued: list[ShelfEvent] = []
    for data in result.events:
        slot = slots.get(data.slot)
        if slot is None or data.kind not in EventKind.values:
            logger.warning("sensing_event_dropped", extra={"camera": camera.pk, "slot": data.slot, "kind": data.kind})
            continue
        is_unsure = float(data.confidence) < REVIEW_BELOW_CONFIDENCE
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
            review=ReviewStatus.PENDING if is_unsure else ReviewStatus.ACCEPTED,
            created_at=now,
        )
        if is_unsure and shelf_event_repeat(event=event):
            continue  # counted on the event already waiting for review: no row, no pictures
        for field, crop in (("before_crop", data.before_crop), ("after_crop", data.after_crop)):
            if crop is not None and crop.size:
                name = f"{frame.sequence:012d}-{slot.key}-{data.kind}-{field.split('_')[0]}.jpg"
                _save_replacing(getattr(event, field), name, _encode_jpeg(crop))
        (queued if is_unsure else events).append(event)
    ShelfEvent.objects.bulk_create(events)
    for event in queued:
        if shelf_event_queue(event=event):
            events.append(event)
        else:
            # Another writer queued the same change first: this one's pictures belong to no row.
            transaction.on_commit(
                partial(_files_delete, tuple(f.name for f in (event.before_crop, event.after_crop) if f and f.name))
            )
    return events


def _files_delete(names: tuple[str, ...]) -> None:
    for name in names:
        default_storage.delete(name)


def _alerts_write(camera: Camera, slots: dict[str, Slot], result: Any) -> None:
    """Open or end the alerts the frame changed; a stock-out also tells catalog the shelf is empty."""
    for change in result.alerts:
        if change.kind not in AlertKind.values:
            continue
        slot = slots.get(change.slot) if change.slot is not None else None
        at = _at(float(change.t))
        open_alerts = Alert.objects.for_camera(camera.pk).open().filter(slot=slot, kind=change.kind)
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
                .for_merchant_camera(merchant_id=merchant_id, camera_id=camera_id)
                .filter(status=FrameStatus.FLAGGED, flag_reason="not_calibrated", is_redacted=False)
                .with_picture()
                .order_by("sequence")
                .first()
            )
            if frame is None:
                return done
            original = frame.image.name
            # The cursor keeps the camera's learned background until it is calibrated (then the
            # calibration resets the state); locking it keeps the frames of a camera in turn.
            cursor = CameraCursor.objects.select_for_update().for_camera(camera_id).first()
            stored = bytes(cursor.state) if cursor is not None and cursor.state is not None else b""
            background = (
                np.frombuffer(stored[len(_BACKGROUND) :], np.uint8).reshape(BACKGROUND_SIZE[::-1])
                if stored.startswith(_BACKGROUND)
                else None
            )
            try:
                redacted, learned, _boxes = uncalibrated_redact(_read_image(frame.image), background)
            except (ValueError, OSError):
                frame.image = ""
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
    """Frames wait after the camera's cursor."""
    with merchant_context(merchant_id):
        processed = CameraCursor.objects.for_camera(camera_id).values_list("sequence", flat=True).first()
        if processed is None:
            return False
        return (
            Frame.objects.for_merchant_camera(merchant_id=merchant_id, camera_id=camera_id)
            .waiting(after=processed)
            .exists()
        )


def _cursor_is_locked(merchant_id: int, camera_id: int) -> bool:
    """Another worker holds the camera (its cursor row) right now."""
    with merchant_context(merchant_id):
        free = CameraCursor.objects.select_for_update(skip_locked=True).for_camera(camera_id).exists()
    return not free


def cameras_with_waiting_frames() -> list[tuple[int, int]]:
    """(merchant_id, camera_id) of every camera with frames waiting to be processed (platform sweep)."""
    with platform_access(reason="sensing: sweep cameras with waiting frames", actor="sensing.tasks"):
        rows = Frame.objects.received().values_list("merchant_id", "camera_id").distinct()
        return sorted(set(rows))
