"""Supply preferences: the owner's restock choices per store (auto-submit, service levels)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog.models import Category
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import StoreSupply

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger("lingshou.ordering")


def supply_preferences_set(
    *,
    merchant: Merchant,
    store: Store,
    by: User | None,
    is_auto_submit: bool,
    default_service_level: float,
    service_levels: Mapping[str, float],
) -> StoreSupply:
    """Set a store's restock choices (auto-submit, service levels); atomic, all or nothing, logged.

    Submit suggested orders without review or not, and how rarely each category may run out (a
    service level per category path, else the default). The wholesaler sets the depot, calendar and terms; these two are the shop's. All or nothing:
    a category the wholesaler does not have or a level outside 50-99.9 % changes nothing.
    """
    with merchant_context(merchant.pk), transaction.atomic():
        supply = (
            StoreSupply.objects.for_merchant(merchant)
            .filter(store=store)
            .select_for_update(of=("self",))
            .select_related("depot")
            .first()
        )
        if supply is None:
            raise ValidationError(
                f"{store.name} has no supplying depot yet: your wholesaler sets it up first.", code="no_supply"
            )
        known = set(
            Category.objects.filter(
                wholesaler_id=supply.depot.wholesaler_id, path__in=list(service_levels)
            ).values_list("path", flat=True)
        )
        unknown = sorted(set(service_levels) - known)
        if unknown:
            raise ValidationError(f"Your wholesaler has no category {', '.join(unknown)}.", code="unknown_category")
        before = (supply.is_auto_submit, supply.default_service_level, dict(supply.service_levels))
        supply.is_auto_submit = is_auto_submit
        supply.default_service_level = float(default_service_level)
        supply.service_levels = {path: float(level) for path, level in sorted(service_levels.items())}
        supply.full_clean()
        supply.save(update_fields=["is_auto_submit", "default_service_level", "service_levels"])
    logger.info(
        "supply_preferences_set",
        extra={
            "merchant_id": merchant.pk,
            "store_id": store.pk,
            "user_id": by.pk if by else None,
            "before": before,
            "after": (supply.is_auto_submit, supply.default_service_level, supply.service_levels),
        },
    )
    return supply
