"""The pipeline over a short generated recording: every shelf event found, exactly, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sensing.vision.evaluate import _events_match, recording_run
from sensing.vision.simulate import simulate


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("recording")
    # Seed 11, 90 s: takes of 1-3 units, put-backs, a restock, passers-by with faces, a camera shift.
    simulate(folder, minutes=1.5, seed=11)
    return folder, json.loads((folder / "truth.json").read_text())


def test_detected_events_are_exactly_the_true_ones(recording) -> None:  # type: ignore[no-untyped-def]
    folder, truth = recording
    run = recording_run(folder)
    assert {e["kind"] for e in truth["events"]} == {"take", "put_back", "restock"}
    matched = _events_match(truth["events"], run.events)
    assert len(matched) == len(truth["events"]) == len(run.events)
    for true, found in matched:
        assert (found["slot"], found["kind"], found["quantity"]) == (true["slot"], true["kind"], true["quantity"])
        # Reported when the scene settled after the hand left: at or just after the true time.
        assert true["t"] - 0.5 <= found["t"] <= true["t"] + 2.0
    # The camera shift in the recording is one "moved" alert over the right interval.
    [moved] = [a for a in truth["alerts"] if a["kind"] == "moved"]
    found_moved = [a for a in run.alerts if a["kind"] == "moved"]
    assert len(found_moved) == 1
    assert abs(found_moved[0]["t_start"] - moved["t_start"]) <= 1.5
    assert abs(found_moved[0]["t_end"] - moved["t_end"]) <= 1.5
    assert run.flaps == 0
    # Units at the end agree with the truth for every slot.
    last = {}
    for row in truth["units"]:
        last[row["slot"]] = row["units"]
    assert {slot: series[-1][1] for (_, slot), series in run.units.items()} == last
