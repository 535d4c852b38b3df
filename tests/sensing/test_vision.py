"""The framework-free shelf pipeline (sensing.vision) on frames rendered by the scene generator."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from sensing.vision import (
    Calibration,
    CameraState,
    SlotSpec,
    camera_model_build,
    camera_state_initial,
    frame_process,
    pipeline,
)
from sensing.vision.evaluate import _coverage
from sensing.vision.scene import EMPTY, FULL, OTHER, RECESSED, Episode
from sensing.vision.simulate import Recorder, calibration_of, scene_make


@pytest.fixture(scope="module")
def shelf() -> tuple[Recorder, object]:
    recorder = scene_make(3)
    reference, _ = recorder.render(0.0, [])
    return recorder, camera_model_build(calibration_of(recorder.scene, reference))


def _fresh(seed: int = 3):  # type: ignore[no-untyped-def]
    """A scene of its own (tests below change its shelf) and its camera model."""
    recorder = scene_make(seed)
    reference, _ = recorder.render(0.0, [])
    return recorder, camera_model_build(calibration_of(recorder.scene, reference))


def _feed(model, state, frames):  # type: ignore[no-untyped-def]
    results = []
    for t, image in frames:
        result = frame_process(model, state, image, t)
        state = result.state
        results.append(result)
    return state, results


def _still(recorder: Recorder, times: list[float]) -> list[tuple[float, np.ndarray]]:
    return [(t, recorder.render(t, [])[0]) for t in times]


def _alerts(results, kind):  # type: ignore[no-untyped-def]
    return [(a.is_active, a.t) for r in results for a in r.alerts if a.kind == kind]


# Health --------------------------------------------------------------------------------------------


def test_a_normal_frame_is_healthy_and_settled(shelf) -> None:  # type: ignore[no-untyped-def]
    recorder, model = shelf
    _, results = _feed(model, camera_state_initial(model), _still(recorder, [0.5, 1.0, 1.5]))
    assert results[-1].health == {"dark": False, "blurred": False, "moved": False, "blocked": False}
    assert not [a for r in results for a in r.alerts]
    assert results[-1].is_settled
    assert results[-1].events == []


@pytest.mark.parametrize(
    ("kind", "spoil"),
    [
        ("dark", lambda image: cv2.convertScaleAbs(image, alpha=0.15)),
        ("blurred", lambda image: cv2.GaussianBlur(image, (0, 0), 6)),
        ("blocked", lambda image: cv2.rectangle(image.copy(), (0, 0), (880, 720), (90, 110, 100), -1)),
        ("moved", lambda image: cv2.warpAffine(image, np.float32([[1, 0, 40], [0, 1, 18]]), (1280, 720))),
    ],
)
def test_health_problem_raises_its_alert_once_and_clears(shelf, kind, spoil) -> None:  # type: ignore[no-untyped-def]
    recorder, model = shelf
    frames = _still(recorder, [0.5, 1.0])
    frames += [(t, spoil(recorder.render(t, [])[0])) for t in (1.5, 2.0, 2.5, 3.0)]
    frames += _still(recorder, [3.5, 4.0, 4.5])
    _, results = _feed(model, camera_state_initial(model), frames)
    assert _alerts(results, kind) == [(True, 2.0), (False, 4.0)]
    other = [
        a.kind
        for r in results
        for a in r.alerts
        if a.kind != kind and a.kind in ("dark", "blurred", "moved", "blocked")
    ]
    assert other == []
    # While the view is unreliable nothing is judged and the whole frame is blurred (fail closed).
    assert results[3].health[kind]
    assert results[3].blurred_boxes == [(0, 0, 1280, 720)]
    assert all(not r.events for r in results)


@pytest.mark.parametrize("offset", [(3.0, -2.0), (-1.5, 2.5), (25.0, 10.0)])
def test_alignment_recovers_a_known_shift(shelf, offset) -> None:  # type: ignore[no-untyped-def]
    recorder, model = shelf
    image, _ = recorder.render(1.0, [])
    moved = cv2.warpAffine(
        image, np.float32([[1, 0, offset[0]], [0, 1, offset[1]]]), (1280, 720), borderMode=cv2.BORDER_REPLICATE
    )
    result = frame_process(model, camera_state_initial(model), moved, 1.0)
    # The generator jitters every frame (reference included) by up to 1.6 px on each axis.
    assert result.shift[0] == pytest.approx(offset[0], abs=3.5)
    assert result.shift[1] == pytest.approx(offset[1], abs=3.5)


def test_small_jitter_is_absorbed_without_events(shelf) -> None:  # type: ignore[no-untyped-def]
    recorder, model = shelf
    frames = []
    for i, t in enumerate([0.5, 1.0, 1.5, 2.0, 2.5, 3.0]):
        image, _ = recorder.render(t, [], lighting=True)
        dx, dy = (2.0, -1.5) if i % 2 else (-1.5, 2.0)
        frames.append(
            (
                t,
                cv2.warpAffine(
                    image, np.float32([[1, 0, dx], [0, 1, dy]]), (1280, 720), borderMode=cv2.BORDER_REPLICATE
                ),
            )
        )
    _, results = _feed(model, camera_state_initial(model), frames)
    assert not [a for r in results for a in r.alerts]
    assert not [e for r in results for e in r.events]


def test_offline_gap_is_reported_as_an_interval(shelf) -> None:  # type: ignore[no-untyped-def]
    recorder, model = shelf
    _, results = _feed(model, camera_state_initial(model), _still(recorder, [0.5, 1.0, 25.0]))
    assert _alerts(results, "offline") == [(True, 1.0), (False, 25.0)]


# Units, fill and events ----------------------------------------------------------------------------


def test_units_and_fill_come_from_the_calibration_frame() -> None:
    recorder = scene_make(5)
    states = [FULL, EMPTY, RECESSED]
    for index, slot in enumerate(recorder.scene.slots):
        slot.cells = [states[(index + i) % 3] if i else FULL for i in range(len(slot.cells))]
        recorder.scene.draw_slot(slot)
    reference, _ = recorder.render(0.0, [])
    calibration = calibration_of(recorder.scene, reference)
    model = camera_model_build(calibration)
    _, results = _feed(model, camera_state_initial(model), _still(recorder, [0.5, 1.0]))
    expected = {s.name: s.units for s in recorder.scene.slots}
    assert results[-1].units == expected
    assert results[-1].fill == {s.name: s.units / len(s.cells) for s in recorder.scene.slots}
    assert min(expected.values()) < max(len(s.cells) for s in recorder.scene.slots)  # the test means something


def _hand(recorder: Recorder, slot, cells, change, start: float):  # type: ignore[no-untyped-def]
    """Frames of a hand reaching into ``cells`` of ``slot``; ``change`` runs while it covers them."""
    episode = Episode("take", start, start + 2.0, slot, cells)
    frames = [
        (start + 0.5, recorder.render(start + 0.5, [episode])[0]),
        (start + 1.0, recorder.render(start + 1.0, [episode])[0]),
    ]
    change()
    recorder.scene.draw_slot(slot)
    frames.append((start + 1.5, recorder.render(start + 1.5, [episode])[0]))
    frames += _still(recorder, [start + 2.0 + 0.5 * i for i in range(5)])
    return frames


def test_take_put_back_and_restock_become_exact_events() -> None:
    recorder, model = _fresh(3)
    slot = max(recorder.scene.slots, key=lambda s: len(s.cells))
    capacity = len(slot.cells)
    state = camera_state_initial(model)
    state, _ = _feed(model, state, _still(recorder, [0.5, 1.0]))

    def take() -> None:
        slot.cells[0], slot.cells[1] = EMPTY, RECESSED

    state, results = _feed(model, state, _hand(recorder, slot, [0, 1], take, 1.0))
    events = [e for r in results for e in r.events]
    assert [(e.slot, e.kind, e.quantity) for e in events] == [(slot.name, "take", 2)]
    assert 2.5 <= events[0].t <= 4.5
    assert results[-1].units[slot.name] == capacity - 2
    assert events[0].before_crop.shape == events[0].after_crop.shape
    assert events[0].before_crop.ndim == 3
    assert 0.0 <= events[0].confidence <= 1.0

    def put_back() -> None:
        slot.cells[1] = FULL

    state, results = _feed(model, state, _hand(recorder, slot, [1], put_back, 10.0))
    assert [(e.slot, e.kind, e.quantity) for r in results for e in r.events] == [(slot.name, "put_back", 1)]

    def take_more() -> None:
        slot.cells[2] = EMPTY

    state, results = _feed(model, state, _hand(recorder, slot, [2], take_more, 20.0))
    assert [(e.kind, e.quantity) for r in results for e in r.events] == [("take", 1)]

    def restock() -> None:
        slot.cells[0] = slot.cells[2] = FULL

    state, results = _feed(model, state, _hand(recorder, slot, [0, 2], restock, 30.0))
    assert [(e.slot, e.kind, e.quantity) for r in results for e in r.events] == [(slot.name, "restock", 2)]
    assert results[-1].units[slot.name] == capacity
    # Neighbouring slots the arm passed over did not change.
    assert all(results[-1].units[s.name] == s.units for s in recorder.scene.slots)


def test_a_hand_that_leaves_nothing_changed_makes_no_event(shelf) -> None:  # type: ignore[no-untyped-def]
    recorder, model = shelf
    slot = recorder.scene.slots[0]
    _state, results = _feed(model, camera_state_initial(model), _hand(recorder, slot, [0], lambda: None, 1.0))
    assert not [e for r in results for e in r.events]
    assert results[-1].is_settled


def test_another_product_in_a_slot_is_flagged_not_counted() -> None:
    recorder = scene_make(4)
    slot = recorder.scene.slots[1]
    slot.cells[0] = EMPTY  # a gap on the shelf, where a shopper leaves something else
    recorder.scene.draw_slot(slot)
    model = camera_model_build(calibration_of(recorder.scene, recorder.render(0.0, [])[0]))
    units_before = slot.units
    state, _ = _feed(model, camera_state_initial(model), _still(recorder, [0.5]))

    def misplace() -> None:
        slot.cells[0] = OTHER
        slot.other[0] = recorder.scene.others[0]

    def remove() -> None:
        slot.cells[0] = EMPTY

    state, placed = _feed(model, state, _hand(recorder, slot, [0], misplace, 1.0))
    assert placed[-1].wrong_product[slot.name]
    assert ("wrong_product", slot.name, True) in [(a.kind, a.slot, a.is_active) for r in placed for a in r.alerts]
    assert not [e for r in placed for e in r.events]
    assert placed[-1].units[slot.name] == units_before
    state, removed = _feed(model, state, _hand(recorder, slot, [0], remove, 10.0))
    assert not removed[-1].wrong_product[slot.name]
    assert ("wrong_product", slot.name, False) in [(a.kind, a.slot, a.is_active) for r in removed for a in r.alerts]


# Alerts with hysteresis ----------------------------------------------------------------------------


def test_stock_alerts_do_not_flap_around_the_threshold(shelf) -> None:  # type: ignore[no-untyped-def]
    _, model = shelf
    slot = dataclasses.replace(model.slots[0], spec=dataclasses.replace(model.slots[0].spec, capacity=6))
    state = camera_state_initial(model)
    changes = []
    for step, units in enumerate([6, 3, 2, 3, 2, 3, 2, 3, 1, 2, 3, 0, 1, 0, 1, 6]):
        pipeline._stock_alerts(state, slot, units, False, float(step), changes)
    name = slot.spec.slot
    assert [(c.kind, c.is_active, c.t) for c in changes if c.kind == "low_stock"] == [
        ("low_stock", True, 2.0),  # 2 of 6: low
        ("low_stock", False, 11.0),  # only cleared when the slot ran out (stock-out takes over)...
        ("low_stock", True, 12.0),
        ("low_stock", False, 13.0),
        ("low_stock", True, 14.0),
        ("low_stock", False, 15.0),  # ... or was refilled
    ]
    assert [(c.kind, c.is_active) for c in changes if c.kind == "stock_out"] == [
        ("stock_out", True), ("stock_out", False), ("stock_out", True), ("stock_out", False)
    ]  # fmt: skip
    assert all(c.slot == name for c in changes)


def test_health_alert_needs_consecutive_frames(shelf) -> None:  # type: ignore[no-untyped-def]
    recorder, model = shelf
    frames = []
    pattern = [False, True, False, True, False, True, True, True, False, True, False, True]
    for i, is_dark in enumerate(pattern):
        t = 0.5 * (i + 1)
        image, _ = recorder.render(t, [])
        frames.append((t, cv2.convertScaleAbs(image, alpha=0.15) if is_dark else image))
    _, results = _feed(model, camera_state_initial(model), frames)
    # One dark alert for the run of dark frames; single bright or dark frames change nothing.
    assert _alerts(results, "dark") == [(True, 3.5)]


# Privacy ---------------------------------------------------------------------------------------------


def test_faces_of_passers_by_are_blurred(shelf) -> None:  # type: ignore[no-untyped-def]
    recorder, model = shelf
    person = Episode(
        "person", 1.0, 5.0,
        params={"direction": 1, "shirt": (40, 90, 160), "skin": (120, 160, 215), "hair": (30, 30, 30), "head_y": 150, "body_w": 200},
    )  # fmt: skip
    state, _ = _feed(model, camera_state_initial(model), _still(recorder, [0.5]))
    checked = 0
    for t in (1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5):
        image, faces = recorder.render(t, [person])
        result = frame_process(model, state, image, t)
        state = result.state
        for box in faces:
            assert _coverage(list(box), result.blurred_boxes, 1280, 720) >= 0.8
            x, y, w, h = box
            original = cv2.Laplacian(cv2.cvtColor(image[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY), cv2.CV_32F).var()
            stored = cv2.Laplacian(
                cv2.cvtColor(result.redacted[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY), cv2.CV_32F
            ).var()
            assert stored < original / 4  # the stored picture really lost the face's detail
            checked += 1
    assert checked >= 4


# State, determinism, bad input -----------------------------------------------------------------------


def test_state_round_trips_through_bytes(shelf) -> None:  # type: ignore[no-untyped-def]
    recorder, model = shelf
    state, _ = _feed(model, camera_state_initial(model), _still(recorder, [0.5, 1.0, 1.5]))
    data = state.to_bytes()
    assert len(data) < 1_000_000
    again = CameraState.from_bytes(data)
    assert again.to_bytes() == data
    assert np.array_equal(again.background, state.background)
    assert again.cells == state.cells
    image, _ = recorder.render(2.0, [])
    a, b = frame_process(model, state, image, 2.0), frame_process(model, again, image, 2.0)
    assert a.state.to_bytes() == b.state.to_bytes()
    with pytest.raises(ValueError, match="not a camera state"):
        CameraState.from_bytes(b"garbage")
    with pytest.raises(ValueError, match="trailing or missing"):
        CameraState.from_bytes(data[:-10])


def test_frame_process_is_pure_and_deterministic() -> None:
    recorder, model = _fresh(6)
    slot = recorder.scene.slots[0]
    state, _ = _feed(model, camera_state_initial(model), _still(recorder, [0.5]))
    episode = Episode("take", 1.0, 3.0, slot, [0])
    state, _ = _feed(model, state, [(1.5, recorder.render(1.5, [episode])[0])])
    before = state.to_bytes()
    image, _ = recorder.render(2.0, [episode])
    first, second = frame_process(model, state, image, 2.0), frame_process(model, state, image, 2.0)
    assert state.to_bytes() == before  # the input state was not touched
    assert first.state.to_bytes() == second.state.to_bytes()
    assert np.array_equal(first.redacted, second.redacted)
    assert first.blurred_boxes == second.blurred_boxes
    assert first.blurred_boxes
    assert (first.units, first.alerts, first.shift) == (second.units, second.alerts, second.shift)


def _calibration(**changes) -> Calibration:  # type: ignore[no-untyped-def]
    spec = SlotSpec(
        slot="s1",
        product="4000000000001",
        polygon=[(100, 80), (300, 80), (300, 220), (100, 220)],
        capacity=4,
        initial_units=4,
    )
    spec = dataclasses.replace(spec, **changes)
    reference = np.full((720, 1280, 3), 120, np.uint8)
    return Calibration(camera="cam1", width=1280, height=720, reference=reference, slots=[spec])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"polygon": [(1200, 80), (1400, 80), (1400, 220), (1200, 220)]},
            r"slot s1: polygon point \(1400, 80\) is outside the 1280x720 frame",
        ),
        ({"polygon": [(100, 80), (300, 80)]}, "slot s1: a polygon needs at least 3 points"),
        ({"initial_units": 5}, "slot s1: initial units must be between 0 and the capacity"),
        ({"capacity": 0, "initial_units": 0}, "slot s1: capacity must be at least 1"),
    ],
)
def test_bad_calibration_names_the_slot(changes, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        camera_model_build(_calibration(**changes))


def test_reference_of_the_wrong_size_is_refused() -> None:
    calibration = dataclasses.replace(_calibration(), reference=np.zeros((480, 640, 3), np.uint8))
    with pytest.raises(ValueError, match="the reference is 640x480, the calibration says 1280x720"):
        camera_model_build(calibration)
    model = camera_model_build(_calibration())
    with pytest.raises(ValueError, match="expected a 1280x720 BGR frame"):
        frame_process(model, camera_state_initial(model), np.zeros((480, 640, 3), np.uint8), 1.0)


def test_an_uncalibrated_camera_fails_closed_then_blurs_what_moves() -> None:
    from sensing.vision.privacy import uncalibrated_redact

    rng = np.random.default_rng(3)
    scene = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)  # texture everywhere: blur shows
    # No background yet: the whole frame is blurred.
    first, background, boxes = uncalibrated_redact(scene, None)
    assert boxes == [(0, 0, 1280, 720)]
    assert np.abs(first.astype(int) - scene.astype(int)).mean() > 40
    # The still scene again: nothing differs, nothing is blurred.
    still, background, boxes = uncalibrated_redact(scene, background)
    assert boxes == []
    assert np.array_equal(still, scene)
    # Someone walks in: their region is blurred, the rest of the frame is left as it was.
    person = scene.copy()
    person[200:600, 500:700] = 30
    redacted, after, boxes = uncalibrated_redact(person, background)
    assert any(x <= 500 and y <= 200 and x + w >= 700 and y + h >= 600 for x, y, w, h in boxes)
    assert np.array_equal(redacted[:, :400], person[:, :400])
    # The moving region is not learned into the background at once.
    assert np.array_equal(after[35:75, 40:50], background[35:75, 40:50])
