from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics.management.commands._stores import store_arguments, stores_select
from analytics.services.rebuild import rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the rollups from the raw facts (paid orders, refunds, lookups, stock-out periods), "
        "one store at a time in its own time zone, each store in one transaction."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        store_arguments(parser)

    def handle(self, *_args: Any, **options: Any) -> None:
        stores = stores_select(store_id=options["store"], command="analytics_rebuild")
        facts = cells = 0
        seconds = 0.0
        for store in stores:
            result = rollups_rebuild(merchant=store.merchant, store=store, since=options["since"])
            facts += result.facts
            cells += result.cells
            seconds += result.seconds
            self.stdout.write(
                f"store {store.pk} ({store.code}): {result.facts} facts, {result.hour_cells} hour cells, "
                f"{result.product_cells} product-day cells, {result.category_cells} category-day cells in {result.seconds:.2f} s"
            )
        rate = facts / seconds if seconds else 0.0
        self.stdout.write(
            f"rebuilt {len(stores)} stores: {facts} facts, {cells} cells in {seconds:.2f} s ({rate:,.0f} facts/s)"
        )
