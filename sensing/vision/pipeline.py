"""The per-frame shelf pipeline: health, alignment, settled changes, units, alerts and redaction.

Work happens at two reduced sizes of the reference geometry: *working* (half size) for the
per-facing appearance tests and crops, *quarter* size for alignment, motion and foreground. A slot
is re-examined only after it was disturbed (motion or foreground in it or in the shelf ring around
it) and then stayed quiet for ``SETTLE_FRAMES`` frames; its facings are then classified against
the calibrated product's appearance and the difference to the last settled classification becomes
a shelf event. Anything the pipeline cannot explain (foreground, an unhealthy frame) is blurred in
the redacted image: privacy fails closed.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from sensing.vision.health import hysteresis, phase_shift, sharpness_ratios
from sensing.vision.imaging import KERNEL3, KERNEL9, quarter_factor, to_quarter
from sensing.vision.model import EMPTY, FULL, OTHER
from sensing.vision.privacy import crop_redacted, faces, foreground_boxes, redact
from sensing.vision.types import (
    AlertChange,
    CameraModel,
    CameraState,
    FrameResult,
    ShelfEventData,
    SlotModel,
)

# Thresholds (tuned on generator seeds 1-5 only).
DARK_RATIO = 0.45  # frame brightness / reference brightness below this: dark
BLUR_RATIO = 0.35  # sharpness / reference sharpness below this: blurred
MOVED_PX = 7.0  # shift against the reference (full-size px) above this: moved; jitter is ~2 px
MOVED_CLEAR_PX = 4.5
BLOCKED_SHARE = 0.40  # share of the view that differs from the settled scene, or lost its texture
LOST_TILE_RATIO = 0.2  # a tile this much less sharp than on the reference is covered (or blurred)
OFFLINE_GAP_S = 10.0
GAIN_STEP = 0.03
REFRESH_BANDS = 4
ABSORB_FRAMES = 8
FOREGROUND_LEVEL = 28  # gray levels of difference against the settled scene
MOTION_LEVEL = 22
SETTLE_FRAMES = 3
SETTLE_FRAMES_LONG = 4
FULL_NCC = 0.55  # a facing whose best match with the product template reaches this is a unit
FULL_BRIGHTNESS = 0.65  # ... and at least this bright against the template (recessed units are darker)
OTHER_BRIGHTNESS = 0.6  # an unmatched facing at least this bright (vs the template) and
OTHER_TEXTURE = 10.0  # textured (gray standard deviation) is another product, not an empty facing
CHROMA_MAX = 0.06  # L1 distance of normalised colour above which a facing holds another product
SEARCH_PX = 3  # alignment slack when matching a facing (working px)
EDGE_QUARTER = 3  # border of the view (quarter px) ignored by the foreground test


def frame_process(model: CameraModel, state: CameraState, image: np.ndarray, t: float) -> FrameResult:
    """Process one frame of one camera; pure: ``state`` is not changed, a new state is returned."""
    calibration = model.calibration
    if image is None or image.ndim != 3 or image.shape[:2] != (calibration.height, calibration.width):
        raise ValueError(f"camera {calibration.camera}: expected a {calibration.width}x{calibration.height} BGR frame")
    new = replace(
        state,
        frames=state.frames + 1,
        last_t=t,
        background=state.background,  # copied below only when it changes
        cells={k: list(v) for k, v in state.cells.items()},
        quiet=dict(state.quiet),
        quiet_since=dict(state.quiet_since),
        counters=dict(state.counters),
        active=dict(state.active),
    )
    alerts: list[AlertChange] = []
    events: list[ShelfEventData] = []
    if state.last_t is not None and t - state.last_t > OFFLINE_GAP_S:
        alerts.append(AlertChange(kind="offline", slot=None, is_active=True, t=state.last_t))
        alerts.append(AlertChange(kind="offline", slot=None, is_active=False, t=t))

    small = cv2.resize(image, model.size, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    quarter = to_quarter(gray)
    brightness = float(quarter.mean())
    is_dark = brightness < DARK_RATIO * model.reference_brightness

    shift = (0.0, 0.0)
    if not is_dark:
        factor = quarter_factor(model)
        previous_shift = (state.shift[0] / factor, state.shift[1] / factor)
        dx, dy = phase_shift(model, quarter, previous_shift)
        shift = (dx * factor, dy * factor)  # full-size pixels the view moved by
    new.shift = [round(shift[0], 3), round(shift[1], 3)]
    magnitude = math.hypot(*shift)
    if magnitude > 0.2 * quarter_factor(model):
        move = np.array([[1, 0, -shift[0] * model.scale], [0, 1, -shift[1] * model.scale]], np.float32)
        small = cv2.warpAffine(small, move, model.size, borderMode=cv2.BORDER_REPLICATE)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        quarter = to_quarter(gray)

    background_gray = cv2.cvtColor(state.background, cv2.COLOR_BGR2GRAY)
    background_quarter = to_quarter(background_gray)
    # Lighting drifts: compare the frame at the settled scene's exposure, measured on the pixels
    # that still look like the settled scene at the last frame's gain (occluders do not count).
    gain = state.gain
    if not is_dark:
        sample_frame = quarter[::2, ::2].astype(np.float32)
        sample_background = background_quarter[::2, ::2].astype(np.float32)
        agree = np.abs(sample_frame * state.gain - sample_background) < FOREGROUND_LEVEL
        if agree.mean() > 0.15:
            ratio = sample_background[agree].sum() / max(float(sample_frame[agree].sum()), 1.0)
            # Real drift is slow: a few percent per frame at most, so an occluder cannot drag it.
            gain = min(max(float(ratio), state.gain * (1 - GAIN_STEP), 0.5), state.gain * (1 + GAIN_STEP), 2.5)
    new.gain = round(gain, 4)
    quarter_norm = cv2.convertScaleAbs(quarter, alpha=gain)
    # In colour: a red sleeve over a dark grey shelf is nearly the same grey.
    colour_difference = cv2.absdiff(cv2.convertScaleAbs(to_quarter(small), alpha=gain), to_quarter(state.background))
    blue, green, red = cv2.split(colour_difference)
    foreground = cv2.max(cv2.max(blue, green), red) > FOREGROUND_LEVEL
    # Jitter and re-alignment smear the outermost pixels: they tell nothing.
    foreground[:EDGE_QUARTER], foreground[-EDGE_QUARTER:] = False, False
    foreground[:, :EDGE_QUARTER], foreground[:, -EDGE_QUARTER:] = False, False
    foreground = cv2.morphologyEx(foreground.view(np.uint8), cv2.MORPH_OPEN, KERNEL3) > 0
    if state.previous is not None and state.previous.shape == quarter_norm.shape:
        motion = cv2.absdiff(quarter_norm, state.previous) > MOTION_LEVEL
        motion = cv2.morphologyEx(motion.view(np.uint8), cv2.MORPH_OPEN, KERNEL3) > 0
    else:
        motion = np.zeros_like(foreground)
    new.previous = quarter_norm

    ratios = sharpness_ratios(model, quarter, gain)
    # Blur softens the whole view; an occluder wipes out part of it while the rest stays sharp.
    ordered = np.sort(ratios)
    sharpness = float(ordered[int(0.75 * (len(ordered) - 1))])
    sharpest = float(ordered[int(0.9 * (len(ordered) - 1))])
    lost_share = float(np.count_nonzero(ordered < LOST_TILE_RATIO)) / len(ordered)
    foreground_share = cv2.countNonZero(foreground.view(np.uint8)) / foreground.size
    is_covered = foreground_share > BLOCKED_SHARE or (lost_share >= BLOCKED_SHARE and sharpest >= 0.6)
    raw = {
        "dark": is_dark,
        "blurred": (not is_dark) and sharpness < BLUR_RATIO and not is_covered,
        "moved": (not is_dark) and magnitude > MOVED_PX,
        "blocked": (not is_dark) and is_covered,
    }
    clear_raw = {
        "dark": is_dark or brightness < (DARK_RATIO + 0.1) * model.reference_brightness,
        "blurred": raw["blurred"] or (not is_dark and sharpness < BLUR_RATIO + 0.1),
        "moved": raw["moved"] or magnitude > MOVED_CLEAR_PX,
        "blocked": raw["blocked"] or foreground_share > BLOCKED_SHARE - 0.1 or lost_share >= BLOCKED_SHARE - 0.1,
    }
    if is_dark:  # nothing else can be judged in the dark: hold those alerts as they are
        for kind in ("blurred", "moved", "blocked"):
            raw[kind] = clear_raw[kind] = kind in state.active
    health = {}
    for kind in ("dark", "blurred", "moved", "blocked"):
        health[kind] = hysteresis(new, kind, raw[kind], clear_raw[kind], t, alerts)
    is_healthy = not any(raw.values()) and not any(health.values())

    blur_boxes: list[tuple[int, int, int, int]] = []
    if not is_healthy:
        # Unreliable frame: nothing is settled, every slot is re-examined once the view is back.
        for slot in model.slots:
            new.quiet[slot.spec.slot] = 0
            new.quiet_since.pop(slot.spec.slot, None)
        blur_boxes.append((0, 0, calibration.width, calibration.height))
        redacted = redact(image, blur_boxes)
    else:
        busy = foreground | motion
        stats, occluders = _regions(busy)
        blur_boxes = foreground_boxes(model, stats, shift)
        blur_boxes += faces(gray, stats, model, shift)
        redacted = redact(image, blur_boxes)
        events = _settle(model, state, new, small, gray, gain, foreground, motion, occluders, redacted, shift, t)
        _background_refresh(model, new, small, foreground, motion)

    units, fill, wrong = {}, {}, {}
    for slot in model.slots:
        name = slot.spec.slot
        cells = new.cells[name]
        units[name] = sum(c == FULL for c in cells)
        fill[name] = units[name] / slot.spec.capacity
        wrong[name] = OTHER in cells
        _stock_alerts(new, slot, units[name], wrong[name], t, alerts)
    is_settled = is_healthy and all(q == -1 for q in new.quiet.values())
    return FrameResult(
        state=new,
        events=events,
        alerts=alerts,
        units=units,
        fill=fill,
        wrong_product=wrong,
        health=health,
        shift=shift,
        is_settled=is_settled,
        redacted=redacted,
        blurred_boxes=blur_boxes,
    )


def _stock_alerts(
    new: CameraState, slot: SlotModel, units: int, wrong: bool, t: float, alerts: list[AlertChange]
) -> None:
    """Low stock and stock-out with a gap between raise and clear levels, so they do not flap."""
    name, capacity = slot.spec.slot, slot.spec.capacity
    low_raise = max(1, math.floor(capacity / 3))
    low_clear = max(low_raise + 2, math.ceil(2 * capacity / 3)) if capacity > 2 else capacity
    levels = {
        "stock_out": (units == 0, units >= 1),
        "low_stock": (0 < units <= low_raise, units >= low_clear or units == 0),
        "wrong_product": (wrong, not wrong),
    }
    for kind, (raise_now, clear_now) in levels.items():
        key = f"{kind}:{name}"
        if key not in new.active and raise_now:
            new.active[key] = t
            alerts.append(AlertChange(kind=kind, slot=name, is_active=True, t=t))
        elif key in new.active and clear_now:
            del new.active[key]
            alerts.append(AlertChange(kind=kind, slot=name, is_active=False, t=t))


def _settle(
    model: CameraModel,
    state: CameraState,
    new: CameraState,
    small: np.ndarray,
    gray: np.ndarray,
    gain: float,
    foreground: np.ndarray,
    motion: np.ndarray,
    occluders: np.ndarray,
    redacted: np.ndarray,
    shift: tuple[float, float],
    t: float,
) -> list[ShelfEventData]:
    """Slots that were disturbed and are quiet again: classify their facings, emit the difference."""
    events = []
    foreground_bytes, motion_bytes = foreground.view(np.uint8), motion.view(np.uint8)
    for slot in model.slots:
        name = slot.spec.slot
        x, y, w, h = (v // 2 for v in slot.box)
        area = w * h
        box_foreground = cv2.countNonZero(foreground_bytes[y : y + h, x : x + w]) / area
        box_motion = cv2.countNonZero(motion_bytes[y : y + h, x : x + w]) / area
        ring_limit = max(3, 0.02 * slot.ring_size)
        rx0, ry0, rx1, ry1 = slot.ring_box
        ring = slot.ring
        ring_motion = np.count_nonzero(ring & (motion[ry0:ry1, rx0:rx1] | occluders[ry0:ry1, rx0:rx1])) > ring_limit
        ring_changed = np.count_nonzero(ring & foreground[ry0:ry1, rx0:rx1]) > ring_limit
        quiet = new.quiet.get(name, -1)
        if box_motion > 0.01 or ring_motion:
            new.quiet[name] = 0
            new.quiet_since.pop(name, None)
            continue
        if quiet == -1:
            if box_foreground < 0.04 and not ring_changed:
                continue
            quiet = 0  # changed without motion being seen (e.g. between frames): look again
        quiet += 1
        if quiet == 1:
            new.quiet_since[name] = t
        # Something still standing in the ring (an arm held still) holds the slot a little longer;
        # if it stays, it is part of the scene now (a box left on the board) and is absorbed.
        if quiet < SETTLE_FRAMES or (ring_changed and quiet < SETTLE_FRAMES_LONG):
            new.quiet[name] = quiet
            continue
        before = new.cells[name]
        after, margins = _classify(slot, small, gray, gain)
        new.cells[name] = after
        new.quiet[name] = -1
        since = new.quiet_since.pop(name, t)
        event = _event_from(slot, before, after, margins)
        bx, by, bw, bh = slot.box
        if new.background is state.background:
            new.background = state.background.copy()
        if event is not None:
            kind, quantity, confidence = event
            before_crop = state.background[by : by + bh, bx : bx + bw].copy()
            events.append(
                ShelfEventData(
                    slot=name,
                    kind=kind,
                    quantity=quantity,
                    confidence=confidence,
                    t=since,
                    before_crop=before_crop,
                    after_crop=crop_redacted(model, redacted, slot.box, shift),
                )
            )
        new.background[by : by + bh, bx : bx + bw] = small[by : by + bh, bx : bx + bw]
    return events


def _regions(busy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Connected foreground regions (stats rows x, y, w, h, area; quarter px) and the occluders among
    them: regions that reach the edge of the view (people, arms), even while they hold still."""
    if not busy.any():
        return np.zeros((0, 5), np.int32), busy
    # Generous growth bridges an arm whose colour matches the shelf edge it crosses.
    grown = cv2.dilate(busy.view(np.uint8), KERNEL9)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    height, width = busy.shape
    x, y, w, h = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    edge = EDGE_QUARTER + 4  # growth included
    touching = (x <= edge) | (y <= edge) | (x + w >= width - edge) | (y + h >= height - edge)
    touching[0] = False  # label 0 is the background
    return stats[1:count], touching[labels] & busy


