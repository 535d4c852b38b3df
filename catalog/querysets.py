"""Read vocabulary of the catalog, composed by its selectors and services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.db.models import F

from merchants.querysets import StoreScopedQuerySet, TenantQuerySet

if TYPE_CHECKING:
    from merchants.models import Merchant


class ProductQuerySet(models.QuerySet[Any]):
    def for_merchant(self, merchant: Merchant) -> Self:
        """The master products a merchant may sell: its wholesaler's catalog."""
        return self.filter(wholesaler_id=merchant.wholesaler_id)

    def active(self) -> Self:
        """Still listed by the wholesaler."""
        return self.filter(is_active=True)


class StoreProductQuerySet(StoreScopedQuerySet):
    def active(self) -> Self:
        """Still sold (an inactive row keeps its history but leaves the lists)."""
        return self.filter(is_active=True)

    def low_stock(self) -> Self:
        """At or below the row's low-stock threshold (rows without one are never low)."""
        return self.filter(low_stock_threshold__isnull=False, on_hand__lte=F("low_stock_threshold"))

    def out_of_stock(self) -> Self:
        """Nothing left to sell by the books (zero, or less after a sale the books did not have)."""
        return self.filter(on_hand__lte=0)

    def negative(self) -> Self:
        """Less than nothing on hand: sold what the books did not have; a count fixes it."""
        return self.filter(on_hand__lt=0)


class ShelfEmptyPeriodQuerySet(TenantQuerySet):
    def open(self) -> Self:
        """Periods a camera has not yet seen end (at most one per product)."""
        return self.filter(ended_at__isnull=True)
