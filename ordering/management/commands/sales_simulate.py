from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ordering.forecasting.history import history_write_csv
from ordering.forecasting.simulate import history_simulate


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = "Write a simulated sales history (store,sku,date,units,on_hand,case_pack,lead_time_days,unit_cost,category)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="CSV file to write")
        parser.add_argument("--stores", type=_positive, default=20)
        parser.add_argument("--products", type=_positive, default=100)
        parser.add_argument("--days", type=_positive, default=365)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *_args: Any, **options: Any) -> None:
        if options["days"] < 84:
            raise CommandError("--days must be at least 84 (the evaluation holds out the last 56 days)")
        history = history_simulate(
            stores=options["stores"], products=options["products"], days=options["days"], seed=options["seed"]
        )
        with options["out"].open("w", encoding="utf-8", newline="") as handle:
            rows = history_write_csv(history, handle)
        self.stdout.write(f"wrote {rows} rows ({history.units.shape[0]} series) to {options['out']}")
