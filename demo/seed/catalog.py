"""The demo's catalog: the wholesaler's products with drawn images, and each demo store's assortment."""

from __future__ import annotations

import io
import random

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from catalog.models import Barcode, BarcodeKind, Category, MovementKind, PriceChange, Product, StoreProduct
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
        rng = random.Random(11)  # noqa: S311 - demo data, not security
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
