"""Read vocabulary of sensing: one camera's rows, frames waiting for the pipeline, the review queue, open alerts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self, cast

from merchants.querysets import TenantQuerySet
from sensing.choices import FrameStatus, ReviewStatus

if TYPE_CHECKING:
    from merchants.models import Merchant


class SensingQuerySet(TenantQuerySet):
    def for_merchant(self, merchant: Merchant) -> Self:
        """The merchant's rows (TenantQuerySet's filter), still speaking this vocabulary after it."""
        return cast(Self, super().for_merchant(merchant))


class CameraQuerySet(SensingQuerySet):
    def for_store(self, store_id: int) -> Self:
        return self.filter(store_id=store_id)

    def listening(self) -> Self:
        """Cameras whose device token still works (a revoked camera is silent on purpose)."""
        return self.filter(device__revoked_at__isnull=True)


class CameraRowQuerySet(SensingQuerySet):
    """Rows that belong to one camera (its cursor, slots, frames, events, alerts)."""

    def for_camera(self, camera_id: int) -> Self:
        return self.filter(camera_id=camera_id)

    def for_merchant_camera(self, *, merchant_id: int, camera_id: int) -> Self:
        """One camera's rows for the entry points that start from ids (tasks, sweeps): the merchant filter first."""
        return self.filter(merchant_id=merchant_id, camera_id=camera_id)


class FrameQuerySet(CameraRowQuerySet):
    def received(self) -> Self:
        """Frames not yet through the pipeline."""
        return self.filter(status=FrameStatus.RECEIVED)

    def waiting(self, *, after: int) -> Self:
        """Frames the pipeline still has to process after the cursor's ``after`` sequence."""
        return self.received().filter(sequence__gt=after)

    def with_picture(self) -> Self:
        return self.exclude(image="")

    def redacted(self) -> Self:
        """Frames whose stored picture is the face-blurred one (the only kind a person may see)."""
        return self.filter(is_redacted=True)

    def captured_before(self, cutoff: datetime) -> Self:
        return self.filter(captured_at__lt=cutoff)


class ShelfEventQuerySet(CameraRowQuerySet):
    def pending_review(self) -> Self:
        """Events waiting for a person's decision."""
        return self.filter(review=ReviewStatus.PENDING)

    def with_product(self) -> Self:
        """With the slot, its product and the camera, as every list of events shows them."""
        return self.select_related(
            "slot", "slot__store_product", "slot__store_product__product", "camera", "camera__store"
        )

    def occurred_before(self, cutoff: datetime) -> Self:
        return self.filter(occurred_at__lt=cutoff)

    def with_crops(self) -> Self:
        """Events that still keep a before or an after picture."""
        return self.exclude(before_crop="", after_crop="")


class AlertQuerySet(CameraRowQuerySet):
    def open(self) -> Self:
        """Alerts not ended yet (at most one per camera, slot and kind)."""
        return self.filter(ended_at__isnull=True)

    def is_open(self, is_open: bool) -> Self:
        """Open alerts, or closed ones, as a list's filter asks."""
        return self.filter(ended_at__isnull=is_open)
