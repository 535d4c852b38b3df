"""Camera health: where the view is (alignment), how sharp it is, and alerts with hysteresis."""

from __future__ import annotations

import cv2
import numpy as np

from sensing.vision.types import AlertChange, CameraModel, CameraState

ALERT_ON_FRAMES = 2  # consecutive frames a health condition must hold to raise (and to clear)


def phase_shift(model: CameraModel, quarter: np.ndarray, previous: tuple[float, float]) -> tuple[float, float]:
    """Shift of the frame against the reference (quarter px) by phase correlation.

    Shelves repeat (identical facings side by side), so the correlation has rival peaks one facing
    apart. The view is assumed to stay where it was (the reference, or the last frame's shift)
    unless a peak elsewhere is clearly stronger.
    """
    frame = cv2.dft(quarter.astype(np.float32) * model.align_window, flags=cv2.DFT_COMPLEX_OUTPUT)
    cross = cv2.mulSpectrums(frame, model.align_spectrum, 0, conjB=True)
    magnitude = cv2.magnitude(cross[..., 0], cross[..., 1])
    cross = cross / np.maximum(magnitude, 1e-9)[..., None]
    surface = cv2.idft(cross, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
    height, width = surface.shape
    _, best_value, _, best = cv2.minMaxLoc(surface)

    def local(center: tuple[float, float]) -> tuple[float, tuple[int, int]]:
        cx, cy = round(center[0]), round(center[1])
        value, at = -1.0, (0, 0)
        for oy in range(-2, 3):
            for ox in range(-2, 3):
                v = float(surface[(cy + oy) % height, (cx + ox) % width])
                if v > value:
                    value, at = v, ((cx + ox) % width, (cy + oy) % height)
        return value, at

    prior_value, prior_at = max(local((0.0, 0.0)), local(previous))
    peak = best if best_value > 1.4 * prior_value else prior_at
    # Sub-pixel: centroid of the 3x3 neighbourhood of the peak.
    px, py = peak
    total, sx, sy = 0.0, 0.0, 0.0
    for oy in (-1, 0, 1):
        for ox in (-1, 0, 1):
            v = max(float(surface[(py + oy) % height, (px + ox) % width]), 0.0)
            total += v
            sx += v * ox
            sy += v * oy
    x = px + (sx / total if total else 0.0)
    y = py + (sy / total if total else 0.0)
    x = x - width if x > width / 2 else x
    y = y - height if y > height / 2 else y
    return float(x), float(y)


def sharpness_ratios(model: CameraModel, gray: np.ndarray, gain: float) -> np.ndarray:
    """Sharpness against the reference's, for each tile that is textured on the reference."""
    lap = cv2.Laplacian(gray, cv2.CV_32F)
    textured = model.reference_textured
    ref = model.reference_tiles[textured]
    return tile_variance(lap)[textured] * gain * gain / np.maximum(ref, 1e-3)


def tile_variance(lap: np.ndarray) -> np.ndarray:
    h, w = lap.shape
    rows, cols = 6, 8
    lap = lap[: h - h % rows, : w - w % cols]
    squared = cv2.resize(lap * lap, (cols, rows), interpolation=cv2.INTER_AREA)
    mean = cv2.resize(lap, (cols, rows), interpolation=cv2.INTER_AREA)
    return (squared - mean * mean).ravel()


def hysteresis(new: CameraState, kind: str, raw_on: bool, still_on: bool, t: float, alerts: list[AlertChange]) -> bool:
    """Raise after ALERT_ON_FRAMES frames of ``raw_on``; clear after as many without ``still_on``."""
    active = kind in new.active
    count = new.counters.get(kind, 0)
    if not active:
        count = count + 1 if raw_on else 0
        if count >= ALERT_ON_FRAMES:
            new.active[kind] = t
            alerts.append(AlertChange(kind=kind, slot=None, is_active=True, t=t))
            count = 0
    else:
        count = 0 if still_on else count + 1
        if count >= ALERT_ON_FRAMES:
            del new.active[kind]
            alerts.append(AlertChange(kind=kind, slot=None, is_active=False, t=t))
            count = 0
    new.counters[kind] = count
    return kind in new.active
