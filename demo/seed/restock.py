"""The demo's restocking: a depot with stock, how each demo store is supplied, sales history, one draft.

Sales history goes through the ledger's own service (``catalog.services.stock_moves``), day by day,
and each day's movements are then dated back to that day, so the forecast has weeks to read and
the ledger's running on-hand stays exact.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from catalog.models import MovementKind, Product, StockMovement, StoreProduct
from catalog.services.stock import Move, stock_moves
from demo.seed.accounts import WHOLESALER_SLUG
from merchants.models import Store, Wholesaler
from merchants.tenancy import merchant_context, platform_access
from ordering.models import Depot, DepotStock, Promotion, StoreSupply

HISTORY_DAYS = 28
# What wholesaler staff may do in the admin for fulfilment (added to the demo's staff group).
WHOLESALER_PERMISSIONS = [
    "view_depot", "change_depot",
    "view_depotstock", "add_depotstock", "change_depotstock",
    "view_storesupply", "add_storesupply", "change_storesupply",
    "view_purchaseorder", "change_purchaseorder",
    "view_purchaseorderline", "change_purchaseorderline",
    "view_purchaseordertransition",
    "view_claim", "change_claim", "view_claimline",
    "view_promotion", "add_promotion", "change_promotion", "delete_promotion",
]  # fmt: skip
STAFF_GROUP = "Wholesaler staff"
ROUTES = {"Lindenstraße": "Route A", "Bahnhof": "Route A", "Am Park": "Route B"}
# Share of days a product sells at all, and its units on such a day, by the weekday (Mon first).
WEEKDAY_FACTOR = (0.8, 0.85, 0.9, 1.0, 1.3, 1.4, 0.75)


def wholesaler_permissions_grant() -> None:
    """Give the wholesaler staff group the fulfilment permissions; idempotent."""
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="ordering", codename__in=WHOLESALER_PERMISSIONS)
    )


def _history(store: Store, rng: random.Random, today: dt.date) -> None:
    """Four weeks of intermittent sales (and a weekly delivery) through the ledger, dated back."""
    zone = ZoneInfo(store.timezone)
    items = list(
        StoreProduct.objects.filter(merchant_id=store.merchant_id, store=store, product__isnull=False).order_by("pk")
    )
    # Each product's average units a day: most sell less than one, a few sell several.
    rates = {item.pk: rng.choice([0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 2.0, 3.5]) for item in items}
    for back in range(HISTORY_DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        factor = WEEKDAY_FACTOR[day.weekday()]
        on_hand = dict(StoreProduct.objects.filter(pk__in=[item.pk for item in items]).values_list("pk", "on_hand"))
        if day.weekday() == 1:  # Tuesday delivery: top up what ran low
            receipts = [
                Move(item.pk, item.product.case_pack * 2) for item in items if on_hand[item.pk] < rates[item.pk] * 7
            ]
            if receipts:
                _dated(stock_moves(merchant=store.merchant, kind=MovementKind.RECEIPT, moves=receipts,
                                   reference="demo:history"), day, zone, hour=7)  # fmt: skip
        sales = []
        for item in items:
            wanted = sum(1 for _ in range(8) if rng.random() < rates[item.pk] * factor / 8)
            sold = min(wanted, on_hand[item.pk])
            if sold > 0:
                sales.append(Move(item.pk, -sold))
        if sales:
            _dated(
                stock_moves(merchant=store.merchant, kind=MovementKind.SALE, moves=sales, reference="demo:history"),
                day,
                zone,
                hour=rng.randint(9, 20),
            )


def _dated(movements: list[StockMovement], day: dt.date, zone: ZoneInfo, *, hour: int) -> None:
    at = dt.datetime.combine(day, dt.time(hour, 0), tzinfo=zone)
    # bulk_create on PostgreSQL sets the ids of the rows it inserted.
    StockMovement.objects.filter(pk__in=[m.pk for m in movements]).update(created_at=at)


def demo_seed() -> bool:
    """Depot, depot stock, store supply, history and a first suggested order; once. False when already there."""
    from ordering.services.drafting import purchase_order_draft

    with transaction.atomic(), platform_access(reason="demo seed: ordering", actor="command:demo_seed"):
        wholesaler = Wholesaler.objects.filter(slug=WHOLESALER_SLUG).first()
        if wholesaler is None or Depot.objects.filter(wholesaler=wholesaler).exists():
            return False
        wholesaler_permissions_grant()
        rng = random.Random(6)  # noqa: S311 - demo data, not security  # nosec B311
        depot = Depot.objects.create(
            wholesaler=wholesaler, name="Greenline Depot Tempelhof", address="Ordensmeisterstraße 15, 12099 Berlin"
        )
        DepotStock.objects.bulk_create(
            DepotStock(
                depot=depot,
                product=product,
                # A few products are short at the depot, so confirmations show backorders.
                on_hand=0 if rng.random() < 0.03 else product.case_pack * rng.randint(5, 60),
            )
            for product in Product.objects.filter(wholesaler=wholesaler, is_active=True)
        )
        stores = list(Store.objects.filter(merchant__wholesaler=wholesaler).order_by("pk"))
        for store in stores:
            with merchant_context(store.merchant_id):
                StoreSupply.objects.create(
                    merchant_id=store.merchant_id,
                    store=store,
                    depot=depot,
                    delivery_weekdays=["tue", "fri"],
                    cutoff_time=dt.time(18, 0),
                    lead_time_days=1,
                    minimum_order_value=5000,
                    free_delivery_threshold=25000,
                    delivery_fee=1490,
                    route=ROUTES.get(store.name, "Route A"),
                )
                if not StockMovement.objects.filter(
                    merchant_id=store.merchant_id, store=store, kind=MovementKind.SALE
                ).exists():
                    _history(store, rng, timezone.localdate(timezone=ZoneInfo(store.timezone)))
        # A planned promotion of the first store's best seller from the day after tomorrow, so the
        # first suggested order stocks up for it and says so.
        if stores:
            with merchant_context(stores[0].merchant_id):
                best = (
                    StockMovement.objects.filter(
                        store=stores[0], kind=MovementKind.SALE, store_product__product__isnull=False
                    )
                    .values("store_product__product")
                    .annotate(units=Sum("quantity"))
                    .order_by("units", "store_product__product")  # sales are negative: most sold first
                    .first()
                )
            if best is not None:
                starts = timezone.localdate() + dt.timedelta(days=2)
                Promotion.objects.create(
                    wholesaler=wholesaler,
                    product_id=best["store_product__product"],
                    starts_on=starts,
                    ends_on=starts + dt.timedelta(days=6),
                    expected_lift=2,
                    note="Weekly flyer",
                )
    # One suggested order for the first demo store, drafted as the nightly job would.
    if stores:
        purchase_order_draft(store=stores[0])
    if len(stores) > 1:
        _shipped_short(stores[1])
    return True


def _shipped_short(store: Store) -> None:
    """An order of the second store on its way, one case short, so receiving and a backorder can be tried."""
    from ordering.services.drafting import purchase_order_draft
    from ordering.services.editing import purchase_order_submit
    from ordering.services.fulfilment import purchase_order_confirm, purchase_order_ship

    order = purchase_order_draft(store=store).order
    if order is None:
        return
    with merchant_context(store.merchant_id):
        short = next((line for line in order.lines.order_by("pk") if line.quantity >= 2 * line.case_pack), None)
    if short is None:
        return
    purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None)
    purchase_order_confirm(
        merchant=store.merchant,
        order_id=order.pk,
        by=None,
        allocations={short.pk: short.quantity - short.case_pack},
    )
    purchase_order_ship(merchant=store.merchant, order_id=order.pk, by=None)
