"""Which time zone a person sees times in: the store's, chosen once per request or task.

Times are stored in UTC. Django shows each aware datetime in the *active* time zone (templates'
``date`` and ``time`` filters, forms, the admin), so the zone is activated where the request's
store becomes known, and every page shows local times without converting a value itself:

- shopper pages (/s/<store code>/): that store's zone (``merchants.access.shopper_view``);
- dashboard pages (/m/<slug>/): when the merchant's stores share one zone, that zone; when they
  differ, the zone of the store the page asks for (``?store=``), else of the first store by name,
  the store ``store_pick`` shows when none is asked for (``merchants.access.merchant_view``). A
  page about one store's thing (an order, a shift, a camera) shows that store's zone
  (``activate_store``);
- tasks that write to people (receipts, order mails) render inside ``store_time``;
- the admin lists many stores on one page, so each row shows its own store's zone
  (``merchants.admin.StoreTimesAdmin``).

The API answers in ISO 8601 with an offset (UTC), which programs read without a zone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

if TYPE_CHECKING:
    from merchants.models import Merchant, Store


def zone_named(name: str | None) -> ZoneInfo:
    """The zone of that name; the platform's default (UTC) for none or an unknown one."""
    try:
        return ZoneInfo(name) if name else ZoneInfo(settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def store_zone(store: Store) -> ZoneInfo:
    """The store's time zone: its opening hours, days and receipts are in it."""
    return zone_named(store.timezone)


def dashboard_zone(*, stores: Sequence[tuple[int, str]], wanted: str | None) -> ZoneInfo:
    """The zone of a dashboard page, from the merchant's stores as (id, zone) by name and the ``?store=`` asked for.

    One zone shared by every store: that one. Stores in different zones: the asked-for store's,
    else the first store's (the one a page shows when no store is asked for). No store: UTC.
    """
    names = {name for _pk, name in stores}
    if len(names) == 1:
        return zone_named(names.pop())
    chosen = next((name for pk, name in stores if wanted and str(pk) == wanted), None)
    return zone_named(chosen or (stores[0][1] if stores else None))


def merchant_zone(merchant: Merchant) -> ZoneInfo:
    """The zone of a merchant's own messages (invitations): its first store's by name, as on the dashboard."""
    from merchants.models import Store
    from merchants.tenancy import merchant_context

    with merchant_context(merchant.pk):
        name = Store.objects.for_merchant(merchant).order_by("name", "pk").values_list("timezone", flat=True).first()
    return zone_named(name)


def activate_store(store: Store) -> None:
    """Show the rest of this request in the store's zone: a page about one store's order, shift or camera.

    Only inside a view that ``merchant_view`` or ``shopper_view`` wraps: they put the previous
    zone back when the response is rendered.
    """
    timezone.activate(store_zone(store))


@contextmanager
def store_time(store: Store) -> Iterator[ZoneInfo]:
    """Render what is inside in the store's zone (a receipt e-mail, an order mail); the previous zone after."""
    zone = store_zone(store)
    with timezone.override(zone):
        yield zone
