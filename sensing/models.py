"""Shelf cameras, their calibrated slots, the frames they send and what the pipeline made of them.

A camera is a ``merchants.Device`` (its token) plus what sensing needs: a purpose shoppers read,
a retention period, a calibration (reference image and slot polygons) and the pipeline's cursor.
Frames are processed in sequence order, one transaction per frame (sensing/services/processing.py).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Manager, Q
from django.utils import timezone

from catalog.models import StoreProduct
from merchants.models import Device, Store, TenantModel
from sensing.choices import AlertKind, EventKind, FrameStatus, ReviewStatus
from sensing.querysets import AlertQuerySet, CameraQuerySet, CameraRowQuerySet, FrameQuerySet, ShelfEventQuerySet

DEFAULT_RETENTION_HOURS = 24


def _upload_path(kind: str, instance: models.Model, filename: str) -> str:
    camera_id = getattr(instance, "camera_id", None) or instance.pk
    return f"sensing/{instance.merchant_id}/{camera_id}/{kind}/{filename}"  # type: ignore[attr-defined]


def reference_path(instance: models.Model, filename: str) -> str:
    return _upload_path("reference", instance, filename)


def frame_path(instance: models.Model, filename: str) -> str:
    return _upload_path("frames", instance, filename)


def crop_path(instance: models.Model, filename: str) -> str:
    return _upload_path("crops", instance, filename)


class Camera(TenantModel):
    """A fixed shelf camera of one store; its device holds the token it sends frames with."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="cameras")
    device = models.OneToOneField(Device, on_delete=models.PROTECT, related_name="camera")
    name = models.CharField(max_length=100)
    # Shown to shoppers on the store's landing page next to the privacy notice.
    purpose = models.CharField(max_length=300, default="Counts products on the shelf to spot empty shelves.")
    retention_hours = models.PositiveIntegerField(
        default=DEFAULT_RETENTION_HOURS, validators=[MinValueValidator(1), MaxValueValidator(24 * 30)]
    )
    # Calibration: the reference frame the slot polygons are drawn on, and its pixel size.
    reference_image = models.ImageField(upload_to=reference_path, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # Bumped by every calibration; the pipeline restarts its state when it changes.
    calibration_version = models.PositiveIntegerField(default=0)
    calibrated_at = models.DateTimeField(null=True, blank=True)
    # Health as the device reports it (the pipeline's view lives on the cursor).
    last_frame_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[Manager[Camera]] = CameraQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "store", "name"],
                name="camera_unique_name_per_store",
                violation_error_message="This store already has a camera with that name.",
            )
        ]
        indexes = [models.Index(fields=["merchant", "store"], name="camera_merchant_store")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_calibrated(self) -> bool:
        return self.calibration_version > 0 and bool(self.reference_image)


class CameraCursor(TenantModel):
    """The pipeline's position in a camera's frames and its serialized state.

    A row of its own, apart from Camera, so that the worker holding it locked (one frame at a
    time) never blocks the ingest endpoint updating the camera's last frame time.
    """

    camera = models.OneToOneField(Camera, on_delete=models.CASCADE, related_name="cursor")
    # Sequence of the last processed frame; frames at or below it are never processed again.
    sequence = models.BigIntegerField(default=-1)
    calibration_version = models.PositiveIntegerField(default=0)
    state = models.BinaryField(null=True, blank=True)
    processed_frames = models.PositiveIntegerField(default=0)
    # The pipeline's last verdict on the picture: {"blurred": false, "dark": false, ...}.
    health = models.JSONField(default=dict, blank=True)
    shift = models.JSONField(default=list, blank=True)
    is_settled = models.BooleanField(default=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[Manager[CameraCursor]] = CameraRowQuerySet.as_manager()

    def __str__(self) -> str:
        return f"cursor of camera {self.camera_id} at {self.sequence}"


def polygon_validator(value: object) -> None:
    """A polygon is a list of at least three [x, y] points with non-negative numbers."""
    if not isinstance(value, list) or len(value) < 3:
        raise ValidationError("A slot polygon needs at least three corners.", code="invalid_polygon")
    for point in value:
        if (
            not isinstance(point, list | tuple)
            or len(point) != 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in point)
        ):
            raise ValidationError(f"{point!r} is not a point [x, y].", code="invalid_polygon")


class Slot(TenantModel):
    """A region of a camera's view where one store product stands, with its capacity and units."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="slots")
    key = models.SlugField(max_length=30)
    store_product = models.ForeignKey(StoreProduct, on_delete=models.PROTECT, related_name="+")
    polygon = models.JSONField(validators=[polygon_validator])
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(200)])
    units = models.PositiveIntegerField(default=0)
    fill = models.FloatField(null=True, blank=True)
    is_wrong_product = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[Manager[Slot]] = CameraRowQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "camera", "key"], name="slot_unique_key_per_camera"),
            models.CheckConstraint(condition=Q(units__lte=models.F("capacity")), name="slot_units_within_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.key} of camera {self.camera_id}"

    def clean(self) -> None:
        super().clean()
        camera = self.camera if self.camera_id else None
        if camera is None or not camera.width or not camera.height or not isinstance(self.polygon, list):
            return
        for x, y in self.polygon:
            if not (0 <= x <= camera.width and 0 <= y <= camera.height):
                raise ValidationError(
                    {"polygon": f"Corner ({x:g}, {y:g}) is outside the {camera.width}×{camera.height} frame."},
                    code="polygon_outside_frame",
                )


class Frame(TenantModel):
    """One JPEG a camera sent. The stored image is the original until processed, then redacted or gone."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="frames")
    sequence = models.BigIntegerField()
    captured_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    image = models.ImageField(upload_to=frame_path, blank=True)
    size = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=FrameStatus.choices, default=FrameStatus.RECEIVED)
    flag_reason = models.CharField(max_length=40, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Evidence of a shelf event: its redacted image is kept until the retention period ends.
    is_evidence = models.BooleanField(default=False)
    # Faces blurred: only such a picture is ever shown (evidence, or a reference to pick).
    is_redacted = models.BooleanField(default=False)

    objects: ClassVar[Manager[Frame]] = FrameQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "camera", "sequence"], name="frame_unique_sequence"),
        ]
        indexes = [
            models.Index(fields=["merchant", "camera", "status", "sequence"], name="frame_camera_status_seq"),
            models.Index(fields=["merchant", "captured_at"], name="frame_merchant_captured"),
        ]

    def __str__(self) -> str:
        return f"frame {self.sequence} of camera {self.camera_id}"


