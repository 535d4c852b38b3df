"""Shelf-camera pipeline speed: per-frame time at 1280x720 on one thread, and cameras per core.

    .venv/bin/python bench/sensing.py [--minutes 2] [--seed 77] [--json] [--skip-latency]

Generates a recording (``sensing.vision.simulate``, not one of the tuning seeds), then in the same
run and on the same JPEG frames times a bare ``cv2.imdecode`` (the baseline) and ``frame_process``,
both with ``cv2.setNumThreads(1)``. A worker's cost per frame is decode + pipeline + JPEG encode of
the redacted frame + state round trip; cameras at one frame a second are measured by running one
and two worker processes flat out over the frames (not derived from a single timing). If
``bench/_sensing_latency.py`` is present, its frame-to-event latency through the real API, Redis
and Celery workers is included, with the ingest floor measured in the same run (the same frames
to a minimal view doing only the necessary SQL: bench/floor_views.py); otherwise that part is
reported as not measured.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import p, report

FRAME_BUDGET_MS = 40.0


def _frames(folder: Path) -> tuple[object, list[tuple[bytes, float]]]:
    from sensing.vision.evaluate import calibrations_load

    [calibration] = calibrations_load(folder)
    rows = json.loads((folder / "frames.json").read_text())
    return calibration, [((folder / r["file"]).read_bytes(), float(r["t"])) for r in rows]


def _timings(folder: Path) -> dict[str, list[float]]:
    """Per-frame milliseconds of each step, all in this process on one thread."""
    import cv2
    import numpy as np

    from sensing.vision import CameraState, camera_model_build, camera_state_initial, frame_process

    cv2.setNumThreads(1)
    calibration, frames = _frames(folder)
    model = camera_model_build(calibration)  # type: ignore[arg-type]
    state = camera_state_initial(model)
    out: dict[str, list[float]] = {"decode": [], "pipeline": [], "encode": [], "state": []}
    for data, t in frames:
        started = time.perf_counter()
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        decoded = time.perf_counter()
        result = frame_process(model, state, image, t)
        processed = time.perf_counter()
        cv2.imencode(".jpg", result.redacted, [cv2.IMWRITE_JPEG_QUALITY, 85])
        encoded = time.perf_counter()
        state = CameraState.from_bytes(result.state.to_bytes())
        stored = time.perf_counter()
        out["decode"].append((decoded - started) * 1000)
        out["pipeline"].append((processed - decoded) * 1000)
        out["encode"].append((encoded - processed) * 1000)
        out["state"].append((stored - encoded) * 1000)
    return out


def _worker(folder: str, seconds: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """One worker process: decode, process, encode and round-trip state, flat out, for ``seconds``."""
    import cv2
    import numpy as np

    from sensing.vision import CameraState, camera_model_build, camera_state_initial, frame_process

    cv2.setNumThreads(1)
    calibration, frames = _frames(Path(folder))
    model = camera_model_build(calibration)  # type: ignore[arg-type]
    state = camera_state_initial(model)
    done = 0
    started = time.perf_counter()
    offset = 0.0
    while time.perf_counter() - started < seconds:
        for data, t in frames:
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            result = frame_process(model, state, image, t + offset)
            cv2.imencode(".jpg", result.redacted, [cv2.IMWRITE_JPEG_QUALITY, 85])
            state = CameraState.from_bytes(result.state.to_bytes())
            done += 1
            if time.perf_counter() - started >= seconds:
                break
        offset += frames[-1][1] + 1.0
    queue.put(done / (time.perf_counter() - started))


def _throughput(folder: Path, processes: int, seconds: float) -> float:
    """Frames per second that ``processes`` worker processes get through together."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_worker, args=(str(folder), seconds, queue)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    rates = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    return sum(rates)


def _latency() -> dict[str, object] | None:
    if not (Path(__file__).resolve().parent / "_sensing_latency.py").exists():
        return None
    import _sensing_latency  # type: ignore[import-not-found]

    return _sensing_latency.run()  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=77)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each throughput run lasts")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-latency", action="store_true", help="do not run the API + Celery latency part")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    from sensing.vision.simulate import simulate

    with tempfile.TemporaryDirectory(prefix="sensing-bench-") as tmp:
        folder = Path(tmp)
        simulate(folder, minutes=args.minutes, seed=args.seed, cameras=1)
        times = _timings(folder)
        one = _throughput(folder, 1, args.seconds)
        two = _throughput(folder, 2, args.seconds)
    decode, pipeline = times["decode"], times["pipeline"]
    worker = [sum(step) for step in zip(*times.values(), strict=True)]
    rows: list[dict[str, object]] = [
        {"case": "bare JPEG decode 1280x720 (baseline)", "frames": len(decode), "p50_ms": round(p(decode, 50), 2),
         "p95_ms": round(p(decode, 95), 2), "ratio_p95_vs_decode": 1.0, "target": "-"},
        {"case": "frame_process 1280x720, one thread", "frames": len(pipeline), "p50_ms": round(p(pipeline, 50), 2),
         "p95_ms": round(p(pipeline, 95), 2), "ratio_p95_vs_decode": round(p(pipeline, 95) / p(decode, 95), 2),
         "target": f"p95 <= {FRAME_BUDGET_MS:.0f} ms"},
        {"case": "worker step: decode + pipeline + redacted JPEG + state bytes", "frames": len(worker),
         "p50_ms": round(p(worker, 50), 2), "p95_ms": round(p(worker, 95), 2),
         "ratio_p95_vs_decode": round(p(worker, 95) / p(decode, 95), 2), "target": "-"},
    ]  # fmt: skip
    capacity = [
        {"case": "cameras at 1 frame/s, one core (measured)", "frames_per_s": round(one, 1), "cameras": int(one),
         "target": "-"},
        {"case": "cameras at 1 frame/s, two cores (measured)", "frames_per_s": round(two, 1), "cameras": int(two),
         "target": ">= 20"},
    ]  # fmt: skip
    latency = None if args.skip_latency else _latency()
    result = {
        "bench": "sensing",
        "machine_cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "pipeline_mean_ms": round(statistics.mean(pipeline), 2),
        "rows": rows,
        "capacity": capacity,
        "latency": latency if latency is not None else "not measured",
    }
    if args.json:
        print(json.dumps(result))
        return
    report("per frame, one thread", rows, as_json=False)
    print()
    report("cameras kept up with", capacity, as_json=False)
    print()
    if latency is None:
        print("frame-to-event latency through API, Redis and Celery: not measured"
              + (" (--skip-latency)" if args.skip_latency else " (bench/_sensing_latency.py absent)"))  # fmt: skip
    else:
        report("frame-to-event latency through API, Redis and Celery", [latency], as_json=False)
    print(f"\n{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (other work on the machine skews these)")


if __name__ == "__main__":
    main()
