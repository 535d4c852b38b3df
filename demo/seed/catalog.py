"""The demo's catalog: the wholesaler's products with drawn images, and each demo store's assortment."""

from __future__ import annotations

import io
import random

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from catalog.models import (
    Barcode,
    BarcodeKind,
    Category,
    LocalBarcode,
    MovementKind,
    PriceChange,
    Product,
    StoreProduct,
)
from catalog.services.assortment import local_product_create
from catalog.services.stock import Move, stock_moves
from demo.data.catalog import ProductSpec
from demo.images import product_image
from demo.products import product_specs
from demo.seed.accounts import WHOLESALER_SLUG
from merchants.models import Store, Wholesaler
from merchants.tenancy import merchant_context, platform_access

# Share of the catalog each demo store sells, and how its prices sit against the suggested ones.
STORE_SHARE = {"Lindenstraße": (0.85, 0), "Bahnhof": (0.55, 10), "Am Park": (0.7, 0)}
SHELVES = "ABCDEFGH"
# German deposits (Pfand) per unit: single-use cans and plastic bottles 0,25 €; beer in returnable glass 0,08 €.
DEPOSIT_SINGLE_USE = 25
DEPOSIT_RETURNABLE_BEER = 8
# The cake a neighbour bakes is priced by the piece on the shop's scale: labels 21 00001 …
CAKE_LABEL_KEY = "2100001"


def deposit_of(spec: ProductSpec) -> int:
    """The deposit German law puts on one unit of the product: cans and bottles of drinks, not cartons or cups."""
    if not spec.category_path.startswith("drinks/") or spec.package not in ("can", "bottle"):
        return 0
    if spec.category_path == "drinks/beer" and spec.package == "bottle":
        return DEPOSIT_RETURNABLE_BEER
    if spec.category_path in ("drinks/wine", "drinks/spirits", "drinks/juice"):
        return 0  # wine, spirits and juice carry no deposit
    return DEPOSIT_SINGLE_USE


def counter_goods_make(store: Store) -> None:
    """What a kiosk sells at the counter without a barcode: bread rolls by PLU, a neighbour's cake by scale label."""
    local_product_create(
        merchant=store.merchant, store=store, name="Bread roll", brand="Bäckerei Hansen", price=45, tax_class="reduced"
    )
    cake = local_product_create(
        merchant=store.merchant, store=store, name="Apple cake, a piece", price=250, tax_class="reduced"
    )
    with merchant_context(store.merchant.pk):
        StoreProduct.objects.filter(store=store, local_name="Bread roll").update(plu="1")
        StoreProduct.objects.filter(pk=cake.pk).update(plu="2")
        LocalBarcode.objects.create(merchant=store.merchant, store=store, store_product=cake, code=CAKE_LABEL_KEY)


def categories_make(wholesaler: Wholesaler, specs: list[ProductSpec]) -> dict[str, Category]:
    """The wholesaler's category tree of the specs' paths (every level), by path."""
    categories: dict[str, Category] = {}
    for spec in specs:
        parts = spec.category_path.split("/")
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            if path not in categories:
                categories[path] = Category.objects.create(
                    wholesaler=wholesaler,
                    parent=categories.get("/".join(parts[: depth - 1])),
                    path=path,
                    name=spec.category_names[depth - 1],
                )
    return categories


def _image(spec: ProductSpec) -> str:
    name = f"products/{spec.gtin}.png"
    if not default_storage.exists(name):
        buffer = io.BytesIO()
        product_image(spec).save(buffer, format="PNG", optimize=True)
        name = default_storage.save(name, ContentFile(buffer.getvalue()))
    return name


