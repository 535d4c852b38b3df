"""Schema rules of ordering: constraints the database enforces, and small model helpers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from catalog.models import Product
from catalog.selectors import ledger_violations
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, platform_access
from ordering.models import ClaimLine, Depot, DepotStock, Promotion, PurchaseOrder, StoreSupply

pytestmark = pytest.mark.django_db


def test_service_level_is_the_most_specific_configured_one(supply: StoreSupply) -> None:
    supply.service_levels = {"drinks": 0.97, "drinks/beer": 0.9}
    assert supply.service_level_for("drinks/beer/lager") == 0.9
    assert supply.service_level_for("drinks/water") == 0.97
    assert supply.service_level_for("snacks") == 0.95
    assert supply.service_level_for("") == 0.95


@pytest.mark.usefixtures("depot")
def test_depot_stock_cannot_allocate_more_than_it_holds(cola: Product) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        DepotStock.objects.filter(product=cola).update(allocated=241)
    assert DepotStock.objects.get(product=cola).allocatable == 240


@pytest.mark.usefixtures("supply")
def test_one_draft_per_store_and_delivery_date(store: Store, depot: Depot) -> None:
    day = dt.date(2026, 11, 24)
    with merchant_context(store.merchant_id):
        PurchaseOrder.objects.create(
            merchant_id=store.merchant_id, store=store, depot=depot, number="A", delivery_date=day
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            PurchaseOrder.objects.create(
                merchant_id=store.merchant_id, store=store, depot=depot, number="B", delivery_date=day
            )
        # A submitted order for the same day is fine: only drafts are unique.
        PurchaseOrder.objects.create(
            merchant_id=store.merchant_id, store=store, depot=depot, number="C", delivery_date=day, state="submitted"
        )


@pytest.mark.usefixtures("supply")
def test_order_rows_are_invisible_outside_their_merchant(store: Store, depot: Depot) -> None:
    with merchant_context(store.merchant_id):
        PurchaseOrder.objects.create(
            merchant_id=store.merchant_id, store=store, depot=depot, number="X", delivery_date=dt.date(2026, 11, 24)
        )
    # Row-level security: no merchant in context, no rows (the ORM filter is not needed for that).
    assert PurchaseOrder.objects.count() == 0
    assert StoreSupply.objects.count() == 0


def test_claim_line_missing_and_extra() -> None:
    assert (ClaimLine(shipped=12, received=10).missing, ClaimLine(shipped=12, received=10).extra) == (2, 0)
    assert (ClaimLine(shipped=12, received=14).missing, ClaimLine(shipped=12, received=14).extra) == (0, 2)


@pytest.mark.slow
def test_the_demo_seeds_depot_supply_history_and_a_draft_once() -> None:
    from demo.seed import accounts as merchants_demo
    from demo.seed import catalog as catalog_demo
    from demo.seed import restock as demo

    merchants_demo.demo_seed()
    catalog_demo.demo_seed()
    assert demo.demo_seed() is True
    with platform_access(reason="test", actor="test"):
        assert Depot.objects.count() == 1
        assert StoreSupply.objects.count() == Store.objects.count() == 3
        draft = PurchaseOrder.objects.get(state="draft")
        # The second store's order is on its way one case short; that case follows on a backorder.
        shipped = PurchaseOrder.objects.get(state="shipped")
        backorder = PurchaseOrder.objects.get(backorder_of=shipped)
        assert shipped.store != draft.store
        assert backorder.state == "submitted"
        assert backorder.delivery_date > shipped.delivery_date
        owed = {line.product_id: line.quantity for line in backorder.lines.all()}
        short = {
            line.product_id: line.backordered_quantity for line in shipped.lines.all() if line.backordered_quantity
        }
        assert owed == short
        assert any(shipped.lines.get(product_id=product).shipped_quantity for product in owed)  # the one cut short
        assert draft.state == "draft"
        assert draft.lines.count() > 5
        assert all(line.quantity % line.case_pack == 0 for line in draft.lines.all())
        assert all(line.explanation.startswith("sells ") for line in draft.lines.all())
        # The demo plans a promotion of a product the drafted store sells; a line for it says so.
        promotion = Promotion.objects.get()
        assert draft.store.assortment.filter(product=promotion.product).exists()
        for line in draft.lines.filter(product=promotion.product):
            assert "promotion" in line.explanation
        merchants = list(Merchant.objects.all())
    for merchant in merchants:
        with merchant_context(merchant.pk):
            assert ledger_violations(merchant=merchant) == []
    assert demo.demo_seed() is False


def test_a_store_cannot_be_supplied_by_another_wholesalers_depot(store: Store) -> None:
    from django.core.exceptions import ValidationError

    from tests.factories import WholesalerFactory

    rival_depot = Depot.objects.create(wholesaler=WholesalerFactory(slug="rival", name="Rival"), name="Rival depot")
    supply = StoreSupply(merchant_id=store.merchant_id, store=store, depot=rival_depot)
    with pytest.raises(ValidationError, match="another wholesaler"):
        supply.full_clean()