def _event_from(
    slot: SlotModel, before: list[int], after: list[int], margins: list[float]
) -> tuple[str, int, float] | None:
    """The event a change of facings makes: fewer units a take; more a put-back, or a restock when
    two or more arrived and the slot is full (shared/sensing-dataset.md); none if the count held."""
    full_before = sum(c == FULL for c in before)
    full_after = sum(c == FULL for c in after)
    delta = full_after - full_before
    if delta == 0:
        return None
    changed = [m for b, a, m in zip(before, after, margins, strict=True) if (b == FULL) != (a == FULL)]
    confidence = round(min(1.0, min(changed, default=1.0)), 3)
    if delta < 0:
        return "take", -delta, confidence
    if delta >= 2 and full_after == slot.spec.capacity:
        return "restock", delta, confidence
    return "put_back", delta, confidence


def _classify(slot: SlotModel, small: np.ndarray, gray: np.ndarray, gain: float) -> tuple[list[int], list[float]]:
    """Each facing: the calibrated product, the empty shelf (or a recessed unit), or something else."""
    statuses, margins = [], []
    height, width = gray.shape
    for (cx, cy, cw, ch), template in zip(slot.cells, slot.templates, strict=True):
        x0, y0 = max(cx - SEARCH_PX, 0), max(cy - SEARCH_PX, 0)
        x1, y1 = min(cx + cw + SEARCH_PX, width), min(cy + ch + SEARCH_PX, height)
        window = gray[y0:y1, x0:x1]
        score = float(cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED).max())
        margin = min(1.0, abs(score - FULL_NCC) / 0.25)
        color = cv2.mean(small[cy : cy + ch, cx : cx + cw])[:3]
        chroma = np.array(color) / max(sum(color), 1.0)
        # Printed layouts look alike in gray; colour tells another product apart (gain-invariant).
        is_same_colour = float(np.abs(chroma - slot.template_chroma).sum()) < CHROMA_MAX
        brightness = float(cv2.mean(gray[cy : cy + ch, cx : cx + cw])[0]) * gain / max(slot.template_mean, 1.0)
        # A unit standing recessed behind a taken one matches in shape but sits in shadow.
        if score >= FULL_NCC and is_same_colour and brightness >= FULL_BRIGHTNESS:
            statuses.append(FULL)
        else:
            if score >= FULL_NCC:
                margin = min(1.0, abs(float(np.abs(chroma - slot.template_chroma).sum()) - CHROMA_MAX) / CHROMA_MAX)
            patch = gray[cy : cy + ch, cx : cx + cw].astype(np.float32) * gain
            # An empty facing shows the plain shelf back (flat) or a recessed unit (in shadow).
            is_other = brightness >= OTHER_BRIGHTNESS and float(patch.std()) >= OTHER_TEXTURE
            statuses.append(OTHER if is_other else EMPTY)
        margins.append(margin)
    return statuses, margins


