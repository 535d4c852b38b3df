"""The demo's analytics: the rollups built once from the seeded sales (the sales loader writes in bulk, so no
task applied them one by one), exactly as ``manage.py analytics_rebuild`` builds them."""

from __future__ import annotations

from analytics.models import SalesHour
from analytics.services.rebuild import rollups_rebuild
from demo.seed.accounts import MERCHANTS
from merchants.models import Store
from merchants.tenancy import platform_access


def demo_seed() -> bool:
    """Rebuild every demo store's rollups once; False (and nothing changed) when they are there."""
    slugs = [slug for _name, slug, *_rest in MERCHANTS]
    with platform_access(reason="demo seed: analytics", actor="command:demo_seed"):
        stores = list(Store.objects.filter(merchant__slug__in=slugs).select_related("merchant").order_by("pk"))
        if SalesHour.objects.filter(store__in=stores).exists():
            return False
    for store in stores:
        rollups_rebuild(merchant=store.merchant, store=store)
    return True
