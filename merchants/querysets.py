"""Read vocabulary shared by every tenant-owned model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from merchants.models import Merchant


class TenantQuerySet(models.QuerySet[Any]):
    def for_merchant(self, merchant: Merchant) -> TenantQuerySet:
        """The first line of tenancy; row-level security is the backstop behind it."""
        return self.filter(merchant=merchant)