def demo_seed() -> bool:
    """Create the catalog and assortments once; False (and nothing changed) when they exist."""
    with transaction.atomic(), platform_access(reason="demo seed: catalog", actor="command:demo_seed"):
        wholesaler = Wholesaler.objects.get(slug=WHOLESALER_SLUG)
        if Product.objects.filter(wholesaler=wholesaler).exists():
            return False
        specs = product_specs()
        categories = categories_make(wholesaler, specs)
        products = Product.objects.bulk_create(
            Product(
                wholesaler=wholesaler,
                gtin=spec.gtin,
                name=spec.name,
                brand=spec.brand,
                category=categories[spec.category_path],
                unit_size=spec.unit_size,
                content_amount=spec.content_amount,
                content_unit=spec.content_unit,
                case_pack=spec.case_pack,
                wholesale_cost=spec.wholesale_cost,
                suggested_retail_price=spec.suggested_retail_price,
                is_age_restricted=spec.is_age_restricted,
                minimum_age=spec.minimum_age,
                tax_class=spec.tax_class,
                image=_image(spec),
            )
            for spec in specs
        )
        Barcode.objects.bulk_create(
            [
                Barcode(
                    wholesaler=wholesaler,
                    product=product,
                    code=spec.multipack_gtin,
                    kind=BarcodeKind.MULTIPACK,
                    quantity=spec.multipack_quantity or 6,
                )
                for product, spec in zip(products, specs, strict=True)
                if spec.multipack_gtin
            ]
            + [
                Barcode(
                    wholesaler=wholesaler,
                    product=product,
                    code=spec.case_gtin,
                    kind=BarcodeKind.CASE,
                    quantity=spec.case_pack,
                )
                for product, spec in zip(products, specs, strict=True)
                if spec.case_gtin
            ]
        )
        deposits = {product.pk: deposit_of(spec) for product, spec in zip(products, specs, strict=True)}
        rng = random.Random(11)  # noqa: S311 - demo data, not security  # nosec B311
        for store in Store.objects.filter(merchant__wholesaler=wholesaler).select_related("merchant").order_by("pk"):
            share, markup = STORE_SHARE.get(store.name, (0.6, 0))
            chosen = [p for p in products if rng.random() < share]
            with merchant_context(store.merchant.pk):
                items = StoreProduct.objects.bulk_create(
                    StoreProduct(
                        merchant=store.merchant,
                        store=store,
                        product=product,
                        price=round(product.suggested_retail_price * (100 + markup) / 100),
                        shelf_location=f"{rng.choice(SHELVES)}{rng.randint(1, 6)}",
                        low_stock_threshold=max(2, product.case_pack // 4),
                        deposit=deposits[product.pk],
                    )
                    for product in chosen
                )
                PriceChange.objects.bulk_create(
                    PriceChange(merchant=store.merchant, store_product=item, old_price=None, new_price=item.price)
                    for item in items
                )
                # Opening stock: one to three cases of each, a few products nearly sold out.
                stock_moves(
                    merchant=store.merchant,
                    kind=MovementKind.RECEIPT,
                    moves=[
                        Move(
                            item.pk,
                            rng.choice([1, 2, 3]) * (item.product.case_pack if item.product else 1)
                            if rng.random() > 0.08
                            else 1,
                        )
                        for item in items
                    ],
                    reference="demo:opening-stock",
                )
            local_product_create(
                merchant=store.merchant,
                store=store,
                name="Sourdough loaf from Bäckerei Hansen",
                brand="Bäckerei Hansen",
                price=420,
                tax_class="reduced",
            )
    return True


def counter_goods_seed() -> bool:
    """Give each demo store its goods without a barcode once; False (and nothing changed) when they exist.

    Seeded after the sales history, which picks from the assortment at random: these come on top of it.
    """
    with transaction.atomic(), platform_access(reason="demo seed: counter goods", actor="command:demo_seed"):
        stores = list(
            Store.objects.filter(merchant__wholesaler__slug=WHOLESALER_SLUG).select_related("merchant").order_by("pk")
        )
        if StoreProduct.objects.filter(store__in=stores, local_name="Bread roll").exists():
            return False
        for store in stores:
            counter_goods_make(store)
    return True
