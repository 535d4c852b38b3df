"""The demo catalog seeds once, with valid products, images and an exact opening stock."""

from __future__ import annotations

import pytest

from catalog import gtin
from catalog.models import Product, StoreProduct
from catalog.selectors import ledger_violations
from demo.seed import accounts
from demo.seed import catalog as catalog_seed
from merchants.models import Merchant
from merchants.tenancy import merchant_context, platform_access

pytestmark = pytest.mark.django_db


def test_the_demo_catalog_is_seeded_once_with_assortments_and_exact_stock() -> None:
    accounts.demo_seed()
    assert catalog_seed.demo_seed() is True
    products = Product.objects.all()
    assert products.count() >= 300
    assert all(gtin.is_valid(p.gtin) for p in products)
    assert all(p.image.name.startswith("products/") for p in products[:20])
    with platform_access(reason="test", actor="test"):
        merchants = list(Merchant.objects.all())
        per_store = {
            s: StoreProduct.objects.filter(store__name=s).count() for s in ("Lindenstraße", "Bahnhof", "Am Park")
        }
        before = StoreProduct.objects.count()
    assert all(count > 100 for count in per_store.values())
    for merchant in merchants:
        with merchant_context(merchant.pk):
            assert ledger_violations(merchant=merchant) == []
    assert catalog_seed.demo_seed() is False
    with platform_access(reason="test", actor="test"):
        assert StoreProduct.objects.count() == before
