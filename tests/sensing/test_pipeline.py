"""The per-camera pipeline run in process: events, units, alerts, redaction, review, retention."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.utils import timezone

from catalog.models import StockMovement, StoreProduct
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from sensing import selectors
from sensing.models import Alert, CameraCursor, Frame, FrameStatus, ReviewStatus, ShelfEvent, Slot
from sensing.services import processing
from sensing.services.cameras import camera_update, store_retention_set
from sensing.services.housekeeping import cameras_offline_mark, frames_retention_apply
from sensing.services.processing import camera_process, cameras_with_waiting_frames
from sensing.services.review import shelf_event_review
from tests.sensing import shelf
from tests.sensing.conftest import TAKES, Registered, camera_make, frames_of, oracle_events, scene_frames, upload

pytestmark = pytest.mark.django_db


def send(registered: Registered, frames: list[tuple[bytes, datetime]]) -> None:
    for sequence, (data, captured_at) in enumerate(frames):
        response = upload(registered.client(), sequence, data, captured_at=captured_at)
        assert response.status_code == 202, response.content


def expected(registered: Registered, frames: list[tuple[bytes, datetime]]) -> list[tuple[str, str, int, int]]:
    """What the pure pipeline finds on the frames; the workers must store exactly that."""
    found = oracle_events(registered, frames)
    # The scene really has these two takes: the oracle is not vacuous.
    assert [(slot, kind, quantity) for slot, kind, quantity, _ in found] == [("s1", "take", 1), ("s2", "take", 2)]
    return found


def process(camera_id: int, merchant_id: int, django_capture_on_commit_callbacks) -> int:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        return camera_process(merchant_id=merchant_id, camera_id=camera_id)


def events_of(registered: Registered) -> list[tuple[str, str, int, int]]:
    with merchant_context(registered.camera.merchant_id):
        return [
            (e.slot.key, e.kind, e.quantity, e.sequence)
            for e in ShelfEvent.objects.filter(camera=registered.camera).select_related("slot").order_by("pk")
        ]


def test_takes_become_events_and_units_and_move_no_stock(
    registered: Registered, media_root: Path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    camera = registered.camera
    on_hand = {key: p.on_hand for key, p in registered.products.items()}
    frames = scene_frames(TAKES)
    want = expected(registered, frames)
    evidence = [sequence for *_, sequence in want]
    send(registered, frames)
    assert process(camera.pk, camera.merchant_id, django_capture_on_commit_callbacks) == len(TAKES)
    assert events_of(registered) == want
    with merchant_context(camera.merchant_id):
        assert dict(Slot.objects.filter(camera=camera).values_list("key", "units")) == {"s1": 3, "s2": 2}
        cursor = CameraCursor.objects.get(camera=camera)
        assert (cursor.sequence, cursor.processed_frames) == (len(TAKES) - 1, len(TAKES))
        assert cursor.state is not None
        # Cameras assist: the ledger and on-hand counts are untouched.
        assert StockMovement.objects.filter(merchant_id=camera.merchant_id).count() == 0
        assert {key: StoreProduct.objects.get(pk=p.pk).on_hand for key, p in registered.products.items()} == on_hand
    # Only evidence keeps a picture, and it is the redacted one; every original is gone.
    rows = frames_of(camera)
    assert {f.status for f in rows} == {FrameStatus.PROCESSED}
    assert [f.sequence for f in rows if f.image] == evidence
    assert all(f.is_redacted and f.image.name.endswith("-redacted.jpg") for f in rows if f.image)
    stored = sorted(p.name for p in (media_root / "sensing").rglob("*.jpg") if "frames" in p.parts)
    assert stored == [f"{sequence:012d}-redacted.jpg" for sequence in evidence]
    with merchant_context(camera.merchant_id):
        event = ShelfEvent.objects.get(camera=camera, sequence=evidence[0])
    assert event.before_crop
    assert event.after_crop
    assert event.review == ReviewStatus.ACCEPTED


def test_running_the_pipeline_again_changes_nothing(registered: Registered, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    camera = registered.camera
    send(registered, scene_frames(TAKES))
    process(camera.pk, camera.merchant_id, django_capture_on_commit_callbacks)
    before = events_of(registered)
    assert process(camera.pk, camera.merchant_id, django_capture_on_commit_callbacks) == 0
    assert events_of(registered) == before
    # A frame arriving after later ones were processed is kept, flagged, never processed out of order.
    response = upload(registered.client(), 3, shelf.jpeg(shelf.shelf({"s1": 4, "s2": 4})))
    assert response.status_code == 200  # sequence 3 exists: the same frame
    response = upload(registered.client(), 100, shelf.jpeg(shelf.shelf({"s1": 3, "s2": 2})))
    assert response.json()["status"] == "received"
    assert process(camera.pk, camera.merchant_id, django_capture_on_commit_callbacks) == 1
    assert events_of(registered) == before


def test_unsure_events_go_to_the_review_queue(
    registered: Registered, owner, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    camera = registered.camera
    monkeypatch.setattr(processing, "REVIEW_BELOW_CONFIDENCE", 1.01)
    send(registered, scene_frames(TAKES))
    process(camera.pk, camera.merchant_id, django_capture_on_commit_callbacks)
    merchant = camera.merchant
    with merchant_context(merchant.pk):
        queue = selectors.review_queue(merchant=merchant)
    assert [(e.slot.key, e.quantity) for e in queue] == [("s1", 1), ("s2", 2)]
    shelf_event_review(merchant=merchant, event_id=queue[0].pk, user=owner, is_confirmed=True)
    shelf_event_review(merchant=merchant, event_id=queue[1].pk, user=owner, is_confirmed=False)
    # The first decision stands.
    again = shelf_event_review(merchant=merchant, event_id=queue[1].pk, user=owner, is_confirmed=True)
    assert again.review == ReviewStatus.REJECTED
    with merchant_context(merchant.pk):
        assert selectors.review_queue(merchant=merchant) == []
    with merchant_context(merchant.pk):
        reviews = list(ShelfEvent.objects.filter(camera=camera).order_by("pk").values_list("review", "reviewed_by"))
    assert reviews == [(ReviewStatus.CONFIRMED, owner.pk), (ReviewStatus.REJECTED, owner.pk)]


def test_a_dark_spell_opens_one_alert_and_closes_it(registered: Registered, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    camera = registered.camera
    first = timezone.now() - timedelta(seconds=30)
    normal = shelf.jpeg(shelf.shelf({"s1": 4, "s2": 4}))
    dark = shelf.jpeg(np.full((shelf.HEIGHT, shelf.WIDTH, 3), 8, np.uint8))
    for index, data in enumerate([normal, normal, dark, dark, dark, dark, normal, normal, normal, normal]):
        upload(registered.client(), index, data, captured_at=first + timedelta(seconds=index))
    process(camera.pk, camera.merchant_id, django_capture_on_commit_callbacks)
    with merchant_context(camera.merchant_id):
        alerts = list(Alert.objects.filter(camera=camera).values_list("kind", "slot", "ended_at"))
    assert [(kind, slot) for kind, slot, _ in alerts] == [("dark", None)]
    assert alerts[0][2] is not None


def test_an_uncalibrated_camera_keeps_face_blurred_frames_to_pick_a_reference(
    merchant: Merchant, store: Store, media_root: Path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    bare = camera_make(merchant, store, name="New camera", calibrate=False)
    upload(bare.client(), 0, shelf.jpeg(shelf.shelf({"s1": 4, "s2": 4})))
    with merchant_context(merchant.pk):
        assert selectors.frames_for_reference(merchant=merchant, camera=bare.camera) == []
    assert process(bare.camera.pk, merchant.pk, django_capture_on_commit_callbacks) == 0
    with merchant_context(merchant.pk):
        [frame] = selectors.frames_for_reference(merchant=merchant, camera=bare.camera)
    assert frame.status == FrameStatus.FLAGGED
    assert frame.is_redacted
    assert frame.image.name.endswith("-redacted.jpg")
    assert sorted(p.name for p in (media_root / "sensing").rglob("*.jpg")) == ["000000000000-redacted.jpg"]


def test_retention_deletes_old_pictures_and_keeps_recent_evidence(
    registered: Registered, media_root: Path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    camera = registered.camera
    frames = scene_frames(TAKES)
    want = expected(registered, frames)
    send(registered, frames)
    process(camera.pk, camera.merchant_id, django_capture_on_commit_callbacks)
    # Within the retention period nothing goes: evidence keeps its picture and crops.
    with django_capture_on_commit_callbacks(execute=True):
        kept = frames_retention_apply()
    assert (kept.frames_deleted, kept.crops_deleted) == (0, 0)
    assert len(frames_of(camera)) == len(TAKES)
    # 25 hours later (retention 24 h) every frame and every picture is gone; events stay, without pictures.
    with django_capture_on_commit_callbacks(execute=True):
        later = frames_retention_apply(now=timezone.now() + timedelta(hours=25))
    assert (later.frames_deleted, later.crops_deleted) == (len(TAKES), 2)
    assert frames_of(camera) == []
    assert list((media_root / "sensing").rglob("*.jpg")) == list((media_root / "sensing").rglob("reference/*.jpg"))
    assert events_of(registered) == want
    with merchant_context(camera.merchant_id):
        assert not ShelfEvent.objects.filter(camera=camera).exclude(before_crop="").exists()
        assert not ShelfEvent.objects.filter(camera=camera, frame__isnull=False).exists()


def test_retention_follows_each_camera(
    merchant: Merchant, store: Store, registered: Registered, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    camera_update(merchant=merchant, camera_id=registered.camera.pk, purpose="Counts cola.", retention_hours=2)
    short = camera_make(merchant, store, name="Second shelf", calibrate=False)
    assert short.camera.retention_hours == 2  # a new camera follows its store
    store_retention_set(merchant=merchant, store_id=store.pk, retention_hours=48)
    send(registered, scene_frames(TAKES[:2]))
    with django_capture_on_commit_callbacks(execute=True):
        result = frames_retention_apply(now=timezone.now() + timedelta(hours=30))
    assert result.frames_deleted == 0
    with django_capture_on_commit_callbacks(execute=True):
        result = frames_retention_apply(now=timezone.now() + timedelta(hours=49))
    assert result.frames_deleted == 2


def test_a_silent_camera_gets_one_offline_alert(registered: Registered) -> None:
    upload(registered.client(), 0, shelf.jpeg(shelf.shelf({"s1": 4, "s2": 4})))
    later = timezone.now() + timedelta(minutes=10)
    assert cameras_offline_mark(now=later) == 1
    assert cameras_offline_mark(now=later) == 0
    with merchant_context(registered.camera.merchant_id):
        assert list(Alert.objects.filter(camera=registered.camera).values_list("kind", flat=True)) == ["offline"]
    assert cameras_with_waiting_frames() == [(registered.camera.merchant_id, registered.camera.pk)]
    assert Frame.objects.count() == 0  # outside any merchant context nothing is visible


def test_a_stock_out_alert_records_the_empty_shelf_for_restocking_once(
    merchant: Merchant, registered: Registered
) -> None:
    from types import SimpleNamespace

    from catalog.models import ShelfEmptyPeriod
    from sensing.vision import AlertChange

    camera = registered.camera
    with merchant_context(merchant.pk):
        slots = {slot.key: slot for slot in Slot.objects.filter(camera=camera)}
        empty = SimpleNamespace(alerts=[AlertChange(kind="stock_out", slot="s1", is_active=True, t=100.0)])
        processing._alerts_write(camera, slots, empty)
        processing._alerts_write(camera, slots, empty)  # a frame processed twice changes nothing more
        periods = list(ShelfEmptyPeriod.objects.values_list("store_product_id", "ended_at"))
        assert periods == [(registered.products["s1"].pk, None)]
        refilled = SimpleNamespace(alerts=[AlertChange(kind="stock_out", slot="s1", is_active=False, t=160.0)])
        processing._alerts_write(camera, slots, refilled)
        period = ShelfEmptyPeriod.objects.get()
        assert period.ended_at is not None
        assert (period.ended_at - period.started_at).total_seconds() == 60.0
        # Other alerts (low stock) leave the restocking record alone.
        low = SimpleNamespace(alerts=[AlertChange(kind="low_stock", slot="s2", is_active=True, t=170.0)])
        processing._alerts_write(camera, slots, low)
        assert ShelfEmptyPeriod.objects.count() == 1
