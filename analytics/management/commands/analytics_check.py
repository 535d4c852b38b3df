from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics.management.commands._stores import store_arguments, stores_select
from analytics.selectors.consistency import Mismatch, rollups_mismatches

SHOWN = 10


class Command(BaseCommand):
    help = (
        "Compare every rollup cell with a sum over the raw facts; print the number of mismatching cells "
        "and the first few. Exit status 1 if any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        store_arguments(parser)

    def handle(self, *_args: Any, **options: Any) -> None:
        total = 0
        shown: list[Mismatch] = []
        for store in stores_select(store_id=options["store"], command="analytics_check"):
            count, mismatches = rollups_mismatches(
                merchant=store.merchant, store=store, since=options["since"], limit=SHOWN - len(shown)
            )
            total += count
            shown.extend(mismatches)
        self.stdout.write(f"{total} mismatching cells")
        for mismatch in shown:
            self.stdout.write(f"  {mismatch}")
        if total:
            raise SystemExit(1)
