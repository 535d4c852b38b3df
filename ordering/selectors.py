"""Reads of the ordering app: delivery calendars, sales history from the ledger, orders; all scoped."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from catalog.models import Category, ShelfEmptyPeriod, StoreProduct
from merchants.models import WEEKDAYS, Merchant, Store
from ordering.models import (
    Claim,
    OrderState,
    Promotion,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderTransition,
    StoreSupply,
)

# How far back the forecast reads the ledger: half a year holds every weekday 26 times.
HISTORY_DAYS = 182


# Delivery calendar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """The next delivery an order can still make, its order deadline, and the delivery after it."""

    date: dt.date
    deadline: dt.datetime
    following: dt.date

    @property
    def days_to_following(self) -> int:
        return (self.following - self.date).days


def order_deadline(*, supply: StoreSupply, delivery_date: dt.date) -> dt.datetime:
    """When orders for ``delivery_date`` close: the cut-off time, lead-time days before, store time."""
    zone = ZoneInfo(supply.store.timezone)
    day = delivery_date - dt.timedelta(days=supply.lead_time_days)
    return dt.datetime.combine(day, supply.cutoff_time, tzinfo=zone)


def _delivery_days(supply: StoreSupply, start: dt.date) -> list[dt.date]:
    wanted = {WEEKDAYS.index(day) for day in supply.delivery_weekdays}
    return [day for day in (start + dt.timedelta(days=n) for n in range(60)) if day.weekday() in wanted]


def delivery_next(*, supply: StoreSupply, now: dt.datetime, after: dt.date | None = None) -> Delivery:
    """The first delivery (after ``after``, if given) whose order deadline is still ahead of ``now``."""
    today = now.astimezone(ZoneInfo(supply.store.timezone)).date()
    start = max(today, after + dt.timedelta(days=1)) if after else today
    days = _delivery_days(supply, start)
    for index, day in enumerate(days):
        deadline = order_deadline(supply=supply, delivery_date=day)
        if now < deadline:
            following = days[index + 1] if index + 1 < len(days) else day + dt.timedelta(days=7)
            return Delivery(date=day, deadline=deadline, following=following)
    raise ValueError("No delivery day within 60 days")  # the weekdays validator makes this unreachable


def supply_get(*, merchant: Merchant, store: Store) -> StoreSupply | None:
    """The store's supply settings with depot and store; call inside the merchant's context."""
    return StoreSupply.objects.for_merchant(merchant).select_related("depot", "store").filter(store=store).first()


# Sales history ---------------------------------------------------------------------------------


@dataclass
class History:
    """Daily demand per store product, oldest day first: what ordering.forecasting reads."""

    items: list[StoreProduct]
    first_day: dt.date
    sales: np.ndarray  # (n, days) float, NaN before a product was listed
    censored: np.ndarray  # (n, days) bool: on hand was zero at some point of the day
    has_sales: bool


_HISTORY_SQL = """
SELECT store_product_id,
       (created_at AT TIME ZONE %s)::date AS day,
       SUM(CASE WHEN kind IN ('sale', 'refund') THEN -quantity ELSE 0 END) AS sold,
       SUM(quantity) AS net,
       MIN(on_hand_after) AS lowest,
       (ARRAY_AGG(on_hand_after ORDER BY created_at DESC, id DESC))[1] AS closing
