"""The device API: frame upload and heartbeat, with every kind of bad input and a foreign token."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from pytest_django import Settings
from rest_framework.test import APIClient

from merchants.models import DeviceKind, Merchant, Store
from merchants.services import device_create, device_revoke
from merchants.tenancy import merchant_context
from sensing.models import Alert, AlertKind, Camera, FrameStatus
from tests.sensing import shelf
from tests.sensing.conftest import Registered, camera_make, frames_of, upload

pytestmark = pytest.mark.django_db

FRAME = shelf.jpeg(shelf.shelf({"s1": 4, "s2": 4}))


def stored_files(media_root: Path) -> list[str]:
    folder = media_root / "sensing"
    return sorted(str(p.relative_to(media_root)) for p in folder.rglob("*.jpg") if "reference" not in p.parts)


def test_a_frame_is_accepted_stored_and_queued_after_commit(
    registered: Registered, media_root: Path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(registered.client(), 7, FRAME)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["sequence"] == 7
    assert body["status"] == "received"
    assert body["camera_id"] == registered.camera.pk
    [frame] = frames_of(registered.camera)
    assert frame.pk == body["id"]
    assert frame.size == len(FRAME)
    assert (media_root / frame.image.name).read_bytes() == FRAME
    # The processing task is sent only once the row is committed.
    assert len(callbacks) == 1
    with merchant_context(registered.camera.merchant_id):
        assert Camera.objects.get(pk=registered.camera.pk).last_frame_at is not None


def test_a_repeated_sequence_answers_the_same_frame_and_stores_nothing_new(
    registered: Registered, media_root: Path
) -> None:
    first = upload(registered.client(), 3, FRAME)
    files = stored_files(media_root)
    again = upload(registered.client(), 3, shelf.jpeg(shelf.shelf({"s1": 1, "s2": 4})))
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert len(frames_of(registered.camera)) == 1
    assert stored_files(media_root) == files


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a not a jpeg at all", "not_jpeg"),
        (FRAME[: len(FRAME) // 2], "truncated_jpeg"),
        (FRAME[:600] + b"\x00" * 4000 + FRAME[-2:], "corrupt_jpeg"),
        (b"", "invalid"),
    ],
)
def test_a_bad_picture_is_refused_with_a_code_and_nothing_is_stored(
    registered: Registered, media_root: Path, data: bytes, code: str
) -> None:
    response = upload(registered.client(), 1, data)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert frames_of(registered.camera) == []
    assert not (media_root / "sensing").exists() or stored_files(media_root) == []


def test_an_oversized_frame_is_refused_with_413(registered: Registered, settings: Settings, media_root: Path) -> None:
    settings.SENSING_FRAME_MAX_BYTES = len(FRAME) - 1
    response = upload(registered.client(), 1, FRAME)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert frames_of(registered.camera) == []
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("offset", "code"),
    [(timedelta(minutes=10), "captured_in_future"), (-timedelta(hours=25), "captured_too_old")],
)
def test_a_capture_time_too_far_off_is_refused(registered: Registered, offset: timedelta, code: str) -> None:
    response = upload(registered.client(), 1, FRAME, captured_at=timezone.now() + offset)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert frames_of(registered.camera) == []


def test_a_missing_sequence_is_a_validation_error(registered: Registered) -> None:
    response = registered.client().post(
        "/api/v1/sensing/frames", {"captured_at": timezone.now().isoformat()}, format="multipart"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"sequence", "image"}


def test_wrong_and_revoked_tokens_are_refused_with_401(registered: Registered, merchant: Merchant) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Device lsd_not-a-real-token")
    assert upload(client, 1, FRAME).status_code == 401
    assert APIClient().post("/api/v1/sensing/heartbeat").status_code == 401
    device_revoke(merchant=merchant, device_id=registered.camera.device_id)
    assert upload(registered.client(), 1, FRAME).status_code == 401
    assert registered.client().post("/api/v1/sensing/heartbeat").status_code == 401
    assert frames_of(registered.camera) == []


def test_a_device_that_is_not_a_camera_is_refused(merchant: Merchant, store: Store) -> None:
    _, token = device_create(merchant=merchant, store_id=store.pk, name="Door", kind=DeviceKind.DOOR)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    response = upload(client, 1, FRAME)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_camera"


def test_a_camera_without_calibration_keeps_its_frames_flagged(merchant: Merchant, store: Store) -> None:
    bare = camera_make(merchant, store, name="New camera", calibrate=False)
    response = upload(bare.client(), 1, FRAME)
    assert response.status_code == 202
    assert response.json()["status"] == "flagged"
    assert response.json()["flag_reason"] == "not_calibrated"
    [frame] = frames_of(bare.camera)
    assert frame.status == FrameStatus.FLAGGED


def test_a_token_reaches_only_its_own_camera(registered: Registered, other_registered: Registered) -> None:
    upload(registered.client(), 1, FRAME)
    before = [(f.pk, f.sequence, f.status) for f in frames_of(registered.camera)]
    # The other merchant's camera sends the same sequence number: it lands on its own camera.
    response = upload(other_registered.client(), 1, FRAME)
    assert response.status_code == 202
    assert response.json()["camera_id"] == other_registered.camera.pk
    assert [(f.pk, f.sequence, f.status) for f in frames_of(registered.camera)] == before
    assert len(frames_of(other_registered.camera)) == 1
    heartbeat = other_registered.client().post("/api/v1/sensing/heartbeat")
    assert heartbeat.json()["camera_id"] == other_registered.camera.pk
    with merchant_context(registered.camera.merchant_id):
        assert Camera.objects.get(pk=registered.camera.pk).last_heartbeat_at is None


def test_a_heartbeat_records_the_camera_alive_and_ends_its_offline_alert(registered: Registered) -> None:
    camera = registered.camera
    with merchant_context(camera.merchant_id):
        Alert.objects.create(
            merchant_id=camera.merchant_id, camera=camera, kind=AlertKind.OFFLINE, started_at=timezone.now()
        )
    upload(registered.client(), 41, FRAME)
    response = registered.client().post("/api/v1/sensing/heartbeat")
    assert response.status_code == 200
    assert response.json() == {"camera_id": camera.pk, "last_sequence": 41, "is_calibrated": True}
    with merchant_context(camera.merchant_id):
        assert Camera.objects.get(pk=camera.pk).last_heartbeat_at is not None
        assert Alert.objects.get(camera=camera).ended_at is not None


def test_an_upload_that_fails_after_its_picture_was_written_leaves_no_file(
    registered: Registered, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import transaction

    from merchants.models import Device
    from sensing.services import ingest
    from sensing.services.ingest import frame_ingest

    def fail(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database went away before the commit")

    monkeypatch.setattr(ingest.transaction, "on_commit", fail)
    with merchant_context(registered.camera.merchant_id):
        device = Device.objects.get(pk=registered.camera.device_id)
    with pytest.raises(RuntimeError), transaction.atomic():
        frame_ingest(device=device, sequence=5, captured_at=timezone.now(), data=FRAME)
    assert frames_of(registered.camera) == []
    assert stored_files(media_root) == []
    monkeypatch.undo()
    # The same upload again goes through as new.
    assert upload(registered.client(), 5, FRAME).status_code == 202
    assert len(stored_files(media_root)) == 1
