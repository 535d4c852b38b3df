"""What needs the owner's attention now, per store: read from the apps that own each fact."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q

from catalog.models import StoreProduct
from merchants.models import Merchant, Store
from ordering.models import Claim, PurchaseOrder, StoreSupply
from ordering.selectors import order_deadline
from sensing.models import Alert


@dataclass(frozen=True)
class StoreAttention:
    """One store's open matters: each count links to the page that deals with it."""

    store: Store
    out_of_stock: int
    low_stock: int
    open_alerts: int
    open_claims: int
    draft: PurchaseOrder | None
    draft_deadline: dt.datetime | None

    @property
    def is_calm(self) -> bool:
        return not (self.out_of_stock or self.low_stock or self.open_alerts or self.open_claims or self.draft)


def attention_list(*, merchant: Merchant, stores: list[Store]) -> list[StoreAttention]:
    """Per store: products out of stock and low, open camera alerts, open receiving claims, the next draft to
    review with its order deadline; a fixed number of queries whatever the number of stores; scoped."""
    ids = [store.pk for store in stores]
    stock = {
        row["store_id"]: row
        for row in StoreProduct.objects.for_merchant(merchant)
        .filter(store_id__in=ids)
        .active()
        .values("store_id")
        .annotate(
            out=Count("pk", filter=Q(on_hand__lte=0)),
            # Low but not out: each product is counted once.
            low=Count("pk", filter=Q(on_hand__gt=0, on_hand__lte=F("low_stock_threshold"))),
        )
    }
    alerts = dict(
        Alert.objects.for_merchant(merchant)
        .open()
        .filter(camera__store_id__in=ids)
        .values_list("camera__store_id")
        .annotate(n=Count("pk"))
    )
    claims = dict(
        Claim.objects.for_merchant(merchant)
        .open()
        .filter(order__store_id__in=ids)
        .values_list("order__store_id")
        .annotate(n=Count("pk"))
    )
    drafts: dict[int, PurchaseOrder] = {}
    for order in (
        PurchaseOrder.objects.for_merchant(merchant).drafts().filter(store_id__in=ids).order_by("delivery_date", "pk")
    ):
        drafts.setdefault(order.store_id, order)
    supplies = {
        supply.store_id: supply for supply in StoreSupply.objects.for_merchant(merchant).filter(store_id__in=ids)
    }
    rows = []
    for store in stores:
        draft = drafts.get(store.pk)
        supply = supplies.get(store.pk)
        deadline = order_deadline(supply=supply, delivery_date=draft.delivery_date) if draft and supply else None
        rows.append(
            StoreAttention(
                store=store,
                out_of_stock=stock.get(store.pk, {}).get("out", 0),
                low_stock=stock.get(store.pk, {}).get("low", 0),
                open_alerts=alerts.get(store.pk, 0),
                open_claims=claims.get(store.pk, 0),
                draft=draft,
                draft_deadline=deadline,
            )
        )
    return rows