FROM catalog_stockmovement
WHERE merchant_id = %s AND store_id = %s AND created_at >= %s
GROUP BY 1, 2
"""


def demand_history(*, store: Store, items: list[StoreProduct], today: dt.date, days: int = HISTORY_DAYS) -> History:
    """Sales per day (sales minus refunds, store-local days) up to yesterday, and stock-out days.

    A day is censored when the product started it at zero or below, or a movement that day left
    it there, or a shelf camera saw its slot empty that day: its sales are a lower bound of
    demand, not demand. On hand before the window is
    the current on hand minus every movement since, which the ledger's invariant makes exact.
    """
    zone = ZoneInfo(store.timezone)
    first_day = today - dt.timedelta(days=days)
    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=zone)
    index = {item.pk: i for i, item in enumerate(items)}
    n = len(items)
    sales = np.zeros((n, days), dtype=float)
    net_total = np.zeros(n, dtype=float)
    closing = np.full((n, days), np.nan)
    lowest = np.full((n, days), np.inf)
    first_seen = np.full(n, days, dtype=int)
    with connection.cursor() as cursor:
        cursor.execute(_HISTORY_SQL, [store.timezone, store.merchant_id, store.pk, start])
        rows = cursor.fetchall()
    for store_product_id, day, sold, net, low, close in rows:
        i = index.get(store_product_id)
        if i is None:
            continue
        net_total[i] += net
        j = (day - first_day).days
        if not 0 <= j < days:
            continue  # today: counted in on hand, not yet a whole day of sales
        sales[i, j] = sold
        closing[i, j] = close
        lowest[i, j] = low
        first_seen[i] = min(first_seen[i], j)
    on_hand_now = np.array([item.on_hand for item in items], dtype=float)
    opening = on_hand_now - net_total
    # Carry each day's closing level forward over days without movements.
    filled = np.where(np.isnan(closing), -1, np.arange(days)[None, :])
    last = np.maximum.accumulate(filled, axis=1) if n else filled
    carried = np.where(last >= 0, np.take_along_axis(np.nan_to_num(closing), np.maximum(last, 0), axis=1), np.nan)
    carried = np.where(last >= 0, carried, opening[:, None])
    start_level = np.concatenate([opening[:, None], carried[:, :-1]], axis=1) if days else carried
    censored = (start_level <= 0) | (lowest <= 0)
    # Days a shelf camera saw the slot empty are censored too, whatever the ledger says.
    for store_product_id, started, ended in (
        ShelfEmptyPeriod.objects.filter(
            merchant_id=store.merchant_id,
            store_id=store.pk,
            store_product_id__in=list(index),
            started_at__lt=dt.datetime.combine(today, dt.time.min, tzinfo=zone),
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start))
        .values_list("store_product_id", "started_at", "ended_at")
    ):
        empty_from = max((started.astimezone(zone).date() - first_day).days, 0)
        empty_to = min(((ended.astimezone(zone).date() if ended else today) - first_day).days, days - 1)
        if empty_to >= empty_from:
            censored[index[store_product_id], empty_from : empty_to + 1] = True
    # A product is new from the day it was listed or first moved, whichever came first.
    listed = np.array(
        [(item.created_at.astimezone(zone).date() - first_day).days for item in items], dtype=int
    ).reshape(n)
    launch = np.clip(np.minimum(listed, first_seen), 0, days)
    before = np.arange(days)[None, :] < launch[:, None]
    sales[before] = np.nan
    censored[before] = False
    has_sales = bool(np.nansum(np.abs(sales)) > 0) if n else False
    return History(items=items, first_day=first_day, sales=sales, censored=censored, has_sales=has_sales)


def promotions_planned(*, wholesaler_id: int, products: set[int], first_day: dt.date, days: int) -> list[Promotion]:
    """The wholesaler's promotions of these products that run on any of ``days`` days from ``first_day``."""
    if not products or days <= 0:
        return []
    return list(
        Promotion.objects.filter(
            wholesaler_id=wholesaler_id,
            product_id__in=products,
            ends_on__gte=first_day,
            starts_on__lt=first_day + dt.timedelta(days=days),
        ).order_by("starts_on", "pk")
    )


# Stores whose sales of the same products are read beside a store's own (a chain's promotions and
# launches show across its stores at once); more add little and cost a ledger read each.
CHAIN_STORES = 30


def chain_histories(*, store: Store, items: list[StoreProduct], today: dt.date) -> list[History]:
    """The same products' histories in the merchant's other open stores, one History per store."""
    products = {item.product_id for item in items if item.product_id is not None}
    others = list(
        Store.objects.filter(merchant_id=store.merchant_id, is_active=True)
        .exclude(pk=store.pk)
        .order_by("pk")[:CHAIN_STORES]
    )
    if not products or not others:
        return []
    theirs: dict[int, list[StoreProduct]] = defaultdict(list)
    for item in StoreProduct.objects.filter(
        merchant_id=store.merchant_id, store__in=others, product_id__in=products, is_active=True
    ).order_by("pk"):
        theirs[item.store_id].append(item)
    return [
        demand_history(store=other, items=theirs[other.pk], today=today) for other in others if theirs.get(other.pk)
    ]