def _background_refresh(
    model: CameraModel, new: CameraState, small: np.ndarray, foreground: np.ndarray, motion: np.ndarray
) -> None:
    """Absorb slow lighting drift where nothing moves and nothing differs, outside unsettled slots.

    One horizontal band of REFRESH_BANDS per frame, in turn: drift is slow, and the cost is spread.
    """
    band = new.frames % REFRESH_BANDS
    busy = foreground | motion
    height = busy.shape[0]
    q0, q1 = band * height // REFRESH_BANDS, (band + 1) * height // REFRESH_BANDS
    mask = ~busy[q0:q1]
    for slot in model.slots:
        if new.quiet.get(slot.spec.slot, -1) != -1:
            x, y, w, h = (v // 2 for v in slot.box)
            mask[max(y - q0, 0) : max(y + h - q0, 0), x : x + w] = False
    mask = cv2.erode(mask.view(np.uint8), KERNEL3)
    w0, w1 = q0 * 2, q1 * 2
    full_mask = cv2.resize(mask, (model.size[0], w1 - w0), interpolation=cv2.INTER_NEAREST) > 0
    background = new.background.copy()
    np.copyto(background[w0:w1], small[w0:w1], where=full_mask[..., None])
    # Foreground that has not moved for ABSORB_FRAMES outside the slots is part of the scene now
    # (a box left on the floor, or the shelf edge where an arm was wrongly absorbed): take it in.
    # Slots change only when they settle.
    static = (foreground & ~motion & ~model.slot_mask_quarter).view(np.uint8)
    count = new.static + (new.static < 255).view(np.uint8)  # counts up to 255
    count[static == 0] = 0
    absorb = count >= ABSORB_FRAMES
    if absorb.any():
        grown = cv2.dilate(absorb.view(np.uint8), KERNEL3)
        full = cv2.resize(grown, model.size, interpolation=cv2.INTER_NEAREST) > 0
        np.copyto(background, small, where=full[..., None])
        count[absorb] = 0
    new.static = count
    new.background = background
