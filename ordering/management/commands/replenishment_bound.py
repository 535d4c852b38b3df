import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ordering.forecasting.bound import LOWEST_FILL, saving_bound
from ordering.forecasting.evaluate import SERVICE_LEVEL, forecasts_roll, policy_rule, simulate
from ordering.management.commands.sales_simulate import _positive


class Command(BaseCommand):
    help = (
        "On a simulated history, how much less stock than min/max the order rule saves at equal fill rate when it "
        "knows the true demand (promotions seen from their second day, or known ahead), beside the forecast's policy."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=_positive, default=20)
        parser.add_argument("--products", type=_positive, default=100)
        parser.add_argument("--days", type=_positive, default=365)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *_args: Any, **options: Any) -> None:
        from ordering.forecasting.simulate import history_simulate

        if options["days"] < 84:
            raise CommandError("--days must be at least 84 (the evaluation holds out the last 56 days)")
        history = history_simulate(
            stores=options["stores"], products=options["products"], days=options["days"], seed=options["seed"]
        )
        policy = simulate(history, policy_rule(history, forecasts_roll(history), service_level=SERVICE_LEVEL))
        result = {
            "seed": options["seed"],
            "series": int(history.units.shape[0]),
            **saving_bound(history, policy=policy),
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(
            f"seed {result['seed']}, {result['series']} series: min/max cannot pass a fill rate of "
            f"{result['minmax_ceiling']:.2%}; savings compared from {LOWEST_FILL:.0%} to {result['compared_up_to']:.2%}"
        )
        rows = [
            ("forecast (policy)", result["policy"]),
            ("true demand, promotions seen", result["seen"]["best"]),
            ("true demand, promotions ahead", result["ahead"]["best"]),
        ]
        for name, point in rows:
            if point is None:
                self.stdout.write(f"{name:<32}no point in the compared range")
            else:
                self.stdout.write(f"{name:<32}{point['saving']:>7.1%} less stock at {point['fill_rate']:.2%} fill")
