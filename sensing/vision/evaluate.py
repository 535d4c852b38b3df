"""Run the production pipeline over a recording folder (shared/sensing-dataset.md) and score it.

No HTTP, no Celery: each camera's frames go through ``frame_process`` in capture order, exactly as
the workers run them, and the results are matched against ``truth.json`` when it exists.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from sensing.vision.model import camera_model_build, camera_state_initial
from sensing.vision.pipeline import frame_process
from sensing.vision.types import HEALTH_KINDS, AlertChange, Calibration, CameraModel, SlotSpec

EVENT_WINDOW_S = 5.0
ALERT_SLACK_S = 3.0  # a detected alert interval matches a true one it overlaps, give or take this
FACE_COVERAGE = 0.8


def calibrations_load(folder: Path) -> list[Calibration]:
    """The calibrations of ``folder/cameras.json`` with their reference frames decoded."""
    folder = Path(folder)
    rows = json.loads((folder / "cameras.json").read_text())
    calibrations = []
    for row in rows:
        reference = cv2.imread(str(folder / row["reference"]), cv2.IMREAD_COLOR)
        if reference is None:
            raise ValueError(f"camera {row['camera']}: cannot read the reference {row['reference']}")
        slots = [
            SlotSpec(
                slot=s["slot"],
                product=s["product"],
                polygon=[(int(x), int(y)) for x, y in s["polygon"]],
                capacity=int(s["capacity"]),
                initial_units=int(s["initial_units"]),
            )
            for s in row["slots"]
        ]
        calibrations.append(
            Calibration(
                camera=row["camera"], width=row["width"], height=row["height"], reference=reference, slots=slots
            )
        )
    return calibrations


@dataclass
class Run:
    """What the pipeline produced over a recording."""

    events: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)  # intervals
    units: dict[tuple[str, str], list[tuple[float, int]]] = field(default_factory=dict)
    blur: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)  # file -> blurred boxes
    ms_per_frame: list[float] = field(default_factory=list)
    cpu_ms_per_frame: list[float] = field(default_factory=list)  # this thread's CPU time: immune to a busy machine
    flaps: int = 0


def recording_run(folder: Path, *, keep_blur_for: set[str] | None = None) -> Run:
    """Process every frame of ``folder`` in capture order (one thread, as the timing target says)."""
    folder = Path(folder)
    cv2.setNumThreads(1)
    models: dict[str, CameraModel] = {c.camera: camera_model_build(c) for c in calibrations_load(folder)}
    states = {camera: camera_state_initial(model) for camera, model in models.items()}
    frames = json.loads((folder / "frames.json").read_text())
    run = Run()
    open_alerts: dict[tuple[str, str, str | None], float] = {}
    cleared_at: dict[tuple[str, str, str | None], float] = {}
    last_t: dict[str, float] = {}
    for row in frames:
        camera = row["camera"]
        image = cv2.imread(str(folder / row["file"]), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read {row['file']}")
        started, started_cpu = time.perf_counter(), time.thread_time()
        result = frame_process(models[camera], states[camera], image, float(row["t"]))
        run.ms_per_frame.append((time.perf_counter() - started) * 1000)
        run.cpu_ms_per_frame.append((time.thread_time() - started_cpu) * 1000)
        states[camera] = result.state
        last_t[camera] = float(row["t"])
        for event in result.events:
            run.events.append(
                {"camera": camera, "slot": event.slot, "kind": event.kind, "quantity": event.quantity, "t": event.t,
                 "confidence": event.confidence}
            )  # fmt: skip
        for name, units in result.units.items():
            series = run.units.setdefault((camera, name), [])
            if not series or series[-1][1] != units:
                series.append((float(row["t"]), units))
        _alerts_track(run, camera, result.alerts, open_alerts, cleared_at)
        if keep_blur_for is None or row["file"] in keep_blur_for:
            run.blur[row["file"]] = list(result.blurred_boxes)
    for (camera, kind, slot), start in open_alerts.items():
        run.alerts.append(
            {"camera": camera, "kind": kind, "slot": slot, "t_start": start, "t_end": last_t.get(camera, start)}
        )
    return run


# Open alerts and when alerts were last cleared, by (camera, kind, slot).
_AlertTimes = dict[tuple[str, str, str | None], float]


def _alerts_track(
    run: Run, camera: str, changes: list[AlertChange], open_alerts: _AlertTimes, cleared_at: _AlertTimes
) -> None:
    for change in changes:
        key = (camera, change.kind, change.slot)
        if change.is_active:
            # An alert raised again within 10 s of being cleared is flapping.
            if key in cleared_at and change.t - cleared_at[key] < 10.0:
                run.flaps += 1
            open_alerts[key] = change.t
        elif key in open_alerts:
            run.alerts.append(
                {
                    "camera": camera,
                    "kind": change.kind,
                    "slot": change.slot,
                    "t_start": open_alerts.pop(key),
                    "t_end": change.t,
                }
            )
            cleared_at[key] = change.t


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _events_match(truth: list[dict], found: list[dict]) -> list[tuple[dict, dict]]:
    """Greedy one-to-one matching by closeness in time: same camera, slot and kind within 5 s."""
    pairs = []
    for true in truth:
        for candidate in found:
            if (candidate["camera"], candidate["slot"], candidate["kind"]) == (
                true["camera"],
                true["slot"],
                true["kind"],
            ):
                gap = abs(candidate["t"] - true["t"])
                if gap <= EVENT_WINDOW_S:
                    pairs.append((gap, id(true), id(candidate), true, candidate))
    pairs.sort(key=lambda p: p[0])
    used_true: set[int] = set()
    used_found: set[int] = set()
    matched = []
    for _, true_id, found_id, true, candidate in pairs:
        if true_id in used_true or found_id in used_found:
            continue
        used_true.add(true_id)
        used_found.add(found_id)
        matched.append((true, candidate))
    return matched


def _intervals_match(truth: list[dict], found: list[dict]) -> tuple[int, int]:
    """(true intervals hit, found intervals that hit a true one) with the same camera and kind/slot."""

    def overlaps(a: dict, b: dict) -> bool:
        return a["t_start"] - ALERT_SLACK_S <= b["t_end"] and b["t_start"] <= a["t_end"] + ALERT_SLACK_S

    hit_truth = sum(any(overlaps(t, f) for f in found if _same(t, f)) for t in truth)
    hit_found = sum(any(overlaps(t, f) for t in truth if _same(t, f)) for f in found)
    return hit_truth, hit_found


def _same(a: dict, b: dict) -> bool:
    return all(a.get(k) == b.get(k) for k in ("camera", "kind", "slot") if k in a and k in b)


def _units_at(series: list[tuple[float, int]], t: float) -> int | None:
    value = None
    for at, units in series:
        if at > t:
            break
        value = units
    return value


def _coverage(box: list[int], blurred: list[tuple[int, int, int, int]], width: int, height: int) -> float:
    x, y, w, h = box
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
    if x1 <= x0 or y1 <= y0:
        return 1.0
    mask = np.zeros((y1 - y0, x1 - x0), bool)
    for bx, by, bw, bh in blurred:
        mask[max(by - y0, 0) : max(by + bh - y0, 0), max(bx - x0, 0) : max(bx + bw - x0, 0)] = True
    return float(mask.mean())


def _quantile(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    if q == 0.5:
        return round(statistics.median(samples), 2)
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def recording_evaluate(folder: Path) -> dict[str, object]:
    """Every metric of shared/sensing-dataset.md for the recording in ``folder``."""
    folder = Path(folder)
    truth_path = folder / "truth.json"
    truth = json.loads(truth_path.read_text()) if truth_path.exists() else None
    face_files = {f["file"] for f in truth["faces"]} if truth else set()
    run = recording_run(folder, keep_blur_for=face_files)
    metrics: dict[str, object] = {
        "frames": len(run.ms_per_frame),
        "ms_per_frame_p50": _quantile(run.ms_per_frame, 0.5),
        "ms_per_frame_p95": _quantile(run.ms_per_frame, 0.95),
        "cpu_ms_per_frame_p50": _quantile(run.cpu_ms_per_frame, 0.5),
        "cpu_ms_per_frame_p95": _quantile(run.cpu_ms_per_frame, 0.95),
    }
    if truth is None:
        return metrics
    matched = _events_match(truth["events"], run.events)
    precision = _ratio(len(matched), len(run.events))
    recall = _ratio(len(matched), len(truth["events"]))
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision and recall else 0.0
    errors = []
    for row in truth["units"]:
        estimate = _units_at(run.units.get((row["camera"], row["slot"]), []), row["t"])
        if estimate is not None:
            errors.append(abs(estimate - row["units"]))
    wrong_found = [a for a in run.alerts if a["kind"] == "wrong_product"]
    wrong_hit_truth, wrong_hit_found = _intervals_match(truth["wrong_product"], wrong_found)
    health_found = [a for a in run.alerts if a["kind"] in HEALTH_KINDS]
    health_truth = [a for a in truth["alerts"] if a["kind"] in HEALTH_KINDS]
    alert_hit_truth, alert_hit_found = _intervals_match(health_truth, health_found)
    sizes = {c["camera"]: (c["width"], c["height"]) for c in json.loads((folder / "cameras.json").read_text())}
    covered = [
        _coverage(face["box"], run.blur.get(face["file"], []), *sizes[face["camera"]]) >= FACE_COVERAGE
        for face in truth["faces"]
    ]
    metrics.update(
        {
            "event_precision": precision,
            "event_recall": recall,
            "event_f1": f1,
            "quantity_exact": _ratio(sum(t["quantity"] == f["quantity"] for t, f in matched), len(matched)),
            "units_mae": round(sum(errors) / len(errors), 4) if errors else None,
            "wrong_product_precision": _ratio(wrong_hit_found, len(wrong_found)),
            "wrong_product_recall": _ratio(wrong_hit_truth, len(truth["wrong_product"])),
            "alert_precision": _ratio(alert_hit_found, len(health_found)),
            "alert_recall": _ratio(alert_hit_truth, len(health_truth)),
            "face_blur_recall": _ratio(sum(covered), len(covered)),
            "alert_flaps": run.flaps,
            "events_true": len(truth["events"]),
            "events_found": len(run.events),
        }
    )
    order = [
        "event_precision", "event_recall", "event_f1", "quantity_exact", "units_mae", "wrong_product_precision",
        "wrong_product_recall", "alert_precision", "alert_recall", "face_blur_recall", "ms_per_frame_p50",
        "ms_per_frame_p95", "cpu_ms_per_frame_p50", "cpu_ms_per_frame_p95", "alert_flaps", "events_true", "events_found", "frames",
    ]  # fmt: skip
    return {key: metrics[key] for key in order}


def mismatches(folder: Path) -> dict[str, list]:
    """For tuning: true events missed and found events unmatched, with their neighbours."""
    folder = Path(folder)
    truth = json.loads((folder / "truth.json").read_text())
    run = recording_run(folder, keep_blur_for=set())
    matched = _events_match(truth["events"], run.events)
    true_ids = {id(t) for t, _ in matched}
    found_ids = {id(f) for _, f in matched}
    by_slot = defaultdict(list)
    for f in run.events:
        by_slot[(f["camera"], f["slot"])].append(f)
    return {
        "missed": [t for t in truth["events"] if id(t) not in true_ids],
        "spurious": [f for f in run.events if id(f) not in found_ids],
        "quantity_wrong": [(t, f) for t, f in matched if t["quantity"] != f["quantity"]],
        "alerts": [a for a in run.alerts if a["kind"] in HEALTH_KINDS],
        "truth_alerts": truth["alerts"],
    }
