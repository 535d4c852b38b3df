"""manage.py camera_agent: run next to a camera; sends settled frames and heartbeats to Lingshou."""

from __future__ import annotations

import faulthandler
import logging
import signal
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sensing.agent import Agent, AgentConfig


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Read a camera (video file, RTSP URL, device index or folder of JPEGs) and send frames to Lingshou."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, help="Video file, rtsp:// URL, device index (0) or a folder.")
        parser.add_argument("--server", required=True, help="Lingshou's address, e.g. https://shop.example.com")
        token = parser.add_mutually_exclusive_group(required=True)
        token.add_argument("--token", help="The camera's device token (lsd_…).")
        token.add_argument("--token-file", help="A file holding the token (waits until it exists; the demo uses it).")
        parser.add_argument("--spool", default="", help="Folder that keeps frames until the server has them.")
        parser.add_argument(
            "--spool-max-mb", type=int, default=1024, help="Disk the spool may use; beyond it the oldest frames go."
        )
        parser.add_argument("--heartbeat", type=float, default=5.0, help="Seconds between heartbeats.")
        parser.add_argument("--idle", type=float, default=5.0, help="Send a frame at least this often (seconds).")
        parser.add_argument("--fps", type=float, default=0.0, help="Play files and folders at this rate (0: as read).")
        parser.add_argument("--loop", action="store_true", help="Start a file or folder again when it ends.")

    def _token_from_file(self, path: Path) -> str:
        while not path.exists():
            self.stderr.write(f"waiting for the camera token in {path}")
            time.sleep(10)
        return path.read_text().strip()

    def handle(self, *_args: Any, **options: Any) -> None:
        logging.getLogger("lingshou.camera_agent").setLevel(logging.INFO if options["verbosity"] else logging.WARNING)
        # `kill -USR1 <pid>` prints every thread's stack to stderr: how to see where a stuck agent waits.
        faulthandler.register(signal.SIGUSR1, all_threads=True)
        # Ctrl-C and a service manager's stop (SIGTERM) both end the agent cleanly, keeping unsent
        # frames. Set explicitly: a process started in the background inherits SIGINT ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _stop)
        if options["spool_max_mb"] < 1:
            raise CommandError("--spool-max-mb must be at least 1")
        token = options["token"] or self._token_from_file(Path(options["token_file"]))
        spool = Path(options["spool"] or Path(settings.BASE_DIR) / ".data" / "camera-spool" / token[:10])
        config = AgentConfig(
            source=options["source"],
            server=options["server"],
            token=token,
            spool=spool,
            heartbeat_seconds=options["heartbeat"],
            idle_seconds=options["idle"],
            playback_fps=options["fps"],
            loop=options["loop"],
            spool_max_bytes=options["spool_max_mb"] * 1024 * 1024,
        )
        agent = Agent(config)
        self.stdout.write(f"camera agent: {config.source} -> {config.server} (spool {spool}); Ctrl-C stops")
        agent.run()
        self.stdout.write(
            f"camera agent stopped: {len(agent.delivered)} frames sent, {len(agent.refused)} refused, "
            f"{len(agent.spool.pending())} still spooled, {agent.spool.dropped} dropped from a full spool"
        )
