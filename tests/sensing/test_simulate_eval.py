"""End to end: ``manage.py sensing_simulate`` writes a recording, ``manage.py sensing_eval`` scores it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

METRICS = {
    "event_precision", "event_recall", "event_f1", "quantity_exact", "units_mae", "wrong_product_precision",
    "wrong_product_recall", "alert_precision", "alert_recall", "face_blur_recall", "ms_per_frame_p50",
    "ms_per_frame_p95",
}  # fmt: skip


@pytest.mark.slow
def test_simulate_then_eval_reports_every_metric(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    call_command("sensing_simulate", str(out), "--minutes", "1", "--seed", "21", stdout=io.StringIO())
    cameras = json.loads((out / "cameras.json").read_text())
    frames = json.loads((out / "frames.json").read_text())
    truth = json.loads((out / "truth.json").read_text())
    assert cameras[0]["width"] == 1280
    assert cameras[0]["slots"]
    assert (out / cameras[0]["reference"]).is_file()
    assert len(frames) == 120
    assert all((out / f["file"]).is_file() for f in frames)
    assert truth["events"]
    assert truth["units"]
    assert truth["faces"]
    stdout = io.StringIO()
    call_command("sensing_eval", str(out), "--json", stdout=stdout)
    metrics = json.loads(stdout.getvalue())
    assert set(metrics) >= METRICS
    # Measured 1.0 (F1, quantity) and 0.037 (units MAE) on this seed; the floors leave a margin.
    assert metrics["event_f1"] >= 0.9
    assert metrics["quantity_exact"] >= 0.9
    assert metrics["units_mae"] <= 0.3
    assert metrics["face_blur_recall"] == 1.0
    assert metrics["alert_flaps"] == 0
    table = io.StringIO()
    call_command("sensing_eval", str(out), stdout=table)
    assert "event_f1" in table.getvalue()
    assert "ms_per_frame_p95" in table.getvalue()


def test_eval_refuses_a_folder_that_is_not_a_recording(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"no cameras\.json"):
        call_command("sensing_eval", str(tmp_path))


def test_simulate_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="exists and is not an empty folder"):
        call_command("sensing_simulate", str(tmp_path), "--minutes", "1")
    with pytest.raises(CommandError, match=r"--minutes"):
        call_command("sensing_simulate", str(tmp_path / "new"), "--minutes", "0")
    assert (tmp_path / "keep.txt").read_text() == "mine"
    assert not (tmp_path / "new").exists()
