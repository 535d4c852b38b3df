"""Privacy: what gets blurred before a frame or crop may be stored or shown.

Every foreground region (anything that differs from the settled scene or moves) is blurred whole,
and faces that OpenCV's shipped Haar cascade finds get an extra margin. An unreliable frame
(dark, blurred, moved, blocked) is blurred entirely: when unsure, fail closed.
"""

from __future__ import annotations

import cv2
import numpy as np

from sensing.vision.imaging import quarter_factor, to_quarter
from sensing.vision.types import CameraModel

FACE_MIN_QUARTER = 24  # the cascade's window: faces from ~100 px at 1280 wide
FACE_SEARCH_QUARTER = 60  # how far down from the top of a moving region a face is looked for

_FACE_CASCADE: cv2.CascadeClassifier | None = None


def foreground_boxes(
    model: CameraModel, stats: np.ndarray, shift: tuple[float, float]
) -> list[tuple[int, int, int, int]]:
    """Full-size boxes around every foreground region (in the frame's own coordinates)."""
    factor = quarter_factor(model)
    width, height = model.calibration.width, model.calibration.height
    boxes = []
    for x, y, w, h, area in stats:
        if area < 4:
            continue
        x0 = max(int(x * factor + shift[0]) - 8, 0)
        y0 = max(int(y * factor + shift[1]) - 8, 0)
        x1 = min(int((x + w) * factor + shift[0]) + 8, width)
        y1 = min(int((y + h) * factor + shift[1]) + 8, height)
        if x1 > x0 and y1 > y0:
            boxes.append((x0, y0, x1 - x0, y1 - y0))
    return boxes


def faces(
    gray: np.ndarray, stats: np.ndarray, model: CameraModel, shift: tuple[float, float]
) -> list[tuple[int, int, int, int]]:
    """Faces found by OpenCV's shipped Haar cascade at the top of each large moving region.

    Belt and braces: those regions are blurred whole anyway; a face found here also gets blurred
    with a margin. Searching only the top of each region (where a head is) at quarter size keeps
    the cascade inside the frame budget.
    """
    global _FACE_CASCADE
    if _FACE_CASCADE is None:
        _FACE_CASCADE = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
    quarter_gray = None
    factor = quarter_factor(model)
    boxes = []
    for x, y, w, h, area in stats:
        if w < FACE_MIN_QUARTER or h < FACE_MIN_QUARTER or area < FACE_MIN_QUARTER**2:
            continue
        if quarter_gray is None:
            quarter_gray = to_quarter(gray)
        top = quarter_gray[y : y + min(h, FACE_SEARCH_QUARTER), x : x + w]
        found = _FACE_CASCADE.detectMultiScale(
            top, scaleFactor=1.2, minNeighbors=4, minSize=(FACE_MIN_QUARTER, FACE_MIN_QUARTER)
        )
        for fx, fy, fw, fh in found:
            boxes.append(
                (
                    int((x + fx) * factor + shift[0]) - 12,
                    int((y + fy) * factor + shift[1]) - 12,
                    int(fw * factor) + 24,
                    int(fh * factor) + 24,
                )
            )
    return boxes


def redact(image: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    """Blur every box (pixelate then smooth: cheap at any size, and unrecoverable)."""
    out = image.copy()
    height, width = image.shape[:2]
    for x, y, w, h in boxes:
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        region = out[y0:y1, x0:x1]
        tiny = cv2.resize(region, (max(1, (x1 - x0) // 16), max(1, (y1 - y0) // 16)), interpolation=cv2.INTER_AREA)
        out[y0:y1, x0:x1] = cv2.resize(tiny, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    return out


def crop_redacted(
    model: CameraModel, redacted: np.ndarray, box: tuple[int, int, int, int], shift: tuple[float, float]
) -> np.ndarray:
    """The slot's box cut from the redacted frame (where the view is now), at working size."""
    x, y, w, h = (int(v / model.scale) for v in box)
    x, y = max(int(x + shift[0]), 0), max(int(y + shift[1]), 0)
    crop = redacted[y : y + h, x : x + w]
    return cv2.resize(crop, (box[2], box[3]), interpolation=cv2.INTER_AREA) if crop.size else crop.copy()


BACKGROUND_SIZE = (160, 90)  # a tiny grey picture of the empty scene is all an uncalibrated camera keeps
BACKGROUND_DIFFERENCE = 22  # grey levels: beyond sensor noise and lighting drift, well below a person
BACKGROUND_LEARN = 0.05  # how fast still parts of the scene are learned (about 20 frames)


def uncalibrated_redact(
    image: np.ndarray, background: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int, int]]]:
    """Redact a frame of a camera that has no calibration yet: fail closed without a reference.

    Without a learned background the whole frame is blurred (nothing is known to be safe). With
    one, every region that differs from it is blurred whole, as are faces the cascade finds; the
    background learns only where the scene is still, so a person standing still is not learned
    into it at once. Returns (redacted frame, new background, blurred boxes); pure.
    """
    height, width = image.shape[:2]
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    small = cv2.resize(gray, BACKGROUND_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
    if background is None or background.shape != small.shape:
        return redact(image, [(0, 0, width, height)]), small.astype(np.uint8), [(0, 0, width, height)]
    changed = (np.abs(small - background.astype(np.float32)) > BACKGROUND_DIFFERENCE).astype(np.uint8)
    moving = cv2.dilate(changed, np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(moving)
    scale_x, scale_y = width / BACKGROUND_SIZE[0], height / BACKGROUND_SIZE[1]
    boxes = [
        (int(x * scale_x) - 8, int(y * scale_y) - 8, int(w * scale_x) + 16, int(h * scale_y) + 16)
        for x, y, w, h, _area in stats[1:count]
    ]
    global _FACE_CASCADE
    if _FACE_CASCADE is None:
        _FACE_CASCADE = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
    half = cv2.resize(gray, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    for x, y, w, h in _FACE_CASCADE.detectMultiScale(half, scaleFactor=1.15, minNeighbors=3, minSize=(12, 12)):
        boxes.append((2 * x - w, 2 * y - h, 4 * w, 4 * h))  # generous margins: hair and chin identify too
    learned = np.where(
        moving > 0, background.astype(np.float32), (1 - BACKGROUND_LEARN) * background + BACKGROUND_LEARN * small
    )
    return redact(image, boxes), learned.round().astype(np.uint8), boxes
