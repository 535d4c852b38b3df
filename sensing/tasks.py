"""Celery tasks of sensing, on the ``sensing`` queue: the per-camera pipeline, its sweep, retention."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from sensing.services import housekeeping, processing


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=8,
)
def camera_process(merchant_id: int, camera_id: int) -> int:
    """Process a camera's waiting frames in sequence order, each exactly once; safe to run twice or concurrently."""
    return processing.camera_process(merchant_id=merchant_id, camera_id=camera_id)


@shared_task(acks_late=True)
def cameras_sweep() -> int:
    """Enqueue processing for every camera with frames waiting (a lost or skipped task leaves none behind)."""
    cameras = processing.cameras_with_waiting_frames()
    for merchant_id, camera_id in cameras:
        camera_process.delay(merchant_id, camera_id)
    housekeeping.cameras_offline_mark()
    return len(cameras)


@shared_task(acks_late=True)
def frames_retention_apply() -> int:
    """Delete camera pictures older than their camera's retention; idempotent."""
    return housekeeping.frames_retention_apply().frames_deleted
