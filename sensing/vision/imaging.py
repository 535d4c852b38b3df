"""Image helpers shared by the pipeline's modules: the quarter-size geometry and small kernels."""

from __future__ import annotations

import cv2
import numpy as np

from sensing.vision.types import CameraModel

KERNEL3 = np.ones((3, 3), np.uint8)
KERNEL9 = np.ones((9, 9), np.uint8)


def quarter_factor(model: CameraModel) -> float:
    """Full-size pixels per quarter-size pixel."""
    return model.calibration.width / model.align_reference.shape[1]


def to_quarter(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)


def quarter_mask(mask: np.ndarray) -> np.ndarray:
    return (
        cv2.resize(mask.astype(np.uint8), (mask.shape[1] // 2, mask.shape[0] // 2), interpolation=cv2.INTER_NEAREST) > 0
    )
