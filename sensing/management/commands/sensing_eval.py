import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sensing.vision.evaluate import recording_evaluate


class Command(BaseCommand):
    help = (
        "Run the production shelf pipeline over a recording folder and print its metrics (shared/sensing-dataset.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="a recording: cameras.json, frames.json, frames/, truth.json")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *_args: Any, **options: Any) -> None:
        folder: Path = options["folder"]
        for name in ("cameras.json", "frames.json"):
            if not (folder / name).is_file():
                raise CommandError(f"{folder}: no {name} (see shared/sensing-dataset.md)")
        try:
            metrics = recording_evaluate(folder)
        except (ValueError, KeyError, json.JSONDecodeError) as error:
            raise CommandError(f"{folder}: {error}") from None
        if options["json"]:
            self.stdout.write(json.dumps(metrics))
            return
        width = max(len(key) for key in metrics)
        for key, value in metrics.items():
            shown = "n/a" if value is None else value
            self.stdout.write(f"{key:<{width}}  {shown}")
