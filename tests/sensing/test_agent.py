"""The camera agent: spool on disk, retry with backoff while the server is down, order kept, clean stop."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from sensing.agent import Agent, AgentConfig, SettleDetector, Spool
from tests.sensing import shelf
from tests.worker import wait_for


class Recorder(BaseHTTPRequestHandler):
    """Stands in for Lingshou: takes frames (202) and heartbeats (200), remembering their order."""

    received: list[int]
    heartbeats: list[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/heartbeat"):
            self.server.heartbeats.append(self.headers["Authorization"])  # type: ignore[attr-defined]
            self._answer(200, b'{"camera_id": 1, "last_sequence": null, "is_calibrated": true}')
            return
        match = re.search(rb'name="sequence"\r\n\r\n(\d+)', body)
        assert match is not None
        assert b"\xff\xd8\xff" in body
        self.server.received.append(int(match.group(1)))  # type: ignore[attr-defined]
        self._answer(202, b"{}")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, _format: str, *_args: object) -> None:
        return


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server_port() -> int:
    return _free_port()


def _serve(port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), Recorder)
    server.received = []  # type: ignore[attr-defined]
    server.heartbeats = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def agent_config(tmp_path: Path, server_port: int) -> AgentConfig:
    return AgentConfig(
        source=str(tmp_path / "frames"),
        server=f"http://127.0.0.1:{server_port}",
        token="lsd_test",
        spool=tmp_path / "spool",
        heartbeat_seconds=0.2,
        backoff_start=0.05,
        backoff_max=0.3,
        timeout=2.0,
    )


@pytest.fixture
def running_sender(agent_config: AgentConfig) -> Iterator[Agent]:
    agent = Agent(agent_config)
    thread = threading.Thread(target=agent.send, daemon=True)
    thread.start()
    yield agent
    agent.stop.set()
    agent.wake.set()
    thread.join(5)


def test_frames_wait_in_the_spool_while_the_server_is_down_then_all_arrive_in_order(
    running_sender: Agent, server_port: int
) -> None:
    agent = running_sender
    jpeg = shelf.jpeg(shelf.shelf({"s1": 4}))
    for _ in range(6):
        agent.spool.put(jpeg, datetime.now(UTC))
        agent.wake.set()
    # Several retries go by with the server down: nothing is lost, nothing is reordered.
    assert wait_for(lambda: False, timeout=1.0) is False
    assert agent.spool.pending() == [0, 1, 2, 3, 4, 5]
    assert agent.delivered == []
    server = _serve(server_port)
    try:
        assert wait_for(lambda: agent.spool.pending() == [], timeout=20)
        for _ in range(3):
            agent.spool.put(jpeg, datetime.now(UTC))
            agent.wake.set()
        assert wait_for(lambda: len(server.received) == 9, timeout=20)  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
    assert server.received == list(range(9))  # type: ignore[attr-defined]
    assert agent.delivered == list(range(9))
    assert server.heartbeats
    assert set(server.heartbeats) == {"Device lsd_test"}


def test_the_spool_survives_a_restart_and_never_reuses_a_sequence(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    assert [spool.put(b"\xff\xd8\xff1", datetime.now(UTC)) for _ in range(3)] == [0, 1, 2]
    spool.done(0)
    again = Spool(tmp_path / "spool")
    assert again.pending() == [1, 2]
    assert again.load(1)[0] == b"\xff\xd8\xff1"
    assert again.put(b"\xff\xd8\xff2", datetime.now(UTC)) == 3
    # The server says it already has frame 10 (a reinstalled agent): numbering continues after it.
    again.sequence_at_least(11)
    assert again.put(b"\xff\xd8\xff3", datetime.now(UTC)) == 11


def test_a_burst_is_sent_once_the_scene_settles_after_motion(agent_config: AgentConfig) -> None:
    clock = [0.0]
    detector = SettleDetector(agent_config, clock=lambda: clock[0])
    still = shelf.shelf({"s1": 4, "s2": 4})
    hand = shelf.shelf({"s1": 4, "s2": 4}, hand_over="s1")
    after = shelf.shelf({"s1": 3, "s2": 4})
    sent = []
    for image in [still, still, hand, hand, after, after, after, after, after, after, after]:
        clock[0] += 0.2
        sent.append(detector.feed(image))
    # First frame (idle), nothing while the hand moves, then three once settled for three frames.
    assert sent == [True, False, False, False, False, False, False, True, True, True, False]
    clock[0] += agent_config.idle_seconds
    assert detector.feed(after) is True


def test_the_agent_sends_a_folder_of_frames_and_ends_when_the_spool_is_empty(
    agent_config: AgentConfig, server_port: int
) -> None:
    folder = Path(agent_config.source)
    folder.mkdir()
    scenes = [({"s1": 4}, None)] * 2 + [({"s1": 4}, "s1")] * 2 + [({"s1": 2}, None)] * 7
    for index, (units, hand) in enumerate(scenes):
        cv2.imwrite(str(folder / f"{index:04d}.jpg"), shelf.shelf(units, hand_over=hand, seed=index))
    server = _serve(server_port)
    try:
        agent = Agent(agent_config)
        agent.run()
    finally:
        server.shutdown()
        server.server_close()
    assert server.received == [0, 1, 2, 3]  # type: ignore[attr-defined]
    assert agent.spool.pending() == []


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_the_command_and_keeps_unsent_frames(tmp_path: Path, server_port: int, stop: int) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "0.jpg"), np.full((72, 128, 3), 90, np.uint8))
    spool = tmp_path / "spool"
    # Output goes to files, not pipes: nothing the agent writes while it runs can fill a pipe and block it.
    out_path, err_path = tmp_path / "out.txt", tmp_path / "err.txt"
    with open(out_path, "wb") as out_file, open(err_path, "wb") as err_file:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "camera_agent", "--source", str(folder), "--loop", "--fps", "20",
             "--idle", "0.1", "--server", f"http://127.0.0.1:{server_port}", "--token", "lsd_x", "--spool", str(spool)],
            stdout=out_file,
            stderr=err_file,
            # As a background job of a shell starts: SIGINT ignored. The agent must stop all the same.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )  # fmt: skip
        try:
            assert wait_for(lambda: len(list(spool.glob("*.json"))) >= 2, timeout=60)
            process.send_signal(stop)
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGUSR1)  # the agent prints its threads' stacks: where it hangs
            time.sleep(1)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    out, err = out_path.read_bytes(), err_path.read_bytes()
    assert process.returncode == 0, err.decode()[-5000:]
    assert b"camera agent stopped: 0 frames sent" in out
    assert len(list(spool.glob("*.json"))) >= 2
    assert not list(spool.glob("*.tmp"))


def test_a_full_spool_drops_its_oldest_frames_and_the_sender_goes_on(tmp_path: Path) -> None:
    picture = b"\xff\xd8\xff" + b"x" * 997  # 1,000 bytes
    spool = Spool(tmp_path / "spool", max_bytes=5_000)
    for _ in range(8):
        spool.put(picture, datetime.now(UTC))
    # Five pictures fit: the three oldest went, the newest are kept in order.
    assert spool.pending() == [3, 4, 5, 6, 7]
    assert spool.dropped == 3
    assert sorted(p.name for p in (tmp_path / "spool").glob("*.jpg")) == [f"{n:012d}.jpg" for n in range(3, 8)]
    # Sent frames free their room; a spool opened again counts what is on disk.
    spool.done(3)
    spool.put(picture, datetime.now(UTC))
    assert spool.pending() == [4, 5, 6, 7, 8]
    again = Spool(tmp_path / "spool", max_bytes=3_000)
    again.put(picture, datetime.now(UTC))
    assert again.pending() == [7, 8, 9]
    # A frame bigger than the whole limit is still kept (the newest frame is never dropped).
    alone = Spool(tmp_path / "other", max_bytes=500)
    alone.put(picture, datetime.now(UTC))
    assert alone.pending() == [0]


def test_the_sender_skips_a_frame_dropped_after_it_was_listed(agent_config: AgentConfig, server_port: int) -> None:
    class Listing(Spool):
        def pending(self) -> list[int]:
            listed = super().pending()
            if listed and listed[0] == 0 and (self.folder / f"{0:012d}.json").exists():
                self._remove(0)  # dropped by the capture thread between listing and loading
            return listed

    agent = Agent(agent_config)
    agent.spool = Listing(agent_config.spool)
    agent.spool.put(b"\xff\xd8\xff0", datetime.now(UTC))
    agent.spool.put(b"\xff\xd8\xff1", datetime.now(UTC))
    agent.capture_done.set()
    server = _serve(server_port)
    try:
        agent.send(until_empty=True)
    finally:
        server.shutdown()
        server.server_close()
    assert agent.delivered == [1]
    assert server.received == [1]  # type: ignore[attr-defined]
