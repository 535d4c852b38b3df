"""The camera model built once per calibration, and the pipeline state a camera starts from.

The reference is read at *working* size (half of the reference geometry): each slot gets its
facings, the product's appearance on the reference and the shelf ring around it.
"""

from __future__ import annotations

import cv2
import numpy as np

from sensing.vision.health import tile_variance
from sensing.vision.imaging import quarter_mask, to_quarter
from sensing.vision.types import (
    Calibration,
    CameraModel,
    CameraState,
    SlotModel,
    SlotSpec,
)

WORKING_WIDTH = 640
# Facing states as the classifier reads them.
EMPTY, FULL, OTHER = 0, 1, 2
RING_PX = 8  # width of the shelf ring around a slot (working px)


def camera_model_build(calibration: Calibration) -> CameraModel:
    """Validate the calibration and precompute what every frame needs; raises ValueError on bad input."""
    width, height = calibration.width, calibration.height
    reference = calibration.reference
    if reference is None or reference.dtype != np.uint8 or reference.ndim != 3 or reference.shape[2] != 3:
        raise ValueError(f"camera {calibration.camera}: the reference must be a BGR uint8 image")
    if reference.shape[:2] != (height, width):
        raise ValueError(
            f"camera {calibration.camera}: the reference is {reference.shape[1]}x{reference.shape[0]},"
            f" the calibration says {width}x{height}"
        )
    names = [s.slot for s in calibration.slots]
    if len(set(names)) != len(names):
        raise ValueError(f"camera {calibration.camera}: slot names repeat")
    for spec in calibration.slots:
        if len(spec.polygon) < 3:
            raise ValueError(f"slot {spec.slot}: a polygon needs at least 3 points")
        for x, y in spec.polygon:
            if not (0 <= x <= width and 0 <= y <= height):
                raise ValueError(f"slot {spec.slot}: polygon point ({x}, {y}) is outside the {width}x{height} frame")
        if spec.capacity < 1:
            raise ValueError(f"slot {spec.slot}: capacity must be at least 1")
        if not 0 <= spec.initial_units <= spec.capacity:
            raise ValueError(f"slot {spec.slot}: initial units must be between 0 and the capacity")

    scale = WORKING_WIDTH / width if width > WORKING_WIDTH else 1.0
    size = (round(width * scale), round(height * scale))
    small = cv2.resize(reference, size, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    quarter = to_quarter(gray)
    tiles = tile_variance(cv2.Laplacian(quarter, cv2.CV_32F))
    window = cv2.createHanningWindow((quarter.shape[1], quarter.shape[0]), cv2.CV_32F)
    slot_mask = np.zeros(gray.shape, bool)
    boxes = []
    for spec in calibration.slots:
        points = np.array(spec.polygon, np.float32) * scale
        x, y, w, h = cv2.boundingRect(points.astype(np.int32))
        x, y = max(x, 0), max(y, 0)
        w, h = min(w, size[0] - x), min(h, size[1] - y)
        if w < 4 * spec.capacity or h < 8:
            raise ValueError(f"slot {spec.slot}: the polygon is too small for {spec.capacity} facings")
        boxes.append((x, y, w, h))
        slot_mask[y : y + h, x : x + w] = True
    slots = [_slot_model(spec, box, small, gray, slot_mask) for spec, box in zip(calibration.slots, boxes, strict=True)]
    return CameraModel(
        calibration=calibration,
        scale=scale,
        size=size,
        reference_small=small,
        reference_gray=gray,
        align_reference=quarter.astype(np.float32),
        align_window=window,
        align_spectrum=cv2.dft(quarter.astype(np.float32) * window, flags=cv2.DFT_COMPLEX_OUTPUT),
        reference_brightness=float(quarter.mean()),
        reference_tiles=tiles,
        reference_textured=tiles > np.percentile(tiles, 40),
        slots=slots,
        slot_mask=slot_mask,
        slot_mask_quarter=quarter_mask(slot_mask),
    )


def _slot_model(
    spec: SlotSpec, box: tuple[int, int, int, int], small: np.ndarray, gray: np.ndarray, slot_mask: np.ndarray
) -> SlotModel:
    x, y, w, h = box
    cells = []
    for i in range(spec.capacity):
        x0 = x + round(i * w / spec.capacity)
        x1 = x + round((i + 1) * w / spec.capacity)
        # Inset so that neighbours and the shelf edge do not leak into a facing's appearance.
        inset_x, inset_y = max(1, (x1 - x0) // 10), max(1, h // 12)
        cells.append((x0 + inset_x, y + inset_y, x1 - x0 - 2 * inset_x, h - 2 * inset_y))
    patches = [gray[cy : cy + ch, cx : cx + cw] for cx, cy, cw, ch in cells]
    full = _reference_full_cells(patches, spec.initial_units)
    if full:
        common = patches[full[0]].shape[::-1]
        mean = np.mean([cv2.resize(patches[i], common).astype(np.float32) for i in full], axis=0).astype(np.uint8)
    else:
        mean = patches[0]  # no unit on the reference: nothing better to compare with
    colors = [cv2.mean(small[cy : cy + ch, cx : cx + cw])[:3] for cx, cy, cw, ch in cells]
    chosen = [colors[i] for i in full] or colors
    color = np.mean(chosen, axis=0)
    templates = [patches[i] if i in full else cv2.resize(mean, patches[i].shape[::-1]) for i in range(len(cells))]
    ring = np.zeros(gray.shape, np.uint8)
    cv2.rectangle(ring, (x - RING_PX, y - RING_PX), (x + w + RING_PX, y + h + RING_PX), 1, -1)
    ring_mask = (ring > 0) & ~slot_mask
    ring_quarter = quarter_mask(ring_mask)
    ys, xs = np.nonzero(ring_quarter)
    rx0, ry0, rx1, ry1 = (
        (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else (0, 0, 1, 1)
    )
    return SlotModel(
        spec=spec,
        box=box,
        cells=cells,
        templates=templates,
        template_mean=float(mean.mean()),
        template_std=float(mean.std()),
        template_chroma=color / max(float(color.sum()), 1.0),
        ring=ring_quarter[ry0:ry1, rx0:rx1].copy(),
        ring_box=(rx0, ry0, rx1, ry1),
        ring_size=int(ring_quarter.sum()),
        full_on_reference=tuple(full),
    )


def _reference_full_cells(patches: list[np.ndarray], units: int) -> list[int]:
    """Which facings hold the reference's ``units`` units: the ones most alike (same product)."""
    count = len(patches)
    if units >= count:
        return list(range(count))
    if units == 0:
        return []
    common = patches[0].shape[::-1]
    resized = [cv2.resize(p, common).astype(np.float32) for p in patches]
    scores = []
    for i in range(count):
        score = sum(
            float(cv2.matchTemplate(resized[i], resized[j], cv2.TM_CCOEFF_NORMED)[0, 0]) for j in range(count) if j != i
        )
        # Brightness and texture break ties against an empty, dark shelf.
        scores.append((score + resized[i].std() / 64.0, i))
    return sorted(i for _, i in sorted(scores, reverse=True)[:units])


def camera_state_initial(model: CameraModel) -> CameraState:
    """The state before the first frame: the reference is the settled scene."""
    cells = {}
    for slot in model.slots:
        cells[slot.spec.slot] = [FULL if i in slot.full_on_reference else EMPTY for i in range(len(slot.cells))]
    return CameraState(
        frames=0,
        last_t=None,
        background=model.reference_small.copy(),
        previous=None,
        static=np.zeros(model.align_reference.shape, np.uint8),
        shift=[0.0, 0.0],
        gain=1.0,
        cells=cells,
        quiet={slot.spec.slot: -1 for slot in model.slots},
        quiet_since={},
        counters={},
        active={},
    )
