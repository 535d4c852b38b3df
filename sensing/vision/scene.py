"""The synthetic shelf the simulator draws: products, slots and facings, and the people who reach into them.

Framework-free (numpy and OpenCV only). ``simulate`` plays a timeline of episodes on this scene.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

import cv2
import numpy as np

WIDTH, HEIGHT = 1280, 720
ROW_TOPS = (40, 255, 470)  # y of the top of each shelf row's product space
ROW_HEIGHT = 170  # product space height above each board
BOARD = 22
EMPTY, FULL, RECESSED, OTHER = 0, 1, 2, 3
SKIN_TONES = [(120, 160, 215), (90, 130, 190), (60, 95, 150), (140, 180, 230), (50, 75, 115)]


@dataclass
class Slot:
    name: str
    product: str
    facings: list[tuple[int, int, int, int]]  # x, y, w, h of each unit's front
    image: np.ndarray  # the product front
    cells: list[int]  # EMPTY / FULL / RECESSED / OTHER per facing
    other: dict[int, np.ndarray] = field(default_factory=dict)  # misplaced fronts by facing

    @property
    def units(self) -> int:
        return sum(c == FULL for c in self.cells)

    @property
    def polygon(self) -> list[list[int]]:
        x0 = self.facings[0][0] - 4
        x1 = self.facings[-1][0] + self.facings[-1][2] + 4
        y0 = min(f[1] for f in self.facings) - 6
        y1 = self.facings[0][1] + self.facings[0][3]
        return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


@dataclass
class Episode:
    kind: str
    start: float
    end: float
    slot: Slot | None = None
    cells: list[int] = field(default_factory=list)
    params: dict = field(default_factory=dict)


def _word(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(size))


def _product_front(rng: random.Random, width: int, height: int) -> np.ndarray:
    """A packaging front: base colour, a pattern, a band, a logo and printed text."""
    hue = rng.randrange(180)
    base = cv2.cvtColor(np.array([[[hue, rng.randint(120, 255), rng.randint(150, 245)]]], np.uint8), cv2.COLOR_HSV2BGR)[
        0, 0
    ]
    accent = cv2.cvtColor(
        np.array([[[(hue + rng.randint(40, 140)) % 180, 200, rng.randint(60, 230)]]], np.uint8), cv2.COLOR_HSV2BGR
    )[0, 0]
    img = np.empty((height, width, 3), np.uint8)
    img[:] = base
    pattern = rng.randrange(4)
    if pattern == 0:  # diagonal stripes
        for k in range(-height, width, rng.randint(9, 16)):
            cv2.line(img, (k, height), (k + height, 0), accent.tolist(), rng.randint(2, 4))
    elif pattern == 1:  # dots
        for _ in range(rng.randint(10, 20)):
            cv2.circle(img, (rng.randrange(width), rng.randrange(height)), rng.randint(3, 8), accent.tolist(), -1)
    elif pattern == 2:  # horizontal bands
        for y in range(0, height, rng.randint(12, 22)):
            cv2.rectangle(img, (0, y), (width, y + rng.randint(3, 7)), accent.tolist(), -1)
    else:  # checker
        step = rng.randint(10, 16)
        for y in range(0, height, step):
            for x in range((y // step % 2) * step, width, 2 * step):
                cv2.rectangle(img, (x, y), (x + step - 1, y + step - 1), accent.tolist(), -1)
    band_y = rng.choice(
        [rng.randint(4, height // 5), rng.randint(height // 4, height // 2), rng.randint(height // 2, 2 * height // 3)]
    )
    band = (255 - accent).tolist() if rng.random() < 0.5 else (245, 245, 245)
    cv2.rectangle(img, (0, band_y), (width, band_y + height // 4), band, -1)
    ink = (20, 20, 20) if sum(band) > 380 else (250, 250, 250)
    cv2.putText(img, _word(rng, 4), (3, band_y + height // 8 + 4), cv2.FONT_HERSHEY_DUPLEX, 0.45, ink, 1, cv2.LINE_AA)
    cv2.putText(img, _word(rng, 5), (3, band_y + height // 4 - 3), cv2.FONT_HERSHEY_PLAIN, 0.8, ink, 1, cv2.LINE_AA)
    logo = (rng.randint(width // 4, 3 * width // 4), rng.choice([height // 6 + 4, band_y + height // 4 + 22]))
    logo = (logo[0], min(logo[1], height - 24))
    cv2.circle(img, logo, min(width, height) // rng.randint(5, 8), (255 - base).tolist(), -1)
    cv2.putText(img, _word(rng, 2), (logo[0] - 9, logo[1] + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, base.tolist(), 1)
    code_x = rng.choice([6, width - 30])
    for i in range(8):  # barcode-ish lines at the bottom
        x = code_x + i * 3 + rng.randint(0, 1)
        cv2.line(img, (x, height - 16), (x, height - 5), (15, 15, 15), 1)
    cv2.rectangle(img, (0, 0), (width - 1, height - 1), (int(base[0]) // 2, int(base[1]) // 2, int(base[2]) // 2), 2)
    return img


class Scene:
    """One camera's shelf, its state and its drawing."""

    def __init__(self, rng: random.Random, camera: str) -> None:
        self.rng = rng
        self.camera = camera
        self.background = self._background()
        self.slots: list[Slot] = []
        gtin_base = rng.randrange(10**11, 10**12)
        number = 1
        for row_top in ROW_TOPS:
            x = rng.randint(70, 110)
            board_y = row_top + ROW_HEIGHT
            while True:
                capacity = rng.randint(3, 5)
                unit_w = rng.randint(54, 68)
                unit_h = rng.randint(104, 140)
                span = capacity * (unit_w + 6)
                if x + span > WIDTH - 70:
                    break
                image = _product_front(rng, unit_w, unit_h)
                facings = [(x + i * (unit_w + 6), board_y - unit_h, unit_w, unit_h) for i in range(capacity)]
                cells = [FULL] * capacity
                if rng.random() < 0.25:
                    cells[rng.randrange(capacity)] = EMPTY
                gtin = str(gtin_base + number)
                self.slots.append(Slot(f"s{number}", gtin + str(number % 10), facings, image, cells))
                number += 1
                x += span + rng.randint(22, 40)
        self.others = [_product_front(rng, 60, 120) for _ in range(4)]
        self.canvas = self.background.copy()
        for slot in self.slots:
            self.draw_slot(slot)

    def _background(self) -> np.ndarray:
        rng = np.random.default_rng(self.rng.randrange(2**32))
        img: np.ndarray = np.empty((HEIGHT, WIDTH, 3), np.uint8)
        ramp = np.linspace(170, 205, WIDTH, dtype=np.float32)
        img[:] = np.stack([ramp * 0.92, ramp * 0.97, ramp], axis=-1).astype(np.uint8)[None, :, :]
        img = cv2.add(img, rng.integers(0, 12, (HEIGHT, WIDTH, 3), dtype=np.uint8))
        cv2.rectangle(img, (50, 20), (WIDTH - 50, HEIGHT - 10), (58, 62, 66), -1)  # the unit's back panel
        for x in range(50, WIDTH - 50, 40):  # pegboard holes give the back some texture
            for y in range(30, HEIGHT - 10, 40):
                cv2.circle(img, (x + 20, y + 10), 3, (35, 38, 40), -1)
        for row_top in ROW_TOPS:
            y = row_top + ROW_HEIGHT
            cv2.rectangle(img, (50, y), (WIDTH - 50, y + BOARD), (120, 160, 190), -1)
            cv2.line(img, (50, y), (WIDTH - 50, y), (90, 120, 150), 2)
            for x in range(90, WIDTH - 90, 150):  # price labels on the board edge
                cv2.rectangle(img, (x, y + 4), (x + 46, y + 18), (250, 250, 250), -1)
                cv2.putText(img, f"{self.rng.randint(1, 9)},{self.rng.randint(10, 99)}", (x + 3, y + 16),
                            cv2.FONT_HERSHEY_SIMPLEX, 0.4, (20, 20, 20), 1)  # fmt: skip
        return img

    def draw_slot(self, slot: Slot) -> None:
        for i, (x, y, w, h) in enumerate(slot.facings):
            board_y = y + h
            top = board_y - ROW_HEIGHT + 8
            self.canvas[top:board_y, x - 3 : x + w + 3] = self.background[top:board_y, x - 3 : x + w + 3]
            state = slot.cells[i]
            if state == FULL:
                self.canvas[y : y + h, x : x + w] = slot.image
            elif state == RECESSED:  # a unit further back: smaller and in the shelf's shadow
                rw, rh = int(w * 0.8), int(h * 0.8)
                small = (cv2.resize(slot.image, (rw, rh)).astype(np.float32) * 0.42).astype(np.uint8)
                rx, ry = x + (w - rw) // 2, board_y - rh - 6
                self.canvas[ry : ry + rh, rx : rx + rw] = small
            elif state == OTHER:
                other = slot.other[i]
                oh, ow = min(other.shape[0], h + 10), min(other.shape[1], w)
                self.canvas[board_y - oh : board_y, x : x + ow] = other[-oh:, :ow]


