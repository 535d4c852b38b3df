"""What analytics_rebuild and analytics_check share: their arguments and the stores they cover."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError, CommandParser

from merchants.models import Store
from merchants.tenancy import platform_access


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--since {value!r} is not a date; give it as YYYY-MM-DD.") from error


def store_arguments(parser: CommandParser) -> None:
    parser.add_argument("--store", type=int, help="one store's id (default: every store of every merchant)")
    parser.add_argument("--since", type=_day, help="the first local day, YYYY-MM-DD (default: all history)")


def stores_select(*, store_id: int | None, command: str) -> list[Store]:
    """The stores to cover with their merchants, read through the audited platform bypass."""
    with platform_access(reason=f"{command}: list stores", actor=f"command:{command}"):
        stores = Store.objects.select_related("merchant").order_by("merchant_id", "pk")
        if store_id is not None:
            stores = stores.filter(pk=store_id)
        found = list(stores)
    if store_id is not None and not found:
        raise CommandError(f"No store with id {store_id}.")
    return found
