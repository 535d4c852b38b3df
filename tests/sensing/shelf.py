"""Synthetic shelf pictures for the sensing tests: slots of textured product facings on a shelf."""

from __future__ import annotations

import cv2
import numpy as np

WIDTH, HEIGHT = 1280, 720
# Two slots of four facings each: (key, x, y, facing width, facing height, colour BGR).
SLOTS = [("s1", 160, 120, 110, 200, (40, 60, 200)), ("s2", 700, 120, 110, 200, (200, 120, 30))]
CAPACITY = 4


def slot_polygon(key: str) -> list[list[int]]:
    for name, x, y, w, h, _ in SLOTS:
        if name == key:
            return [
                [x - 10, y - 10],
                [x + CAPACITY * w + 10, y - 10],
                [x + CAPACITY * w + 10, y + h + 10],
                [x - 10, y + h + 10],
            ]
    raise KeyError(key)


def shelf(units: dict[str, int], *, hand_over: str | None = None, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(1000 + seed)
    image = np.full((HEIGHT, WIDTH, 3), 150, np.uint8)
    # Shelf boards, a little texture so alignment has something to hold on to.
    for y in (100, 340, 580):
        cv2.rectangle(image, (0, y + 230), (WIDTH, y + 250), (90, 110, 130), -1)
    texture = np.random.default_rng(7).integers(0, 30, (HEIGHT, WIDTH, 1), dtype=np.uint8)
    image = cv2.add(image, np.repeat(texture, 3, axis=2))
    for key, x, y, w, h, colour in SLOTS:
        cv2.rectangle(image, (x, y), (x + CAPACITY * w, y + h), (45, 45, 45), -1)
        for i in range(units.get(key, 0)):
            x0 = x + i * w + 4
            cv2.rectangle(image, (x0, y + 4), (x0 + w - 8, y + h - 4), colour, -1)
            cv2.rectangle(image, (x0 + 10, y + 40), (x0 + w - 18, y + 80), (240, 240, 240), -1)
            cv2.putText(image, "COLA", (x0 + 14, y + 70), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 2)
            cv2.circle(image, (x0 + w // 2 - 4, y + 140), 22, (0, 200, 240), -1)
    if hand_over is not None:
        polygon = slot_polygon(hand_over)
        x0, y0 = polygon[0]
        cv2.rectangle(image, (x0 + 100, y0 - 110), (x0 + 260, y0 + 180), (120, 160, 220), -1)
    noise = rng.normal(0, 2.0, image.shape)
    return np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()
