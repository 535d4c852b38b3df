"""Framework-free shelf-camera pipeline: numpy and OpenCV in, plain data out (see ``types``)."""

from sensing.vision.model import camera_model_build, camera_state_initial
from sensing.vision.pipeline import frame_process
from sensing.vision.types import (
    AlertChange,
    Calibration,
    CameraModel,
    CameraState,
    FrameResult,
    ShelfEventData,
    SlotSpec,
)

__all__ = [
    "AlertChange",
    "Calibration",
    "CameraModel",
    "CameraState",
    "FrameResult",
    "ShelfEventData",
    "SlotSpec",
    "camera_model_build",
    "camera_state_initial",
    "frame_process",
]
