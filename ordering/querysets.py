"""Read vocabulary of the ordering app: the filters its selectors, services and tasks compose."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from merchants.querysets import TenantQuerySet
from ordering.states import OPEN_STATES, ClaimStatus, OrderState

if TYPE_CHECKING:
    from merchants.models import Merchant, Store


class StoreSupplyQuerySet(TenantQuerySet):
    """How stores are supplied."""

    def for_merchant(self, merchant: Merchant) -> StoreSupplyQuerySet:
        """The merchant\'s rows (TenantQuerySet.for_merchant, typed for this vocabulary)."""
        return self.filter(merchant=merchant)

    def for_store(self, store: Store) -> StoreSupplyQuerySet:
        """The store's supply, within the store's own merchant."""
        return self.filter(merchant_id=store.merchant_id, store=store)


class PurchaseOrderQuerySet(TenantQuerySet):
    """Purchase orders: drafts, the store's own orders for a delivery, mails still to send."""

    def for_merchant(self, merchant: Merchant) -> PurchaseOrderQuerySet:
        """The merchant\'s rows (TenantQuerySet.for_merchant, typed for this vocabulary)."""
        return self.filter(merchant=merchant)

    def for_store(self, store: Store) -> PurchaseOrderQuerySet:
        """The store's orders, within the store's own merchant."""
        return self.filter(merchant_id=store.merchant_id, store=store)

    def drafts(self) -> PurchaseOrderQuerySet:
        """Suggested orders that wait for the owner's review."""
        return self.filter(state=OrderState.DRAFT)

    def edited(self, *, is_edited: bool = True) -> PurchaseOrderQuerySet:
        """Orders a person changed (``is_edited=False``: untouched, the nightly job may replace them)."""
        return self.filter(is_edited=is_edited)

    def sent(self) -> PurchaseOrderQuerySet:
        """Orders the shop has sent to the wholesaler: every state but a draft."""
        return self.exclude(state=OrderState.DRAFT)

    def for_delivery(self, delivery_date: dt.date) -> PurchaseOrderQuerySet:
        """The store's own orders for that delivery, not cancelled; backorders bring other orders' units."""
        return self.filter(delivery_date=delivery_date, backorder_of__isnull=True).exclude(state=OrderState.CANCELLED)

    def not_mailed(self, mailed_field: str) -> PurchaseOrderQuerySet:
        """Orders whose e-mail (the ``*_mailed_at`` field named) has not gone out yet."""
        return self.filter(**{f"{mailed_field}__isnull": True})


class PurchaseOrderLineQuerySet(TenantQuerySet):
    """Lines of purchase orders."""

    def for_merchant(self, merchant: Merchant) -> PurchaseOrderLineQuerySet:
        """The merchant\'s rows (TenantQuerySet.for_merchant, typed for this vocabulary)."""
        return self.filter(merchant=merchant)

    def on_open_orders(self, store: Store) -> PurchaseOrderLineQuerySet:
        """Lines of the store's orders whose goods are still to arrive."""
        return self.filter(order__store=store, order__state__in=OPEN_STATES)


class ClaimQuerySet(TenantQuerySet):
    """Receiving claims."""

    def for_merchant(self, merchant: Merchant) -> ClaimQuerySet:
        """The merchant\'s rows (TenantQuerySet.for_merchant, typed for this vocabulary)."""
        return self.filter(merchant=merchant)

    def open(self) -> ClaimQuerySet:
        """Claims the wholesaler has not resolved yet."""
        return self.filter(status=ClaimStatus.OPEN)
