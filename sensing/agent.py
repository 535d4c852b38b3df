"""The camera agent: reads a camera with OpenCV and sends settled frames and heartbeats to Lingshou.

It runs next to the camera (``manage.py camera_agent``) and needs no database. Two threads:

* capture reads frames (video file, RTSP URL, device index, or a folder of JPEGs), watches for
  motion, and when the scene has settled after motion (or has been idle for a while) writes the
  frame to the on-disk spool with the next sequence number;
* the sender uploads spooled frames oldest first, one at a time, and removes each only once the
  server took it (2xx). While the server is unreachable it retries with exponential backoff, so
  no frame is lost and the order is kept; a frame the server refuses for good (4xx) is dropped.

Heartbeats go out every few seconds from the sender thread. Ctrl-C stops both threads cleanly;
frames still in the spool are sent on the next start.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

import cv2
import numpy as np
import requests

logger = logging.getLogger("lingshou.camera_agent")


@dataclass(frozen=True)
class AgentConfig:
    source: str
    server: str
    token: str
    spool: Path
    heartbeat_seconds: float = 5.0
    # Still frames in a row that make the scene "settled" after motion.
    settle_frames: int = 3
    # Frames sent once settled: the pipeline confirms a change on a few quiet frames.
    settled_burst: int = 3
    # With no motion at all, send a frame this often anyway (health checks need pictures).
    idle_seconds: float = 5.0
    # Share of pixels that must change between frames to count as motion.
    motion_share: float = 0.004
    jpeg_quality: int = 90
    # Play files and folders at this many frames per second (0: as fast as they read).
    playback_fps: float = 0.0
    loop: bool = False
    # Disk the spool may take while the server is away; beyond it the oldest frames go first (the
    # shelf as it is now matters more, and frames older than the camera's retention are refused anyway).
    spool_max_bytes: int = 1024 * 1024 * 1024
    backoff_start: float = 0.5
    backoff_max: float = 30.0
    timeout: float = 10.0


# --- the spool -----------------------------------------------------------------------------


class Spool:
    """A FIFO of frames on disk. Every write is a rename, so a crash never leaves half a frame.

    Bounded: when its frames take more than ``max_bytes``, the oldest are dropped (and logged).
    """

    def __init__(self, folder: Path, *, max_bytes: int | None = None) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._counter = folder / "next_sequence"
        self._lock = threading.Lock()
        self.max_bytes = max_bytes
        self.dropped = 0
        self._bytes = sum(self._size(sequence) for sequence in self.pending())

    def _size(self, sequence: int) -> int:
        try:
            return (self.folder / f"{sequence:012d}.jpg").stat().st_size
        except FileNotFoundError:
            return 0

    def _write(self, path: Path, data: bytes) -> None:
        temporary = path.with_name(path.name + ".tmp")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    def next_sequence(self) -> int:
        try:
            return int(self._counter.read_text().strip() or 0)
        except FileNotFoundError:
            return 0

    def sequence_at_least(self, value: int) -> None:
        """Never reuse a sequence the server already has (after a reinstall, a lost spool)."""
        with self._lock:
            if self.next_sequence() < value:
                self._write(self._counter, str(value).encode())

    def put(self, jpeg: bytes, captured_at: datetime) -> int:
        with self._lock:
            sequence = self.next_sequence()
            # The counter moves first: a crash after it skips a number, never repeats one.
            self._write(self._counter, str(sequence + 1).encode())
            self._write(self.folder / f"{sequence:012d}.jpg", jpeg)
            # The metadata file is the commit marker: a frame without it is not in the spool.
            meta = {"sequence": sequence, "captured_at": captured_at.isoformat()}
            self._write(self.folder / f"{sequence:012d}.json", json.dumps(meta).encode())
            self._bytes += len(jpeg)
            if self.max_bytes is not None and self._bytes > self.max_bytes:
                self._drop_oldest(keep=sequence)
        return sequence

    def _drop_oldest(self, *, keep: int) -> None:
        dropped = []
        for old in self.pending():
            if self._bytes <= self.max_bytes or old == keep:  # type: ignore[operator]
                break
            self._remove(old)
            dropped.append(old)
        if dropped:
            self.dropped += len(dropped)
            logger.warning(
                "spool over %s MB: dropped the %s oldest frames (%s to %s)",
                self.max_bytes // (1024 * 1024),  # type: ignore[operator]
                len(dropped),
                dropped[0],
                dropped[-1],
            )

    def _remove(self, sequence: int) -> None:
        size = self._size(sequence)
        # The metadata (the commit marker) goes first: a crash in between leaves an orphan picture,
        # never a frame without one.
        (self.folder / f"{sequence:012d}.json").unlink(missing_ok=True)
        if (self.folder / f"{sequence:012d}.jpg").exists():
            (self.folder / f"{sequence:012d}.jpg").unlink(missing_ok=True)
            self._bytes -= size

    def pending(self) -> list[int]:
        return sorted(int(p.stem) for p in self.folder.glob("*.json"))

    def load(self, sequence: int) -> tuple[bytes, str]:
        meta = json.loads((self.folder / f"{sequence:012d}.json").read_text())
        return (self.folder / f"{sequence:012d}.jpg").read_bytes(), meta["captured_at"]

    def done(self, sequence: int) -> None:
        with self._lock:
            self._remove(sequence)


# --- the server ----------------------------------------------------------------------------


class Outcome(Enum):
    DELIVERED = "delivered"
    REFUSED = "refused"  # the server will never take this frame: drop it
    RETRY = "retry"  # the server is down, overloaded, or does not know the token (yet)


class Uploader:
    """Talks to the Lingshou device API with one token."""

    def __init__(self, server: str, token: str, *, timeout: float = 10.0, session: requests.Session | None = None):
        self.base = server.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Device {token}"

    def frame(self, sequence: int, captured_at: str, jpeg: bytes) -> Outcome:
        try:
            response = self.session.post(
                f"{self.base}/api/v1/sensing/frames",
                data={"sequence": str(sequence), "captured_at": captured_at},
                files={"image": (f"{sequence}.jpg", jpeg, "image/jpeg")},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            logger.info("server unreachable: %s", error)
            return Outcome.RETRY
        if response.status_code < 300:
            return Outcome.DELIVERED
        # 401: a token not (yet) known may be a server restored from backup; keep the frames.
        if response.status_code in (401, 408, 429) or response.status_code >= 500:
            logger.warning("server answered %s; will retry", response.status_code)
            return Outcome.RETRY
        logger.error("server refused frame %s: %s %s", sequence, response.status_code, response.text[:300])
        return Outcome.REFUSED

    def heartbeat(self) -> dict[str, object] | None:
        try:
            response = self.session.post(f"{self.base}/api/v1/sensing/heartbeat", timeout=self.timeout)
        except requests.RequestException:
            return None
        if response.status_code != 200:
            return None
        body: dict[str, object] = response.json()
        return body


# --- deciding what to send -----------------------------------------------------------------


class SettleDetector:
    """Says which frames to send: a short burst once the scene is still after motion, else one now and then."""

    def __init__(self, config: AgentConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self.previous: np.ndarray | None = None
        self.still = 0
        self.had_motion = False
        self.burst_left = 0
        self.last_sent = -float("inf")

    def feed(self, image: np.ndarray) -> bool:
        small = cv2.resize(image, (160, max(1, image.shape[0] * 160 // image.shape[1])), interpolation=cv2.INTER_AREA)
        gray = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
        moving = False
        if self.previous is not None:
            moving = float((cv2.absdiff(gray, self.previous) > 25).mean()) > self.config.motion_share
        self.previous = gray
        now = self.clock()
        if moving:
            self.had_motion = True
            self.still = 0
            self.burst_left = 0
            return False
        self.still += 1
        if self.had_motion and self.still >= self.config.settle_frames:
            self.had_motion = False
            self.burst_left = self.config.settled_burst
        if self.burst_left > 0:
            self.burst_left -= 1
            self.last_sent = now
            return True
        if now - self.last_sent >= self.config.idle_seconds:
            self.last_sent = now
            return True
        return False


def frames_read(config: AgentConfig, stop: threading.Event) -> Iterator[np.ndarray]:
    """BGR frames from the source until it ends (files) or ``stop`` is set."""
    source = config.source
    interval = 1.0 / config.playback_fps if config.playback_fps > 0 else 0.0
    while not stop.is_set():
        if os.path.isdir(source):
            paths = sorted(p for p in Path(source).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
            for path in paths:
                if stop.is_set():
                    return
                image = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if image is not None:
                    yield image
                if interval:
                    stop.wait(interval)
        else:
            capture = cv2.VideoCapture(int(source) if source.isdigit() else source)
            if not capture.isOpened():
                raise RuntimeError(f"cannot open camera source {source!r}")
            try:
                while not stop.is_set():
                    ok, image = capture.read()
                    if not ok:
                        break
                    yield image
                    if interval:
                        stop.wait(interval)
            finally:
                capture.release()
            # A live source that drops is opened again; a file ends unless looping.
            if source.isdigit() or "://" in source:
                stop.wait(1.0)
                continue
        if not config.loop:
            return


# --- the agent -----------------------------------------------------------------------------


class Agent:
    def __init__(self, config: AgentConfig, *, uploader: Uploader | None = None) -> None:
        self.config = config
        self.spool = Spool(config.spool, max_bytes=config.spool_max_bytes)
        self.uploader = uploader or Uploader(config.server, config.token, timeout=config.timeout)
        self.stop = threading.Event()
        self.capture_done = threading.Event()
        self.wake = threading.Event()
        self.delivered: list[int] = []
        self.refused: list[int] = []

    # capture thread
    def capture(self) -> None:
        detector = SettleDetector(self.config)
        try:
            for image in frames_read(self.config, self.stop):
                if not detector.feed(image):
                    continue
                ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.config.jpeg_quality])
                if ok:
                    sequence = self.spool.put(buffer.tobytes(), datetime.now(UTC))
                    logger.debug("spooled frame %s", sequence)
                    self.wake.set()
        finally:
            self.capture_done.set()
            self.wake.set()

    # sender thread
    def send(self, *, until_empty: bool = False) -> None:
        backoff = self.config.backoff_start
        next_heartbeat = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_heartbeat:
                answer = self.uploader.heartbeat()
                if answer is not None and isinstance(answer.get("last_sequence"), int):
                    self.spool.sequence_at_least(int(answer["last_sequence"]) + 1)  # type: ignore[call-overload]
                next_heartbeat = now + self.config.heartbeat_seconds
            pending = self.spool.pending()
            if not pending:
                if until_empty and self.capture_done.is_set():
                    return
                self.wake.wait(min(self.config.heartbeat_seconds, 1.0))
                self.wake.clear()
                continue
            sequence = pending[0]
            try:
                jpeg, captured_at = self.spool.load(sequence)
            except FileNotFoundError:
                continue  # dropped from a full spool since it was listed
            outcome = self.uploader.frame(sequence, captured_at, jpeg)
            if outcome is Outcome.RETRY:
                # Full jitter keeps many cameras of one shop from retrying in step.
                self.stop.wait(random.uniform(0, backoff))  # noqa: S311 - jitter, not security  # nosec B311
                backoff = min(backoff * 2, self.config.backoff_max)
                continue
            backoff = self.config.backoff_start
            (self.delivered if outcome is Outcome.DELIVERED else self.refused).append(sequence)
            self.spool.done(sequence)

    def run(self) -> None:
        """Capture and send until the source ends and the spool is empty, or until stopped (Ctrl-C)."""
        capture = threading.Thread(target=self.capture, name="capture", daemon=True)
        sender = threading.Thread(target=self.send, kwargs={"until_empty": True}, name="sender", daemon=True)
        try:
            # Started inside the try: a Ctrl-C while they start still stops them.
            capture.start()
            sender.start()
            while sender.is_alive():
                sender.join(0.2)
        except KeyboardInterrupt:
            logger.info("stopping; %s frames stay spooled for the next start", len(self.spool.pending()))
        finally:
            self.stop.set()
            self.wake.set()
            if capture.ident is not None:
                capture.join(5)
            if sender.ident is not None:
                sender.join(self.config.timeout + 1)
