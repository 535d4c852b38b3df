"""The read vocabulary of the rollups: a merchant's stores and a range of local days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Self

from merchants.models import Merchant, Store
from merchants.querysets import TenantQuerySet


class CellQuerySet(TenantQuerySet):
    def for_stores(self, merchant: Merchant, stores: Sequence[Store]) -> Self:
        """The cells of these stores, and only if they are the merchant's (the index leads with the merchant)."""
        return self.filter(merchant=merchant, store__in=[store.pk for store in stores])

    def between(self, first: date, last: date) -> Self:
        """Local days from ``first`` to ``last``, both included."""
        return self.filter(local_date__gte=first, local_date__lte=last)
