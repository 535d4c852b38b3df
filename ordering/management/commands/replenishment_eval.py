import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ordering.forecasting.evaluate import SERVICE_LEVEL, replenishment_evaluate
from ordering.forecasting.history import HistoryError, history_read_csv


class Command(BaseCommand):
    help = "Score forecasts and replay suggested orders on a sales history CSV (see shared/replenishment-eval.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("history", type=Path, help="CSV with store,sku,date,units[,on_hand,case_pack,...]")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--service-level", type=float, default=SERVICE_LEVEL)
        parser.add_argument("--fast", action="store_true", help="skip AutoETS (the slowest statsforecast baseline)")
        parser.add_argument(
            "--by-lead-time", action="store_true", help="add both replays' figures per lead time (key by_lead_time)"
        )

    def handle(self, *_args: Any, **options: Any) -> None:
        if not 0.5 <= options["service_level"] < 1:
            raise CommandError("--service-level must be at least 0.5 and below 1")
        try:
            with options["history"].open(encoding="utf-8", newline="") as handle:
                history = history_read_csv(handle)
        except FileNotFoundError:
            raise CommandError(f"{options['history']}: no such file") from None
        except (HistoryError, UnicodeDecodeError) as error:
            raise CommandError(f"{options['history']}: {error}") from None
        try:
            result = replenishment_evaluate(
                history,
                service_level=options["service_level"],
                slow_baselines=not options["fast"],
                by_lead_time=options["by_lead_time"],
            )
        except ValueError as error:
            raise CommandError(f"{options['history']}: {error}") from None
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"{result['series']} series, last {result['holdout_days']} days held out\n")
        self.stdout.write(f"{'forecast':<22}{'WAPE':>8}{'MASE':>8}{'bias':>8}")
        rows = [(result["forecast"]["method"], result["forecast"]), *result["baselines"].items()]
        for name, score in rows:
            self.stdout.write(f"{name:<22}{score['wape']:>8.3f}{score['mase']:>8.3f}{score['bias']:>+8.3f}")
        self.stdout.write(f"\n{'replay':<22}{'fill':>8}{'out days':>10}{'cover d':>9}{'stock value':>13}{'orders':>8}")
        for name in ("policy", "minmax"):
            r = result[name]
            self.stdout.write(
                f"{name:<22}{r['fill_rate']:>8.2%}{r['stockout_days']:>10}{r['avg_days_of_cover']:>9.2f}"
                f"{r['avg_inventory_value']:>13.2f}{r['orders']:>8}"
            )
        saving = 1 - result["policy"]["avg_inventory_value"] / result["minmax"]["avg_inventory_value"]
        self.stdout.write(f"\npolicy holds {saving:.1%} less stock value than min/max at a fill rate not below it")
        for days, part in result.get("by_lead_time", {}).items():
            self.stdout.write(
                f"  lead time {days} d ({part['series']} series): {part['saving']:.1%} less; fill "
                f"{part['policy']['fill_rate']:.2%} against min/max {part['minmax']['fill_rate']:.2%}"
            )
        self.stdout.write(f"{result['seconds']} s")
