"""Fixtures of the ordering tests: a depot of the merchants' wholesaler, a supplied store, sales history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from catalog.models import MovementKind, Product, StockMovement, StoreProduct
from catalog.services.stock import Move, stock_moves
from demo.seed.restock import STAFF_GROUP, wholesaler_permissions_grant
from merchants.models import Merchant, Store, Wholesaler, WholesalerStaff
from merchants.tenancy import merchant_context
from ordering.models import Depot, DepotStock, PurchaseOrder, PurchaseOrderLine, StoreSupply
from ordering.services import drafting, editing, fulfilment
from tests.catalog.factories import ProductFactory, StoreProductFactory
from tests.factories import UserFactory, WholesalerFactory

# A Monday evening in Berlin, before the 18:00 cut-off for Tuesday's delivery.
MONDAY_NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def wholesaler(merchant: Merchant) -> Wholesaler:
    return merchant.wholesaler


@pytest.fixture
def depot(wholesaler: Wholesaler) -> Depot:
    return Depot.objects.create(wholesaler=wholesaler, name="Depot Nord", address="Hafenstraße 1, Hamburg")


@pytest.fixture
def cola(wholesaler: Wholesaler, depot: Depot) -> Product:
    product = ProductFactory(wholesaler=wholesaler, name="Quellwerk Cola", case_pack=12, wholesale_cost=80)
    DepotStock.objects.create(depot=depot, product=product, on_hand=240)
    return product


@pytest.fixture
def chips(wholesaler: Wholesaler, depot: Depot) -> Product:
    product = ProductFactory(wholesaler=wholesaler, name="Knusper Chips", case_pack=6, wholesale_cost=120)
    DepotStock.objects.create(depot=depot, product=product, on_hand=12)
    return product


@pytest.fixture
def not_carried(wholesaler: Wholesaler) -> Product:
    return ProductFactory(wholesaler=wholesaler, name="Rare Tonic", case_pack=6)


@pytest.fixture
def supply(store: Store, depot: Depot) -> StoreSupply:
    with merchant_context(store.merchant_id):
        return StoreSupply.objects.create(
            merchant_id=store.merchant_id,
            store=store,
            depot=depot,
            delivery_weekdays=["tue", "fri"],
            cutoff_time=dt.time(18, 0),
            lead_time_days=1,
            route="Route A",
        )


def item_for(store: Store, product: Product, *, on_hand: int = 0) -> StoreProduct:
    item = StoreProductFactory(store=store, product=product, price=199)
    with merchant_context(store.merchant_id):
        StoreProduct.objects.filter(pk=item.pk).update(created_at=timezone.now() - dt.timedelta(days=200))
    if on_hand:
        stock_moves(merchant=store.merchant, kind=MovementKind.RECEIPT, moves=[Move(item.pk, on_hand)])
    return item


def history(item: StoreProduct, *, daily: list[int], end: dt.datetime) -> None:
    """Sales of ``daily[k]`` units k+1 days before ``end``, through the ledger, oldest first, dated back."""
    for back, units in reversed(list(enumerate(daily, start=1))):
        if not units:
            continue
        [movement] = stock_moves(
            merchant=item.merchant, kind=MovementKind.SALE, moves=[Move(item.pk, -units)], reference="test"
        )
        with merchant_context(item.merchant_id):
            StockMovement.objects.filter(pk=movement.pk).update(created_at=end - dt.timedelta(days=back))


def selling(store: Store, product: Product, *, daily: list[int], left: int, end: dt.datetime) -> StoreProduct:
    """A product the store has sold ``daily`` (newest day first) until ``end``, with ``left`` on hand now."""
    item = item_for(store, product, on_hand=sum(daily) + 100)
    with merchant_context(store.merchant_id):  # the stock came in before the history starts
        StockMovement.objects.filter(store_product=item).update(created_at=end - dt.timedelta(days=len(daily) + 1))
    history(item, daily=daily, end=end)
    stock_moves(merchant=store.merchant, kind=MovementKind.COUNT, moves=[Move(item.pk, left - (100))])
    return item


def substituted(
    store: Store, ordered: Product, substitute: Product, *, quantity: int
) -> tuple[PurchaseOrder, PurchaseOrderLine]:
    """A shipped order of ``quantity`` units of ``ordered``, for which the wholesaler sends ``substitute``."""
    item = item_for(store, ordered)
    order = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert order is not None
    line = editing.purchase_order_line_add(
        merchant=store.merchant, order_id=order.pk, store_product_id=item.pk, quantity=quantity
    )
    editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    fulfilment.purchase_order_line_substitute(
        merchant=store.merchant, order_id=order.pk, line_id=line.pk, product_id=substitute.pk
    )
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_ship(merchant=store.merchant, order_id=order.pk, by=None)
    return order, line


@pytest.fixture
def shipped(store: Store, supply: StoreSupply, cola: Product) -> tuple[PurchaseOrder, PurchaseOrderLine, StoreProduct]:
    """A shipped order of 24 colas (the store had none)."""
    del supply  # asked for so that the store is supplied; not used here
    item = item_for(store, cola)
    order = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert order is not None
    line = editing.purchase_order_line_add(
        merchant=store.merchant, order_id=order.pk, store_product_id=item.pk, quantity=24
    )
    editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_ship(merchant=store.merchant, order_id=order.pk, by=None)
    return order, line, item


@pytest.fixture
def selling_store(store: Store, supply: StoreSupply, cola: Product, chips: Product) -> dict[str, StoreProduct]:
    """The store sells cola (about 6 a day) and chips (about 1 a day), with 8 weeks of history."""
    del supply  # asked for so that the store is supplied; not used here
    return {
        "cola": selling(store, cola, daily=[6, 5, 7, 6, 8, 4, 6] * 8, left=3, end=MONDAY_NOON),
        "chips": selling(store, chips, daily=[1, 0, 2, 1, 0, 1, 1] * 8, left=2, end=MONDAY_NOON),
    }


@pytest.fixture
def depot_staff_user(wholesaler: Wholesaler):  # type: ignore[no-untyped-def]
    wholesaler_permissions_grant()
    from django.contrib.auth.models import Permission

    group = Group.objects.get(name=STAFF_GROUP)
    group.permissions.add(*Permission.objects.filter(codename__in=["view_store", "view_merchant", "view_product"]))
    user = UserFactory(username="picker@wholesale.example", is_staff=True)
    user.groups.add(group)
    WholesalerStaff.objects.create(user=user, wholesaler=wholesaler)
    return user


@pytest.fixture
def depot_client(depot_staff_user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(depot_staff_user)
    return client


@pytest.fixture
def rival_client(depot_staff_user) -> Client:  # type: ignore[no-untyped-def]
    """Staff of another wholesaler (same permissions)."""
    del depot_staff_user  # asked for so that the first wholesaler's staff exist too; not used here
    rival = WholesalerFactory(slug="rival-wholesale", name="Rival Wholesale")
    user = UserFactory(username="picker@rival.example", is_staff=True)
    user.groups.add(Group.objects.get(name=STAFF_GROUP))
    WholesalerStaff.objects.create(user=user, wholesaler=rival)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def clock() -> Callable[..., dt.datetime]:
    return lambda **delta: MONDAY_NOON + dt.timedelta(**delta)


User = get_user_model()