def on_order(*, merchant: Merchant, store: Store, exclude_order_id: int | None = None) -> dict[int, int]:
    """Units still to arrive per store product from the store's open orders."""
    lines = (
        PurchaseOrderLine.objects.for_merchant(merchant)
        .on_open_orders(store)
        .exclude(order_id=exclude_order_id)
        # Once shipped, an order's backordered units travel on its backorder (counted there).
        .annotate(followed=Exists(PurchaseOrder.objects.filter(backorder_of=OuterRef("order_id"))))
        .values_list(
            "store_product_id",
            "order__state",
            "quantity",
            "allocated_quantity",
            "backordered_quantity",
            "shipped_quantity",
            "followed",
        )
    )
    result: dict[int, int] = defaultdict(int)
    for store_product_id, state, quantity, allocated, backordered, shipped, followed in lines:
        if state == OrderState.SUBMITTED:
            coming = quantity
        elif state in (OrderState.CONFIRMED, OrderState.PICKING):
            coming = (allocated or 0) + backordered
        else:
            coming = (shipped or 0) + (0 if followed else backordered)
        result[store_product_id] += coming
    return dict(result)


# Orders ----------------------------------------------------------------------------------------


def purchase_order_list(*, merchant: Merchant, store: Store | None = None) -> QuerySet[PurchaseOrder]:
    """The merchant's orders, newest delivery first."""
    orders = PurchaseOrder.objects.for_merchant(merchant).select_related("store", "depot")
    if store is not None:
        orders = orders.filter(store=store)
    return orders.order_by("-delivery_date", "-pk")


def purchase_order_get(*, merchant: Merchant, order_id: int) -> PurchaseOrder:
    """One of the merchant's orders with its lines and history, or 404."""
    order = (
        PurchaseOrder.objects.for_merchant(merchant)
        .select_related("store", "depot", "backorder_of")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=PurchaseOrderLine.objects.select_related("product", "substitute", "store_product").order_by(
                    "product__name", "pk"
                ),
            ),
            Prefetch("transitions", queryset=PurchaseOrderTransition.objects.select_related("by")),
        )
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise Http404("No such order.")
    return order


def draft_current(*, merchant: Merchant, store: Store) -> PurchaseOrder | None:
    """The store's draft for the soonest delivery, if any."""
    return (
        PurchaseOrder.objects.for_merchant(merchant)
        .drafts()
        .filter(store=store)
        .order_by("delivery_date", "pk")
        .first()
    )


def delivery_has_order(*, merchant: Merchant, store: Store, delivery_date: dt.date) -> bool:
    """The store has its own order (any state but cancelled) for that delivery; scoped.

    A backorder due the same day does not count: it brings another order's units, not the
    store's suggestion.
    """
    return PurchaseOrder.objects.for_merchant(merchant).filter(store=store).for_delivery(delivery_date).exists()


def draft_list(*, merchant: Merchant) -> QuerySet[PurchaseOrder]:
    """The merchant's suggested orders that wait for review, in every store, soonest delivery first."""
    return (
        PurchaseOrder.objects.for_merchant(merchant)
        .select_related("store")
        .drafts()
        .order_by("delivery_date", "store__name", "pk")
    )


def claim_list(*, merchant: Merchant) -> QuerySet[Claim]:
    """The merchant's receiving claims, open first."""
    return (
        Claim.objects.for_merchant(merchant)
        .select_related("order", "order__store")
        .prefetch_related("lines__line__product")
        # "open" sorts before "resolved"; the newest first within each.
        .order_by("status", "-created_at", "-pk")
    )


@dataclass(frozen=True)
class LevelRow:
    """One category on the restock settings page: its path and what to call it."""

    path: str
    label: str


def service_level_rows(*, supply: StoreSupply) -> list[LevelRow]:
    """The wholesaler's top-level categories, and any deeper one that has a level of its own, by path."""
    paths = set(supply.service_levels)
    categories = Category.objects.filter(wholesaler_id=supply.depot.wholesaler_id).filter(
        Q(parent__isnull=True) | Q(path__in=paths)
    )
    return [
        LevelRow(
            path=category.path,
            label=category.name if category.parent_id is None else str(category),
        )
        for category in categories.order_by("path")
    ]
