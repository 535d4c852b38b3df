"""Real Celery workers on Redis: every frame processed exactly once and in order, through worker kills."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from sensing.models import Alert, CameraCursor, Frame, FrameStatus, ShelfEvent
from tests.sensing.conftest import TAKES, camera_make, oracle_events, scene_frames, upload
from tests.worker import celery_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_frames_are_processed_once_in_order_when_workers_die_mid_frame(
    merchant: Merchant, store: Store, media_root: Path, tmp_path: Path
) -> None:
    registered = camera_make(merchant, store)
    camera = registered.camera
    frames = scene_frames(TAKES, first=timezone.now() - timedelta(seconds=60))
    # What the pure pipeline finds on these frames, run once in order in this process.
    want = oracle_events(registered, frames)
    assert [(slot, kind, quantity) for slot, kind, quantity, _ in want] == [("s1", "take", 1), ("s2", "take", 2)]
    # The workers are killed inside the transactions of the two frames that carry the events.
    first_kill, second_kill = (sequence for *_, sequence in want)
    pause = tmp_path / "pause"
    pause.mkdir()
    # The worker runs with tests/sensing/worker_pause.py loaded: it holds these frames' transactions open.
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.sensing.worker_settings",
        "MEDIA_ROOT": str(media_root),
        "SENSING_TEST_PAUSE_DIR": str(pause),
        "SENSING_TEST_PAUSE_SEQUENCES": f"{first_kill},{second_kill}",
        "SENSING_TEST_PAUSE_SECONDS": "120",
    }

    def send(sequences: range) -> None:
        for sequence in sequences:
            data, captured_at = frames[sequence]
            response = upload(registered.client(), sequence, data, captured_at=captured_at)
            assert response.status_code == 202, response.content

    def cursor() -> CameraCursor:
        with merchant_context(merchant.pk):
            return CameraCursor.objects.get(camera=camera)

    def marker(sequence: int) -> Path:
        return pause / f"{camera.pk}-{sequence}"

    # Two pool processes: tasks for the same camera race and must still take frames one by one.
    with celery_worker(extra_env=env, queues="sensing", concurrency=2) as worker:
        send(range(first_kill + 3))
        # The event's frame is written (event, units, cursor) but not committed when its process is killed.
        assert wait_for(lambda: marker(first_kill).exists(), timeout=90), worker.stderr
        os.kill(int(marker(first_kill).read_text()), signal.SIGKILL)
        # acks_late + reject_on_worker_lost: the task comes back at once and resumes at that frame.
        assert wait_for(lambda: cursor().sequence == first_kill + 2, timeout=90)
        send(range(first_kill + 3, second_kill + 1))
        assert wait_for(lambda: marker(second_kill).exists(), timeout=90)
        # Now the whole worker dies in the middle of the second event's frame: pool child and parent.
        os.kill(int(marker(second_kill).read_text()), signal.SIGKILL)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    assert cursor().sequence == second_kill - 1
    # Another worker takes over; the killed worker's task stays with the broker until its visibility
    # timeout, so it is the next frames' tasks that pick that frame up again.
    with celery_worker(extra_env=env, queues="sensing", concurrency=2, purge=False):
        send(range(second_kill + 1, len(frames)))
        assert wait_for(lambda: cursor().sequence == len(frames) - 1, timeout=90)

    final = cursor()
    # Each committed frame bumps the count once: a frame processed twice would show here.
    assert final.processed_frames == len(frames)
    with merchant_context(merchant.pk):
        rows = list(Frame.objects.filter(camera=camera).order_by("sequence"))
        events = list(
            ShelfEvent.objects.filter(camera=camera)
            .order_by("pk")
            .values_list("slot__key", "kind", "quantity", "sequence")
        )
        assert list(Alert.objects.filter(camera=camera)) == []
    assert [f.sequence for f in rows] == list(range(len(frames)))
    assert {f.status for f in rows} == {FrameStatus.PROCESSED}
    # In capture order: each frame was committed after the one before it.
    processed = [f.processed_at for f in rows]
    assert processed == sorted(processed)
    assert events == want
    assert [f.sequence for f in rows if f.is_evidence] == [first_kill, second_kill]
    stored = sorted(p.name for p in media_root.rglob("*.jpg") if "frames" in p.parts)
    assert stored == [f"{first_kill:012d}-redacted.jpg", f"{second_kill:012d}-redacted.jpg"]