def arm_draw(
    img: np.ndarray,
    target: tuple[int, int],
    reach: float,
    width: int,
    base_x: int,
    sleeve: tuple[int, int, int],
    skin: tuple[int, int, int],
) -> None:
    """A shopper's arm from the bottom edge to a hand at ``target`` (``reach`` 0..1 of the way)."""
    tx, ty = target
    start = (base_x, HEIGHT + 40)
    hand = (int(start[0] + (tx - start[0]) * reach), int(start[1] + (ty - start[1]) * reach))
    elbow = (int((start[0] + hand[0]) / 2 + 40), int((start[1] + hand[1]) / 2 + 30))
    cv2.line(img, start, elbow, sleeve, 64, cv2.LINE_AA)
    cv2.line(img, elbow, hand, skin, 46, cv2.LINE_AA)
    cv2.line(img, elbow, (elbow[0] + (hand[0] - elbow[0]) // 3, elbow[1] + (hand[1] - elbow[1]) // 3), sleeve, 60)
    cv2.ellipse(img, hand, (max(width // 2, 38), 58), 0, 0, 360, skin, -1, cv2.LINE_AA)
    cv2.ellipse(img, (hand[0] - width // 4, hand[1] - 40), (14, 26), 0, 0, 360, skin, -1)  # fingers
    cv2.ellipse(img, (hand[0] + width // 4, hand[1] - 40), (14, 26), 0, 0, 360, skin, -1)


def person_draw(img: np.ndarray, cx: int, params: dict) -> tuple[int, int, int, int]:
    """A person walking past, facing the camera; returns the face box."""
    shirt, skin, hair = params["shirt"], params["skin"], params["hair"]
    top = params["head_y"]
    body_w = params["body_w"]
    cv2.rectangle(img, (cx - body_w // 2, top + 110), (cx + body_w // 2, HEIGHT), shirt, -1)
    cv2.ellipse(img, (cx, top + 120), (body_w // 2 + 10, 40), 0, 180, 360, shirt, -1)
    cv2.rectangle(img, (cx - 20, top + 80), (cx + 20, top + 115), skin, -1)  # neck
    fw, fh = 78, 100
    cv2.ellipse(img, (cx, top + 45), (fw // 2, fh // 2), 0, 0, 360, skin, -1, cv2.LINE_AA)
    cv2.ellipse(img, (cx, top + 15), (fw // 2 + 4, 30), 0, 180, 360, hair, -1)
    for side in (-1, 1):
        eye = (cx + side * 17, top + 38)
        cv2.line(img, (eye[0] - 11, eye[1] - 12), (eye[0] + 11, eye[1] - 13), hair, 4)  # brow
        cv2.ellipse(img, eye, (10, 5), 0, 0, 360, (240, 240, 240), -1)
        cv2.circle(img, eye, 4, (40, 30, 20), -1)
    cv2.line(img, (cx, top + 42), (cx - 4, top + 62), (skin[0] * 0.7, skin[1] * 0.7, skin[2] * 0.7), 3)
    cv2.ellipse(img, (cx, top + 75), (16, 6), 0, 0, 360, (60, 60, 150), -1)
    return (cx - fw // 2, top - 5, fw, fh + 5)
