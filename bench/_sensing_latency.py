"""Frame-to-event latency and camera throughput through the real ingest API, Redis and Celery workers.

``run()`` returns the figures as a dict (bench/sensing.py prints them):

* 20 cameras (configurable), each calibrated on a generated shelf (``sensing.vision.simulate``),
  upload one frame a second each for ``seconds`` seconds over HTTP to the device API
  (``POST /api/v1/sensing/frames``) served by gunicorn as in the Procfile (2 × 4 threads);
* real ``celery worker`` processes on the ``sensing`` queue (Redis from CELERY_BROKER_URL)
  process them with the production pipeline;
* latency of a frame = its row's ``processed_at`` (set in the processing transaction, which
  commits right after) minus ``received_at`` (set by the ingest view); event latency is the
  same for the frames that produced a shelf event;
* throughput = frames processed per second while the cameras send; ``drain_s`` = how long the
  workers still needed after the last upload (a machine that keeps up drains in about a frame time);
* baseline, measured in this run on the same frames: the bare pipeline (``frame_process``) in
  this process, one thread, and a bare JPEG decode;
* the ingest floor, in the same run on the same server: the cameras then send the same frames to a
  minimal view that only finds the device, checks and stores the JPEG, inserts its row and enqueues
  its task (bench/floor_views.py, mounted by bench/floor_settings.py's URL conf and nowhere else);
  ``x_floor_ingest_p95`` is the floor's p95 over the real endpoint's (1.0: at the floor).

Needs DATABASE_URL (the app's role; run through ``python -m config.database run --``) and
CELERY_BROKER_URL pointing at Redis.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import django_setup, p


def _setup() -> None:
    """A migrated scratch database (test_lingshou_sensing_bench) unless Django is already set up."""
    from django.apps import apps

    if apps.ready:
        return
    from config.database import url_with

    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is not set: run through `python -m config.database run -- ...`.")
    os.environ["DATABASE_URL"] = url_with(url, database="lingshou_sensing_bench")
    django_setup("config.settings.test")
    from django.test.utils import setup_databases

    setup_databases(verbosity=0, interactive=False, keepdb=True)


def _env(media_root: str) -> dict[str, str]:
    from django.db import connection

    from config.database import url_with

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url_with(os.environ["DATABASE_URL"], database=connection.settings_dict["NAME"]),
        "MEDIA_ROOT": media_root,
    }


def _worker(media_root: str, concurrency: int) -> subprocess.Popen[bytes]:
    celery = Path(sys.executable).parent / "celery"
    return subprocess.Popen(
        [str(celery), "-A", "config", "worker", "--pool", "prefork", "--concurrency", str(concurrency),
         "--queues", "sensing", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        env=_env(media_root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _web(media_root: str, port: int) -> subprocess.Popen[bytes]:
    """gunicorn as the Procfile runs it (2 processes × 4 threads), on loopback."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
        [str(gunicorn), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
         "--workers", "2", "--threads", "4", "--timeout", "60"],
        # The test settings, with the floor endpoints mounted after the real routes.
        env={
            **_env(media_root), "API_THROTTLE_USER": "100000/min", "DJANGO_SETTINGS_MODULE": "bench.floor_settings",
            "FLOOR_BASE_SETTINGS": "config.settings.test",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def _cameras(count: int, recording: Path) -> tuple[Any, list[tuple[Any, str]]]:
    """A merchant with one store, its assortment, and ``count`` cameras calibrated on the recording."""
    from catalog.models import StoreProduct
    from merchants.models import Merchant, Wholesaler
    from merchants.services import store_create
    from merchants.tenancy import merchant_context, platform_access
    from sensing.services.cameras import SlotInput, camera_calibrate, camera_register

    stamp = str(int(time.time() * 1000))[-9:]
    with platform_access(reason="bench: sensing set-up", actor="bench"):
        wholesaler, _ = Wholesaler.objects.get_or_create(slug="bench-sensing", defaults={"name": "Bench wholesale"})
        merchant = Merchant.objects.create(name=f"Bench {stamp}", slug=f"bench-sensing-{stamp}", wholesaler=wholesaler)
    store = store_create(merchant=merchant, name="Bench store")
    [calibration] = json.loads((recording / "cameras.json").read_text())
    with merchant_context(merchant.pk):
        products = [
            StoreProduct.objects.create(merchant=merchant, store=store, local_name=f"Product {slot['slot']}", price=100)
            for slot in calibration["slots"]
        ]
    reference = (recording / calibration["reference"]).read_bytes()
    cameras = []
    for index in range(count):
        camera, token = camera_register(merchant=merchant, store_id=store.pk, name=f"Camera {index + 1}")
        camera_calibrate(
            merchant=merchant,
            camera_id=camera.pk,
            reference=reference,
            slots=[
                SlotInput(
                    key=slot["slot"],
                    store_product_id=products[i].pk,
                    polygon=slot["polygon"],
                    capacity=slot["capacity"],
                    units=slot["initial_units"],
                )
                for i, slot in enumerate(calibration["slots"])
            ],
        )
        cameras.append((camera, token))
    return merchant, cameras


def _baseline(recording: Path, frames: list[bytes]) -> dict[str, float]:
    """Bare JPEG decode and the bare pipeline, one thread, on the same frames."""
    import cv2
    import numpy as np

    from sensing.vision.evaluate import calibrations_load
    from sensing.vision.model import camera_model_build, camera_state_initial
    from sensing.vision.pipeline import frame_process

    decode, pipeline = [], []
    [calibration] = calibrations_load(recording)
    model = camera_model_build(calibration)
    state = camera_state_initial(model)
    for t, data in enumerate(frames):
        started = time.perf_counter()
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        decode.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        state = frame_process(model, state, image, float(t)).state
        pipeline.append((time.perf_counter() - started) * 1000)
    return {
        "decode_ms_p50": round(statistics.median(decode), 2),
        "pipeline_ms_p50": round(statistics.median(pipeline), 2),
        "pipeline_ms_p95": round(p(pipeline, 95), 2),
    }


def run(
    *, cameras: int = 20, seconds: int = 60, fps: float = 1.0, concurrency: int = 2, floor: bool = True
) -> dict[str, Any]:
    """Send ``cameras`` × ``fps`` frames a second for ``seconds`` s through API, Redis and workers; return the figures.

    ``floor``: then the same frames to the ingest floor, for its figures in the same run.
    """
    _setup()
    from django.conf import settings
    from django.utils import timezone

    from config.celery import app
    from merchants.tenancy import merchant_context
    from sensing.models import CameraCursor, Frame, ShelfEvent
    from sensing.vision.simulate import simulate

    with tempfile.TemporaryDirectory(prefix="lingshou-sensing-bench-") as scratch:
        recording = Path(scratch) / "recording"
        simulate(recording, minutes=seconds / 60, seed=4242, cameras=1, fps=fps)
        frame_rows = json.loads((recording / "frames.json").read_text())
        frames = [(recording / row["file"]).read_bytes() for row in frame_rows][: int(seconds * fps)]
        baseline = _baseline(recording, frames)
        media_root = str(Path(scratch) / "media")
        settings.MEDIA_ROOT = media_root
        merchant, registered = _cameras(cameras, recording)
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("sensing")
        port = _free_port()
        web = _web(media_root, port)
        workers = _worker(media_root, concurrency)
        ingest_ms: list[float] = []
        floor_ms: list[float] = []
        sessions = {token: requests.Session() for _, token in registered}
        for token, session in sessions.items():
            session.headers["Authorization"] = f"Device {token}"

        def upload(token: str, sequence: int, data: bytes, *, path: str = "/api/v1/sensing/frames") -> None:
            started = time.perf_counter()
            response = sessions[token].post(
                f"http://127.0.0.1:{port}{path}",
                data={"sequence": str(sequence), "captured_at": timezone.now().isoformat()},
                files={"image": ("f.jpg", data, "image/jpeg")},
                timeout=30,
            )
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 202, response.text[:500]
            (ingest_ms if path.startswith("/api/") else floor_ms).append(elapsed)

        try:
            _wait_http(f"http://127.0.0.1:{port}/healthz")
            # Warm both web processes up (imports, first queries) with a heartbeat from every camera.
            for session in sessions.values():
                for _ in range(2):
                    session.post(f"http://127.0.0.1:{port}/api/v1/sensing/heartbeat", timeout=30)
            time.sleep(2)  # let the worker connect before the clock starts
            started = time.monotonic()

            def send_all(start: float, *, first: int = 0, path: str = "/api/v1/sensing/frames") -> None:
                """One thread per camera, sending its frames in order like an agent; cameras are not
                synchronised: camera i sends i/20 of a second after camera 0."""
                failures: list[BaseException] = []

                def camera_loop(index: int, token: str) -> None:
                    try:
                        for sequence, data in enumerate(frames):
                            time.sleep(max(0.0, start + (sequence + index / cameras) / fps - time.monotonic()))
                            upload(token, first + sequence, data, path=path)
                    except BaseException as error:  # noqa: BLE001 - reported below
                        failures.append(error)

                threads = [threading.Thread(target=camera_loop, args=item) for item in enumerate(sessions)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                if failures:
                    raise failures[0]

            send_all(started)
            sent_at = time.monotonic()
            last = len(frames) - 1

            def behind() -> int:
                with merchant_context(merchant.pk):
                    return CameraCursor.objects.filter(camera__merchant=merchant, sequence__lt=last).count()

            deadline = time.monotonic() + 120
            while behind() and time.monotonic() < deadline:
                time.sleep(0.1)
            drained_at = time.monotonic()
            if floor:
                # The same frames again, as later sequences, to the floor; the workers process them as well.
                send_all(time.monotonic() + 0.5, first=len(frames), path="/floor/sensing/frames")
        finally:
            for process in (workers, web):
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        with merchant_context(merchant.pk):
            # The real endpoint's frames; the floor's came after them (their sequences follow).
            rows = list(
                Frame.objects.filter(merchant=merchant, sequence__lt=len(frames)).values_list(
                    "received_at", "processed_at", "pk"
                )
            )
            event_frames = set(ShelfEvent.objects.filter(merchant=merchant).values_list("frame_id", flat=True))
        processed = [(done - received).total_seconds() for received, done, _ in rows if done is not None]
        events = [(done - received).total_seconds() for received, done, pk in rows if done and pk in event_frames]
        total = len(frames) * cameras
        return {
            "cameras": cameras,
            "fps_per_camera": fps,
            "seconds": seconds,
            "frames_sent": total,
            "frames_processed": len(processed),
            "events": len(events),
            "ingest_ms_p50": round(statistics.median(ingest_ms), 1),
            "ingest_ms_p95": round(p(ingest_ms, 95), 1),
            "ingest_floor_ms_p50": round(statistics.median(floor_ms), 1) if floor_ms else None,
            "ingest_floor_ms_p95": round(p(floor_ms, 95), 1) if floor_ms else None,
            "x_floor_ingest_p95": round(p(floor_ms, 95) / p(ingest_ms, 95), 3) if floor_ms else None,
            "frame_latency_s_p50": round(statistics.median(processed), 3) if processed else None,
            "frame_latency_s_p95": round(p(processed, 95), 3) if processed else None,
            "event_latency_s_p50": round(statistics.median(events), 3) if events else None,
            "event_latency_s_p95": round(p(events, 95), 3) if events else None,
            "offered_fps": round(total / max(sent_at - started, 1e-9), 2),
            "throughput_fps": round(len(processed) / max(drained_at - started, 1e-9), 2),
            "drain_s": round(drained_at - sent_at, 2),
            "keeps_up": len(processed) == total and drained_at - sent_at < 5,
            **baseline,
            "x_event_p95_vs_pipeline_p50": round(p(events, 95) * 1000 / baseline["pipeline_ms_p50"], 1)
            if events
            else None,
        }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    figures = run(cameras=arguments.cameras, seconds=arguments.seconds)
    if arguments.json:
        print(json.dumps({"bench": "sensing_latency", **figures}))
    else:
        for key, value in figures.items():
            print(f"{key:32} {value}")
