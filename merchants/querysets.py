"""Read vocabulary shared by every tenant-owned model, and the merchants app's own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models

if TYPE_CHECKING:
    from merchants.models import Merchant, Store


class TenantQuerySet(models.QuerySet[Any]):
    def for_merchant(self, merchant: Merchant) -> Self:
        """The first line of tenancy; row-level security is the backstop behind it."""
        return self.filter(merchant=merchant)


class StoreScopedQuerySet(TenantQuerySet):
    """Rows that belong to one store of a merchant (assortment, movements, counts, devices)."""

    def for_store(self, store: Store) -> Self:
        """The store's rows, scoped by its merchant too (the index leads with the merchant)."""
        return self.filter(merchant_id=store.merchant_id, store=store)


class InvitationQuerySet(TenantQuerySet):
    def pending(self) -> Self:
        """Neither accepted nor revoked; whether it has expired is the row's ``status``."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)
