"""Two wholesalers side by side, each with one of every row its staff work on in the admin.

Every name of the rival's rows carries RIVAL, so a page that shows any of them is caught by one
substring test; the platform operator sees both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from catalog import gtin
from catalog.models import Barcode, Category, Product
from demo.seed import accounts, restock
from merchants.models import Merchant, Store, Wholesaler, WholesalerStaff
from merchants.tenancy import merchant_context
from ordering.models import Claim, Depot, DepotStock, Promotion, PurchaseOrder, StoreSupply
from ordering.services import drafting, editing, fulfilment, receiving
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.factories import MerchantFactory, StoreFactory, UserFactory, WholesalerFactory, signed_in_two_step
from tests.ordering.conftest import MONDAY_NOON, item_for

RIVAL = "Zanzibar"
OURS = "Greenline"


@dataclasses.dataclass(frozen=True, repr=False)
class World:
    """One wholesaler's rows: what its staff may see and change, and nobody else's staff may."""

    wholesaler: Wholesaler
    staff: User
    merchant: Merchant
    store: Store
    category: Category
    product: Product
    substitute: Product
    barcode: Barcode
    depot: Depot
    stock: DepotStock
    promotion: Promotion
    supply: StoreSupply
    received: PurchaseOrder
    submitted: PurchaseOrder
    claim: Claim

    def rows(self) -> dict[str, object]:
        """Each admin model's row of this wholesaler, by the model's label."""
        return {
            "merchants.wholesaler": self.wholesaler,
            "merchants.wholesalerstaff": self.staff.wholesaler_staff,
            "merchants.merchant": self.merchant,
            "merchants.store": self.store,
            "catalog.category": self.category,
            "catalog.product": self.product,
            "ordering.depot": self.depot,
            "ordering.depotstock": self.stock,
            "ordering.promotion": self.promotion,
            "ordering.storesupply": self.supply,
            "ordering.purchaseorder": self.submitted,
            "ordering.claim": self.claim,
        }


def staff_group() -> Group:
    """The demo's wholesaler staff group with every permission the demo gives it."""
    group, _ = Group.objects.get_or_create(name=restock.STAFF_GROUP)
    group.permissions.set(
        Permission.objects.filter(codename__in=[*accounts.WHOLESALER_PERMISSIONS, *restock.WHOLESALER_PERMISSIONS])
    )
    return group


def world_build(name: str, code: int) -> World:
    """A wholesaler called ``name`` with a supplied store, its catalog, a depot and two orders (one claimed)."""
    slug = name.lower()
    wholesaler = WholesalerFactory(slug=f"{slug}-wholesale", name=f"{name} Wholesale")
    staff = UserFactory(username=f"staff@{slug}.example", is_staff=True)
    staff.groups.add(staff_group())
    WholesalerStaff.objects.create(user=staff, wholesaler=wholesaler)
    merchant = MerchantFactory(name=f"{name} Kiosk", slug=f"{slug}-kiosk", wholesaler=wholesaler)
    store = StoreFactory(merchant=merchant, name=f"{name} Corner", code=f"{slug[:4].upper()}1", city=f"{name}burg")
    category = CategoryFactory(wholesaler=wholesaler, name=f"{name} Drinks", path=f"{slug}-drinks")
    product = ProductFactory(wholesaler=wholesaler, name=f"{name} Cola", category=category, case_pack=6)
    substitute = ProductFactory(wholesaler=wholesaler, name=f"{name} Zero", category=category, case_pack=6)
    barcode = Barcode.objects.create(wholesaler=wholesaler, product=product, code=gtin.make(f"40{code:010d}").zfill(14))
    depot = Depot.objects.create(wholesaler=wholesaler, name=f"{name} Depot", address=f"{name} Quay 1")
    stock = DepotStock.objects.create(depot=depot, product=product, on_hand=240)
    DepotStock.objects.create(depot=depot, product=substitute, on_hand=240)
    promotion = Promotion.objects.create(
        wholesaler=wholesaler,
        product=product,
        starts_on=dt.date(2026, 12, 1),
        ends_on=dt.date(2026, 12, 6),
        note=f"{name} winter promotion",
    )
    with merchant_context(merchant.pk):
        supply = StoreSupply.objects.create(
            merchant_id=merchant.pk,
            store=store,
            depot=depot,
            delivery_weekdays=["tue", "fri"],
            cutoff_time=dt.time(18, 0),
            lead_time_days=1,
            route=f"{name} Route",
        )
    item = item_for(store, product)
    received = _order(store, item.pk, quantity=12)
    fulfilment.purchase_order_confirm(merchant=merchant, order_id=received.pk, by=None)
    fulfilment.purchase_order_ship(merchant=merchant, order_id=received.pk, by=None)
    with merchant_context(merchant.pk):
        line = received.lines.get()
    receiving.purchase_order_receive(
        merchant=merchant, order_id=received.pk, counts={line.pk: receiving.Count(received=10)}, by=None
    )
    submitted = _order(store, item.pk, quantity=6)
    with merchant_context(merchant.pk):
        claim = Claim.objects.get(order=received)
    return World(
        wholesaler=wholesaler,
        staff=staff,
        merchant=merchant,
        store=store,
        category=category,
        product=product,
        substitute=substitute,
        barcode=barcode,
        depot=depot,
        stock=stock,
        promotion=promotion,
        supply=supply,
        received=received,
        submitted=submitted,
        claim=claim,
    )


def _order(store: Store, store_product_id: int, *, quantity: int) -> PurchaseOrder:
    order = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert order is not None
    editing.purchase_order_line_add(
        merchant=store.merchant, order_id=order.pk, store_product_id=store_product_id, quantity=quantity
    )
    editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    return order


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ours(db: None) -> World:  # noqa: ARG001 - asks pytest-django for the database
    return world_build(OURS, 1)


@pytest.fixture
def rival(ours: World) -> World:
    del ours  # built first, so that both wholesalers exist whichever fixture a test names
    return world_build(RIVAL, 2)


@pytest.fixture
def our_client(ours: World, rival: World) -> Client:
    del rival  # the rival's rows exist, so that their absence on our pages means something
    return client_of(ours.staff)


@pytest.fixture
def rival_client(rival: World) -> Client:
    return client_of(rival.staff)


@pytest.fixture
def operator_client(ours: World, rival: World) -> Client:
    del ours, rival
    # The platform operator always signs in with two steps.
    return signed_in_two_step(UserFactory(username="operator@lingshou.example", is_staff=True, is_superuser=True))