class ShelfEvent(TenantModel):
    """A settled change on a slot the pipeline saw: kind, quantity, confidence, before/after crops."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="events")
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="events")
    frame = models.ForeignKey(Frame, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    sequence = models.BigIntegerField()
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    quantity = models.PositiveIntegerField()
    confidence = models.FloatField(validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    occurred_at = models.DateTimeField()
    before_crop = models.ImageField(upload_to=crop_path, blank=True)
    after_crop = models.ImageField(upload_to=crop_path, blank=True)
    review = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.ACCEPTED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # A camera that loops or flickers sees the same unsure change again and again: while the first
    # still waits for review, each repeat counts here instead of queueing another row.
    times_seen = models.PositiveIntegerField(default=1)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[Manager[ShelfEvent]] = ShelfEventQuerySet.as_manager()
    # How {% status_badge event "review" %} colours each review state.
    BADGE_TONES: ClassVar[dict[str, dict[str, str]]] = {
        "review": {
            ReviewStatus.ACCEPTED: "neutral",
            ReviewStatus.PENDING: "warning",
            ReviewStatus.CONFIRMED: "success",
            ReviewStatus.REJECTED: "neutral",
        }
    }

    class Meta:
        indexes = [
            models.Index(fields=["merchant", "camera", "-occurred_at"], name="shelfevent_camera_time"),
            models.Index(fields=["merchant", "review"], name="shelfevent_review"),
        ]
        constraints = [
            # One pending event per slot and change: a repeat bumps times_seen (sensing.services.processing).
            models.UniqueConstraint(
                fields=["merchant", "slot", "kind", "quantity"],
                condition=Q(review="pending"),
                name="shelfevent_one_pending_per_change",
            ),
            models.CheckConstraint(condition=Q(times_seen__gte=1), name="shelfevent_seen_at_least_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ×{self.quantity} on {self.slot_id}"

    @property
    def needs_review(self) -> bool:
        return self.review == ReviewStatus.PENDING


class Alert(TenantModel):
    """A condition on a camera or one of its slots, open from started_at until ended_at."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="alerts")
    slot = models.ForeignKey(Slot, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[Manager[Alert]] = AlertQuerySet.as_manager()
    # How {% status_badge alert "kind" %} colours an alert: every kind is something to look at.
    BADGE_TONES: ClassVar[dict[str, dict[str, str]]] = {"kind": dict.fromkeys(AlertKind.values, "warning")}

    class Meta:
        constraints = [
            # At most one open alert of a kind per camera and slot: hysteresis lives in the
            # pipeline; this makes a replayed frame unable to open a duplicate.
            models.UniqueConstraint(
                fields=["merchant", "camera", "slot", "kind"],
                condition=Q(ended_at__isnull=True),
                name="alert_one_open_per_kind",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=["merchant", "camera", "-started_at"], name="alert_camera_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on camera {self.camera_id}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None
