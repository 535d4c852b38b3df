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
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from sensing.vision.scene import (
    EMPTY,
    FULL,
    HEIGHT,
    OTHER,
    RECESSED,
    SKIN_TONES,
    WIDTH,
    Episode,
    Scene,
    Slot,
    arm_draw,
    person_draw,
)
from sensing.vision.types import Calibration, SlotSpec


class Recorder:
    """Plays the timeline of one camera and writes its frames."""

    def __init__(self, rng: random.Random, scene: Scene, seconds: float, fps: float) -> None:
        self.rng = rng
        self.scene = scene
        self.seconds = seconds
        self.dt = 1.0 / fps
        self.truth: dict[str, list] = {"events": [], "units": [], "wrong_product": [], "alerts": [], "faces": []}
        self.episodes = self._timeline()
        nrng = np.random.default_rng(rng.randrange(2**32))
        # A few noise fields, reused with random picks: per-frame sensor noise at little cost.
        self.noise = [(nrng.normal(0, 3.2, (HEIGHT, WIDTH, 3)).clip(0, 30)).astype(np.uint8) for _ in range(4)]

    def _pick_slot(self, want: Callable[[Slot], bool]) -> Slot | None:
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

    def run(self, out: Path) -> list[dict]:
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

    def render(self, t: float, active: list[Episode], *, lighting: bool = False) -> tuple[np.ndarray, list]:
        """One frame at ``t`` with ``active`` episodes (noise and jitter; lighting drift if asked)."""
        return self._render(t, active, 0.0, 100.0 if lighting else 1e9)

    def _render(self, t: float, active: list[Episode], phase: float, period: float) -> tuple[np.ndarray, list]:
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
                    arm_draw(img, target, reach, span, base_x, sleeve, skin)
            elif ep.kind == "person":
                direction = ep.params["direction"]
                cx = int(-150 + (WIDTH + 300) * (progress if direction > 0 else 1 - progress))
                box = person_draw(img, cx, ep.params)
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
    truth: dict[str, list] = {"events": [], "units": [], "wrong_product": [], "alerts": [], "faces": []}
    for index in range(cameras):
        camera = f"cam{index + 1}"
        rng = random.Random(seed * 1000 + index)  # noqa: S311 - synthetic scenes, not secrets  # nosec B311
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
    rng = random.Random(seed * 1000)  # noqa: S311 - synthetic scenes, not secrets  # nosec B311
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
