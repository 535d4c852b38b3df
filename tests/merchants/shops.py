"""A shop with a row in most of its tables, for the export and closing tests; a marker names every row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile

from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import Order, Shopper
from checkout.services.carts import cart_add, visit_start
from checkout.services.orders import order_place
from merchants.models import Merchant, Role, Store
from merchants.tenancy import merchant_context
from sensing.models import Camera
from tests.catalog.factories import StoreProductFactory
from tests.factories import DeviceFactory, MembershipFactory, StoreFactory


@dataclass
class Shop:
    store: Store
    item: StoreProduct
    order: Order
    camera: Camera
    clerk: Any


def shop_fill(merchant: Merchant, *, marker: str) -> Shop:
    """A store, a product, ledger lines, a placed order with a shopper's address, an open cart, a camera with
    its reference picture, and a clerk: every row and file carries ``marker``."""
    store = StoreFactory(merchant=merchant, name=f"{marker} Hauptstraße")
    item = StoreProductFactory(store=store, local_name=f"{marker} Limonade")
    stock_move(merchant=merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=10)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=item.pk, quantity=2)
    shopper, _ = Shopper.objects.get_or_create(email=f"{marker.lower()}@shopper.example")
    order = order_place(visit=visit, email=f"{marker.lower()}@shopper.example", shopper=shopper)
    cart_add(visit=visit_start(store=store), store_product_id=item.pk, quantity=1)
    device = DeviceFactory(store=store, name=f"{marker} camera")
    with merchant_context(merchant.pk):
        camera = Camera.objects.create(
            merchant=merchant,
            store=store,
            device=device,
            name=f"{marker} shelf",
            reference_image=ContentFile(f"reference of {marker}".encode(), name="reference.jpg"),
        )
    clerk = MembershipFactory(merchant=merchant, role=Role.CLERK, user__username=f"{marker.lower()}-clerk@example.com")
    return Shop(store=store, item=item, order=order, camera=camera, clerk=clerk.user)
