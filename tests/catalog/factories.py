"""Factories for the master catalog and store assortments."""

from __future__ import annotations

import itertools
from typing import Any

import factory

from catalog import gtin
from catalog.models import Barcode, Category, Product, StoreProduct
from tests.factories import StoreFactory, TenantFactory, WholesalerFactory

_bodies = itertools.count(400000000001)


def next_gtin() -> str:
    return gtin.make(str(next(_bodies))).zfill(14)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("wholesaler", "path")

    wholesaler = factory.SubFactory(WholesalerFactory)
    name = "Drinks"
    path = "drinks"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    wholesaler = factory.SubFactory(WholesalerFactory)
    gtin = factory.LazyFunction(next_gtin)
    name = factory.Sequence(lambda n: f"Quellwerk Cola {n}")
    brand = "Quellwerk"
    category = factory.SubFactory(CategoryFactory, wholesaler=factory.SelfAttribute("..wholesaler"))
    unit_size = "0.5 l"
    content_amount = "0.5"
    content_unit = "l"
    case_pack = 12
    wholesale_cost = 79
    suggested_retail_price = 149


class BarcodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Barcode

    product = factory.SubFactory(ProductFactory)
    wholesaler = factory.SelfAttribute("product.wholesaler")
    code = factory.LazyFunction(next_gtin)
    kind = "multipack"
    quantity = 6


class StoreProductFactory(TenantFactory):
    class Meta:
        model = StoreProduct

    store = factory.SubFactory(StoreFactory)
    merchant = factory.SelfAttribute("store.merchant")
    product = factory.SubFactory(ProductFactory, wholesaler=factory.SelfAttribute("..store.merchant.wholesaler"))
    price = 199

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        return super()._create(model_class, *args, **kwargs)
