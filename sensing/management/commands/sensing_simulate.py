import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sensing.vision.simulate import simulate


class Command(BaseCommand):
    help = "Render a synthetic shelf-camera recording with ground truth (format: shared/sensing-dataset.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="folder to write (created; must be empty or absent)")
        parser.add_argument("--minutes", type=float, default=5.0)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--cameras", type=int, default=1)
        parser.add_argument("--fps", type=float, default=2.0, help="frames per second of capture time")

    def handle(self, *_args: Any, **options: Any) -> None:
        out: Path = options["out"]
        if not 0 < options["minutes"] <= 120:
            raise CommandError("--minutes must be above 0 and at most 120")
        if not 1 <= options["cameras"] <= 50:
            raise CommandError("--cameras must be between 1 and 50")
        if not 0.2 <= options["fps"] <= 10:
            raise CommandError("--fps must be between 0.2 and 10")
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise CommandError(f"{out}: exists and is not an empty folder")
        started = time.perf_counter()
        counts = simulate(
            out, minutes=options["minutes"], seed=options["seed"], cameras=options["cameras"], fps=options["fps"]
        )
        self.stdout.write(
            f"{out}: {counts['cameras']} camera(s), {counts['frames']} frames, {counts['events']} shelf events, "
            f"{counts['faces']} faces in {time.perf_counter() - started:.1f} s"
        )
