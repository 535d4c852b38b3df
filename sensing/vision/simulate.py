"""A synthetic shelf-camera recording with ground truth, in the format of shared/sensing-dataset.md.

Each camera looks at a shelf unit of three boards; every board holds a few slots of one product
with several facings. A timeline of episodes plays one after the other: a shopper's hand and arm
taking or putting back units, a clerk restocking, a misplaced product (and its removal), people
walking past (with faces), and camera trouble: blur, darkness, a large shift, a blocked view, a
gap in frames. Every frame gets lighting drift, small jitter, sensor noise and JPEG artefacts.
Rendering is incremental (the shelf is redrawn only when it changes), so a five-minute recording at
2 frames per second takes seconds.
"""

from __future__ import annotations

import json
import math
import random
import string
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from sensing.vision.types import Calibration, SlotSpec

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
    params: dict = field(default_factory=dict)  # type: ignore[type-arg]


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


def _arm(img: np.ndarray, target: tuple[int, int], reach: float, width: int, base_x: int, sleeve, skin) -> None:  # type: ignore[no-untyped-def]
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


def _person(img: np.ndarray, cx: int, params: dict) -> tuple[int, int, int, int]:  # type: ignore[type-arg]
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


class Recorder:
    """Plays the timeline of one camera and writes its frames."""

    def __init__(self, rng: random.Random, scene: Scene, seconds: float, fps: float) -> None:
        self.rng = rng
        self.scene = scene
        self.seconds = seconds
        self.dt = 1.0 / fps
        self.truth: dict[str, list] = {"events": [], "units": [], "wrong_product": [], "alerts": [], "faces": []}  # type: ignore[type-arg]
        self.episodes = self._timeline()
        nrng = np.random.default_rng(rng.randrange(2**32))
        # A few noise fields, reused with random picks: per-frame sensor noise at little cost.
        self.noise = [(nrng.normal(0, 3.2, (HEIGHT, WIDTH, 3)).clip(0, 30)).astype(np.uint8) for _ in range(4)]

    def _pick_slot(self, want) -> Slot | None:  # type: ignore[no-untyped-def]
        choices = [s for s in self.scene.slots if want(s) and s.name not in self._busy_slots]
        return self.rng.choice(choices) if choices else None

    def _timeline(self) -> list[Episode]:
        rng = self.rng
        t = 4.0
        episodes: list[Episode] = []
        pending_removal: list[tuple[float, Slot, int]] = []
        self._busy_slots: set[str] = set()
        # Planning works on a copy of the cell states; rendering replays the same changes.
        plan = {s.name: list(s.cells) for s in self.scene.slots}
        last_health = -30.0
        while t < self.seconds - 8:
            gap = rng.uniform(1.5, 4.5)
            t += gap
            if pending_removal and pending_removal[0][0] <= t:
                _, removal_slot, cell = pending_removal.pop(0)
                duration = rng.uniform(2.0, 3.0)
                episodes.append(Episode("remove_other", t, t + duration, removal_slot, [cell]))
                plan[removal_slot.name][cell] = EMPTY
                self._busy_slots.discard(removal_slot.name)
                t += duration
                continue
            roll = rng.random()
            health_ok = t - last_health > 25
            if roll < 0.40:
                slot = self._pick_slot(lambda s: sum(c == FULL for c in plan[s.name]) > 0)
                if slot is None:
                    continue
                full = [i for i, c in enumerate(plan[slot.name]) if c == FULL]
                quantity = min(len(full), rng.choices([1, 2, 3], [0.65, 0.28, 0.07])[0])
                cells = sorted(rng.sample(full, quantity))
                cells = full[-quantity:] if rng.random() < 0.5 else cells  # often the outermost ones
                for i in cells:
                    plan[slot.name][i] = RECESSED if rng.random() < 0.35 else EMPTY
                duration = rng.uniform(2.0, 3.5)
                episodes.append(Episode("take", t, t + duration, slot, cells))
            elif roll < 0.52:
                slot = self._pick_slot(lambda s: any(c in (EMPTY, RECESSED) for c in plan[s.name]))
                if slot is None:
                    continue
                empty = [i for i, c in enumerate(plan[slot.name]) if c in (EMPTY, RECESSED)]
                quantity = min(len(empty), rng.choices([1, 2], [0.8, 0.2])[0])
                cells = sorted(rng.sample(empty, quantity))
                for i in cells:
                    plan[slot.name][i] = FULL
                duration = rng.uniform(2.0, 3.5)
                episodes.append(Episode("put", t, t + duration, slot, cells))
            elif roll < 0.62:
                slot = self._pick_slot(lambda s: sum(c != FULL for c in plan[s.name]) >= 2)
                if slot is None:
                    continue
                cells = [i for i, c in enumerate(plan[slot.name]) if c != FULL]
                for i in cells:
                    plan[slot.name][i] = FULL
                duration = rng.uniform(3.0, 4.5)
                episodes.append(Episode("put", t, t + duration, slot, cells, {"clerk": True}))
            elif roll < 0.66:
                slot = self._pick_slot(lambda s: any(c in (EMPTY, RECESSED) for c in plan[s.name]))
                if slot is None:
                    continue
                cell = rng.choice([i for i, c in enumerate(plan[slot.name]) if c in (EMPTY, RECESSED)])
                plan[slot.name][cell] = OTHER
                duration = rng.uniform(2.0, 3.0)
                episodes.append(Episode("place_other", t, t + duration, slot, [cell], {"other": rng.randrange(4)}))
                self._busy_slots.add(slot.name)
                pending_removal.append((t + duration + rng.uniform(15, 35), slot, cell))
            elif roll < 0.84:
                duration = rng.uniform(3.0, 5.0)
                params = {
                    "direction": rng.choice([-1, 1]),
                    "shirt": tuple(rng.randint(30, 220) for _ in range(3)),
                    "skin": rng.choice(SKIN_TONES),
                    "hair": tuple(rng.randint(10, 70) for _ in range(3)),
                    "head_y": rng.randint(90, 260),
                    "body_w": rng.randint(170, 230),
                }
                episodes.append(Episode("person", t, t + duration, params=params))
            elif health_ok:
                kind = rng.choice(["blurred", "dark", "moved", "blocked", "offline"])
                duration = rng.uniform(5.0, 12.0) if kind != "offline" else rng.uniform(14.0, 25.0)
                # A spell must end inside the recording: a gap at the very end is invisible to a
                # pipeline that only learns of it from the next frame.
                if t + duration > self.seconds - 3:
                    continue
                params = {}
                if kind == "moved":
                    angle = rng.uniform(0, 2 * math.pi)
                    magnitude = rng.uniform(18, 50)
                    params = {"dx": magnitude * math.cos(angle), "dy": magnitude * math.sin(angle)}
                elif kind == "blocked":
                    params = {"side": rng.choice([-1, 1]), "color": tuple(rng.randint(60, 150) for _ in range(3))}
                elif kind == "blurred":
                    params = {"sigma": rng.uniform(4.0, 7.0)}
                elif kind == "dark":
                    params = {"gain": rng.uniform(0.08, 0.25)}
                episodes.append(Episode(kind, t, t + duration, params=params))
                last_health = t + duration
            else:
                continue
            t = episodes[-1].end
        return episodes

    def run(self, out: Path) -> list[dict]:  # type: ignore[type-arg]
        """Render every frame to ``out/frames/<camera>/`` and fill ``self.truth``; returns frame rows."""
        camera = self.scene.camera
        folder = out / "frames" / camera
        folder.mkdir(parents=True, exist_ok=True)
        # The reference is a frame like any other (noise, a little jitter), taken before anything happens.
        reference, _ = self._render(0.0, [], 0.0, 1e9)
        cv2.imwrite(str(folder / "000000.jpg"), reference, [cv2.IMWRITE_JPEG_QUALITY, 85])
        rows = []
        phase = self.rng.uniform(0, 2 * math.pi)
        period = self.rng.uniform(60, 140)
        episodes = list(self.episodes)
        applied: set[int] = set()
        for ep in episodes:
            if ep.kind in ("blurred", "dark", "moved", "blocked", "offline"):
                self.truth["alerts"].append(
                    {"camera": camera, "kind": ep.kind, "t_start": round(ep.start, 2), "t_end": round(ep.end, 2)}
                )
        next_units = 0.0
        frame_no = 0
        t = self.dt
        while t <= self.seconds:
            active = [ep for ep in episodes if ep.start <= t < ep.end]
            # Changes of the shelf happen while the hand covers it; events are logged when it left.
            for index, ep in enumerate(episodes):
                if ep.slot is not None and index not in applied and t >= ep.start + 0.45 * (ep.end - ep.start):
                    self._apply(ep)
                    applied.add(index)
                    self._log(ep)
            while next_units <= t:
                for slot in self.scene.slots:
                    self.truth["units"].append(
                        {"camera": camera, "slot": slot.name, "t": round(next_units, 2), "units": slot.units}
                    )
                next_units += 5.0
            if any(ep.kind == "offline" for ep in active):
                t = round(t + self.dt, 3)
                continue
            frame_no += 1
            name = f"{frame_no:06d}.jpg"
            image, faces = self._render(t, active, phase, period)
            quality = self.rng.randint(65, 88)
            (folder / name).write_bytes(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes())
            rows.append({"camera": camera, "file": f"frames/{camera}/{name}", "t": round(t, 3)})
            for box in faces:
                self.truth["faces"].append({"camera": camera, "file": f"frames/{camera}/{name}", "box": list(box)})
            t = round(t + self.dt, 3)
        return rows

    def _apply(self, ep: Episode) -> None:
        slot = ep.slot
        assert slot is not None
        for i in ep.cells:
            if ep.kind == "take":
                slot.cells[i] = RECESSED if self.rng.random() < 0.35 else EMPTY
            elif ep.kind == "put":
                slot.cells[i] = FULL
            elif ep.kind == "place_other":
                slot.cells[i] = OTHER
                slot.other[i] = self.scene.others[ep.params["other"]]
            elif ep.kind == "remove_other":
                slot.cells[i] = EMPTY
        self.scene.draw_slot(slot)

    def _log(self, ep: Episode) -> None:
        slot = ep.slot
        assert slot is not None
        camera = self.scene.camera
        # The event happens when the hand has left: the first frame time at or after the episode's end.
        t_left = round(math.ceil(ep.end / self.dt - 1e-9) * self.dt, 3)
        if ep.kind == "take":
            self.truth["events"].append(
                {"camera": camera, "slot": slot.name, "kind": "take", "quantity": len(ep.cells), "t": t_left}
            )
        elif ep.kind == "put":
            kind = "restock" if len(ep.cells) >= 2 and slot.units == len(slot.cells) else "put_back"
            self.truth["events"].append(
                {"camera": camera, "slot": slot.name, "kind": kind, "quantity": len(ep.cells), "t": t_left}
            )
        elif ep.kind == "place_other":
            self.truth["wrong_product"].append({"camera": camera, "slot": slot.name, "t_start": t_left, "t_end": None})
        elif ep.kind == "remove_other":
            for row in self.truth["wrong_product"]:
                if row["slot"] == slot.name and row["t_end"] is None:
                    row["t_end"] = t_left

    def render(self, t: float, active: list[Episode], *, lighting: bool = False) -> tuple[np.ndarray, list]:  # type: ignore[type-arg]
        """One frame at ``t`` with ``active`` episodes (noise and jitter; lighting drift if asked)."""
        return self._render(t, active, 0.0, 100.0 if lighting else 1e9)

    def _render(self, t: float, active: list[Episode], phase: float, period: float) -> tuple[np.ndarray, list]:  # type: ignore[type-arg]
        rng = self.rng
        img = self.scene.canvas.copy()
        faces = []
        gain = 1.0 + 0.12 * math.sin(2 * math.pi * t / period + phase)
        dx, dy = rng.uniform(-1.6, 1.6), rng.uniform(-1.6, 1.6)
        sigma = 0.0
        for ep in active:
            progress = (t - ep.start) / (ep.end - ep.start)
            if ep.slot is not None:
                xs = [ep.slot.facings[i][0] + ep.slot.facings[i][2] // 2 for i in ep.cells]
                _fx, fy, fw, fh = ep.slot.facings[ep.cells[0]]
                target = (sum(xs) // len(xs), fy + fh // 2)
                span = max(xs) - min(xs) + fw + 30
                reach = (
                    min(1.0, progress / 0.3)
                    if progress < 0.3
                    else (1.0 if progress < 0.75 else max(0.0, 1 - (progress - 0.75) / 0.25))
                )
                clerk = ep.params.get("clerk", False)
                sleeve = (
                    (40, 40, 160)
                    if clerk
                    else ep.params.setdefault("sleeve", tuple(rng.randint(30, 200) for _ in range(3)))
                )
                skin = ep.params.setdefault("skin", rng.choice(SKIN_TONES))
                base_x = ep.params.setdefault("base_x", target[0] + rng.randint(-200, 200))
                if reach > 0.05:
                    _arm(img, target, reach, span, base_x, sleeve, skin)
            elif ep.kind == "person":
                direction = ep.params["direction"]
                cx = int(-150 + (WIDTH + 300) * (progress if direction > 0 else 1 - progress))
                box = _person(img, cx, ep.params)
                x, y, w, h = box
                if x >= 0 and x + w <= WIDTH:
                    faces.append((x, y, w, h))
            elif ep.kind == "blocked":
                cover = int(WIDTH * 0.68)
                x0 = 0 if ep.params["side"] < 0 else WIDTH - cover
                color = ep.params["color"]
                cv2.rectangle(img, (x0, 0), (x0 + cover, HEIGHT), color, -1)
                for k in range(x0 + 40, x0 + cover, 120):
                    cv2.line(img, (k, 0), (k, HEIGHT), tuple(c * 0.7 for c in color), 6)
                cv2.putText(img, "FRAGILE", (x0 + 80, 380), cv2.FONT_HERSHEY_DUPLEX, 3, (30, 30, 120), 6)
            elif ep.kind == "moved":
                dx += ep.params["dx"]
                dy += ep.params["dy"]
            elif ep.kind == "dark":
                gain *= ep.params["gain"]
            elif ep.kind == "blurred":
                sigma = ep.params["sigma"]
        move = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
        img = cv2.warpAffine(img, move, (WIDTH, HEIGHT), borderMode=cv2.BORDER_REPLICATE)
        faces = [(int(x + dx), int(y + dy), w, h) for x, y, w, h in faces]
        if sigma:
            img = cv2.GaussianBlur(img, (0, 0), sigma)
        img = cv2.convertScaleAbs(img, alpha=gain)
        img = cv2.add(img, self.noise[rng.randrange(4)])
        img = cv2.subtract(img, self.noise[rng.randrange(4)])
        if gain < 0.5:
            faces = []  # nothing recognisable in the dark
        return img, faces


def simulate(out: Path, *, minutes: float, seed: int, cameras: int = 1, fps: float = 2.0) -> dict[str, int]:
    """Write a recording of ``cameras`` cameras to ``out``; returns counts of what was generated."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seconds = minutes * 60
    calibrations, frames = [], []
    truth: dict[str, list] = {"events": [], "units": [], "wrong_product": [], "alerts": [], "faces": []}  # type: ignore[type-arg]
    for index in range(cameras):
        camera = f"cam{index + 1}"
        rng = random.Random(seed * 1000 + index)  # noqa: S311 - synthetic scenes, not secrets
        scene = Scene(rng, camera)
        calibrations.append(
            {
                "camera": camera,
                "width": WIDTH,
                "height": HEIGHT,
                "reference": f"frames/{camera}/000000.jpg",
                "slots": [
                    {
                        "slot": s.name,
                        "product": s.product,
                        "polygon": s.polygon,
                        "capacity": len(s.cells),
                        "initial_units": s.units,
                    }
                    for s in scene.slots
                ],
            }
        )
        recorder = Recorder(rng, scene, seconds, fps)
        frames += recorder.run(out)
        for key, rows in recorder.truth.items():
            truth[key] += rows
    for row in truth["wrong_product"]:
        if row["t_end"] is None:
            row["t_end"] = round(seconds, 3)
    frames.sort(key=lambda r: (r["t"], r["camera"]))
    (out / "cameras.json").write_text(json.dumps(calibrations, indent=1))
    (out / "frames.json").write_text(json.dumps(frames))
    (out / "truth.json").write_text(json.dumps(truth))
    return {"cameras": cameras, "frames": len(frames), "events": len(truth["events"]), "faces": len(truth["faces"])}


def scene_make(seed: int, *, seconds: float = 60.0, fps: float = 2.0) -> Recorder:
    """One camera's shelf and timeline without writing anything (tests render frames from it)."""
    rng = random.Random(seed * 1000)  # noqa: S311 - synthetic scenes, not secrets
    return Recorder(rng, Scene(rng, "cam1"), seconds, fps)


def calibration_of(scene: Scene, reference: np.ndarray) -> Calibration:
    """The calibration an owner would draw for ``scene`` on ``reference`` (its current units)."""
    slots = [
        SlotSpec(
            slot=s.name,
            product=s.product,
            polygon=[(x, y) for x, y in s.polygon],
            capacity=len(s.cells),
            initial_units=s.units,
        )
        for s in scene.slots
    ]
    return Calibration(camera=scene.camera, width=WIDTH, height=HEIGHT, reference=reference, slots=slots)
