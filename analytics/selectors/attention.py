"""What needs the owner's attention now, per store: read from the apps that own each fact."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from catalog.models import StoreProduct
from merchants.models import Merchant, Store
from ordering.models import Claim, PurchaseOrder, StoreSupply
from ordering.states import ClaimStatus, OrderState
from sensing.models import Alert, Camera


@dataclass(frozen=True)
class DraftOrder:
    """The suggested order a store's owner should review next: what its link and label need."""

    pk: int
    number: str
    delivery_date: dt.date


@dataclass(frozen=True)
class StoreAttention:
    """One store's open matters: each count links to the page that deals with it."""

    store: Store
    out_of_stock: int
    low_stock: int
    open_alerts: int
    open_claims: int
    draft: DraftOrder | None
    draft_deadline: dt.datetime | None

    @property
    def is_calm(self) -> bool:
        return not (self.out_of_stock or self.low_stock or self.open_alerts or self.open_claims or self.draft)


def _sql() -> str:
    """One row per store id of the array: its counts, its next draft and its order rules (NULLs without them)."""
    products, alerts, cameras = StoreProduct._meta.db_table, Alert._meta.db_table, Camera._meta.db_table
    claims, orders, supplies = Claim._meta.db_table, PurchaseOrder._meta.db_table, StoreSupply._meta.db_table
    # Each part repeats merchant_id = %(merchant)s beside row-level security, as the ORM's for_merchant() does.
    return (
        "SELECT s.id, "  # noqa: S608 - our SQL; table names from the models, values are parameters  # nosec B608
        f"(SELECT count(*) FROM {products} p WHERE p.merchant_id = %(merchant)s AND p.store_id = s.id "
        "AND p.is_active AND p.on_hand <= 0), "
        # Low but not out: each product is counted once; a product without a threshold is never low.
        f"(SELECT count(*) FROM {products} p WHERE p.merchant_id = %(merchant)s AND p.store_id = s.id "
        "AND p.is_active AND p.on_hand > 0 AND p.on_hand <= p.low_stock_threshold), "
        f"(SELECT count(*) FROM {alerts} a JOIN {cameras} c ON c.id = a.camera_id "
        "WHERE a.merchant_id = %(merchant)s AND c.store_id = s.id AND a.ended_at IS NULL), "
        f"(SELECT count(*) FROM {claims} cl JOIN {orders} o ON o.id = cl.order_id "
        "WHERE cl.merchant_id = %(merchant)s AND o.store_id = s.id AND cl.status = %(open)s), "
        "d.id, d.number, d.delivery_date, ss.cutoff_time, ss.lead_time_days "
        "FROM unnest(%(stores)s::bigint[]) AS s(id) "
        f"LEFT JOIN LATERAL (SELECT o.id, o.number, o.delivery_date FROM {orders} o "
        "WHERE o.merchant_id = %(merchant)s AND o.store_id = s.id AND o.state = %(draft)s "
        "ORDER BY o.delivery_date, o.id LIMIT 1) d ON true "
        f"LEFT JOIN {supplies} ss ON ss.merchant_id = %(merchant)s AND ss.store_id = s.id"
    )


def attention_list(*, merchant: Merchant, stores: list[Store]) -> list[StoreAttention]:
    """Per store: products out of stock and low, open camera alerts, open receiving claims, the next draft to
    review with its order deadline (the cut-off time, lead-time days before delivery, store time); one query
    whatever the number of stores; scoped."""
    if not stores:
        return []
    params: dict[str, Any] = {
        "merchant": merchant.pk,
        "stores": [store.pk for store in stores],
        "open": ClaimStatus.OPEN.value,
        "draft": OrderState.DRAFT.value,
    }
    # In the caller's tenancy context (the dashboard view's): a nested one would cost its savepoint.
    with connection.cursor() as cursor:
        cursor.execute(_sql(), params)
        found = {row[0]: row[1:] for row in cursor.fetchall()}
    rows = []
    for store in stores:
        out, low, open_alerts, open_claims, draft_id, number, delivery_date, cutoff, lead_days = found[store.pk]
        draft = None if draft_id is None else DraftOrder(pk=draft_id, number=number, delivery_date=delivery_date)
        deadline = None
        if draft is not None and cutoff is not None:
            day = delivery_date - dt.timedelta(days=lead_days)
            deadline = dt.datetime.combine(day, cutoff, tzinfo=ZoneInfo(store.timezone))
        rows.append(
            StoreAttention(
                store=store,
                out_of_stock=out,
                low_stock=low,
                open_alerts=open_alerts,
                open_claims=open_claims,
                draft=draft,
                draft_deadline=deadline,
            )
        )
    return rows
