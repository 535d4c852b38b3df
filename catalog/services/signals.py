"""Records of demand signals that restocking reads: shelf-empty periods (from the cameras) and shoppers' lookups."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from celery import current_app
from django.db import IntegrityError, transaction

from catalog.models import (
    ProductLookup,
    ShelfEmptyPeriod,
    StoreProduct,
)
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from datetime import datetime


def shelf_empty_record(*, merchant: Merchant, store_product_id: int, at: datetime, is_empty: bool) -> bool:
    """Open (is_empty) or close the product's shelf-empty period at ``at``; idempotent, scoped. True when it changed.

    At most one period is open per product (a partial unique constraint), so a repeated
    "empty" from a re-run frame finds it open and does nothing.
    """
    merchant_id = merchant.pk
    with merchant_context(merchant_id):
        open_periods = ShelfEmptyPeriod.objects.for_merchant(merchant).open().filter(store_product_id=store_product_id)
        if not is_empty:
            closed = list(open_periods.values_list("pk", flat=True))
            if not open_periods.filter(pk__in=closed).update(ended_at=at):
                return False
            for period_id in closed:
                # Analytics adds the period's minutes once it is closed, after commit, by task name.
                # robust: with the broker away the request still answers; analytics' facts_sweep applies it later.
                transaction.on_commit(
                    partial(current_app.send_task, "analytics.tasks.shelf_empty_apply", args=[merchant_id, period_id]),
                    robust=True,
                )
            return True
        if open_periods.exists():
            return False
        store_id = (
            StoreProduct.objects.for_merchant(merchant)
            .filter(pk=store_product_id)
            .values_list("store_id", flat=True)
            .first()
        )
        if store_id is None:
            return False
        try:
            with transaction.atomic():
                ShelfEmptyPeriod.objects.create(
                    merchant_id=merchant_id, store_id=store_id, store_product_id=store_product_id, started_at=at
                )
        except IntegrityError:
            return False  # opened by a concurrent frame a moment ago
    return True


def product_lookup_record(*, store: Store, code: str, store_product: StoreProduct | None) -> None:
    """Remember that a shopper looked a product up here (store, product, time; nothing personal)."""
    with merchant_context(store.merchant_id, savepoint=False):  # one insert: nothing before it to undo
        lookup = ProductLookup.objects.create(
            merchant_id=store.merchant_id, store=store, store_product=store_product, code=code[:32]
        )
        if store_product is not None:
            # robust: a price lookup never fails for the broker; analytics' facts_sweep applies a lost one.
            transaction.on_commit(
                lambda: current_app.send_task("analytics.tasks.lookup_apply", args=[store.merchant_id, lookup.pk]),
                robust=True,
            )
