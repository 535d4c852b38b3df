"""Wholesaler fulfilment in the admin: own depots only, bulk actions, allocation, substitution, PDFs."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
from django.db.models import F
from django.test import Client

from catalog.models import Product
from merchants.models import Store
from merchants.tenancy import merchant_context, platform_access
from ordering.models import (
    Claim,
    DepotStock,
    OrderState,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderTransition,
    StoreSupply,
)
from ordering.services import drafting, editing, fulfilment, receiving
from tests.ordering.conftest import MONDAY_NOON, item_for

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/ordering/purchaseorder/"


def pdf_text(content: bytes) -> str:
    document = pdfium.PdfDocument(content)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def _state(order: PurchaseOrder) -> str:
    with platform_access(reason="test", actor="test"):
        return PurchaseOrder.objects.get(pk=order.pk).state


@pytest.fixture
def submitted(store: Store, supply: StoreSupply, cola: Product, chips: Product) -> PurchaseOrder:
    """A submitted order: 24 cola and 18 chips (the depot has only 12 chips)."""
    del supply  # asked for so that the store is supplied; not used here
    order = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert order is not None
    for product, units in ((cola, 24), (chips, 18)):
        item = item_for(store, product)
        editing.purchase_order_line_add(
            merchant=store.merchant, order_id=order.pk, store_product_id=item.pk, quantity=units
        )
    editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    return order


def _lines(order: PurchaseOrder) -> dict[str, PurchaseOrderLine]:
    with merchant_context(order.merchant_id):
        return {line.product.name: line for line in order.lines.select_related("product")}


def test_staff_see_only_their_own_depots_orders(
    depot_client: Client, rival_client: Client, submitted: PurchaseOrder
) -> None:
    assert submitted.number in depot_client.get(CHANGELIST).content.decode()
    assert submitted.number not in rival_client.get(CHANGELIST).content.decode()
    assert depot_client.get(f"{CHANGELIST}{submitted.pk}/change/").status_code == 200
    # Another wholesaler's order "does not exist" for them (the admin redirects with a message).
    assert rival_client.get(f"{CHANGELIST}{submitted.pk}/change/").status_code == 302
    assert rival_client.get(f"{CHANGELIST}{submitted.pk}/invoice.pdf").status_code == 404


def test_another_wholesalers_staff_cannot_act_on_the_order(
    rival_client: Client, submitted: PurchaseOrder, chips: Product
) -> None:
    for action in ("confirm", "mark_shipped", "cancel", "pick_list"):
        rival_client.post(CHANGELIST, {"action": action, "_selected_action": [submitted.pk]})
    assert _state(submitted) == OrderState.SUBMITTED
    assert DepotStock.objects.get(product=chips).allocated == 0


@pytest.mark.usefixtures("supply")
def test_drafts_are_the_shops_own_until_submitted(depot_client: Client, store: Store) -> None:
    draft = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert draft is not None
    assert draft.number not in depot_client.get(CHANGELIST).content.decode()


def test_list_filters_by_depot_delivery_date_and_state(depot_client: Client, submitted: PurchaseOrder) -> None:
    by_state = depot_client.get(CHANGELIST, {"state": "submitted", "depot": submitted.depot_id})
    assert submitted.number in by_state.content.decode()
    assert submitted.number not in depot_client.get(CHANGELIST, {"state": "confirmed"}).content.decode()
    assert submitted.number not in depot_client.get(CHANGELIST, {"delivery_date": "2026-12-24"}).content.decode()


def test_allocation_and_substitution_per_line_then_bulk_confirm(
    depot_client: Client,
    submitted: PurchaseOrder,
    cola: Product,
    depot,
    wholesaler,  # type: ignore[no-untyped-def]
) -> None:
    from tests.catalog.factories import ProductFactory

    zero = ProductFactory(wholesaler=wholesaler, name="Quellwerk Zero", case_pack=12)
    DepotStock.objects.create(depot=depot, product=zero, on_hand=120)
    lines = _lines(submitted)
    ids = [lines["Knusper Chips"].pk, lines["Quellwerk Cola"].pk]
    form = {
        "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "2", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000",
        "transitions-TOTAL_FORMS": "0", "transitions-INITIAL_FORMS": "0",
        "transitions-MIN_NUM_FORMS": "0", "transitions-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    with platform_access(reason="test", actor="test"):
        order_lines = list(PurchaseOrderLine.objects.filter(order=submitted).order_by("product__name"))
    for index, line in enumerate(order_lines):
        form[f"lines-{index}-id"] = str(line.pk)
        form[f"lines-{index}-order"] = str(submitted.pk)
        form[f"lines-{index}-allocated_quantity"] = "6" if line.pk == ids[0] else ""
        form[f"lines-{index}-substitute"] = str(zero.pk) if line.pk == ids[1] else ""
    response = depot_client.post(f"{CHANGELIST}{submitted.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    response = depot_client.post(CHANGELIST, {"action": "confirm", "_selected_action": [submitted.pk]}, follow=True)
    assert "Confirmed 1 order." in response.content.decode()
    lines = _lines(submitted)
    assert (lines["Knusper Chips"].allocated_quantity, lines["Knusper Chips"].backordered_quantity) == (6, 12)
    assert lines["Quellwerk Cola"].substitute_id == zero.pk
    assert DepotStock.objects.get(product=zero).allocated == 24
    assert DepotStock.objects.get(product=cola).allocated == 0
    # Both edits are in the order's history with who made them, before the confirmation.
    with platform_access(reason="test", actor="test"):
        history = list(PurchaseOrderTransition.objects.filter(order=submitted).order_by("at", "pk"))
    after_submission = history[[t.to_state for t in history].index("submitted") + 1 :]
    assert [(t.from_state, t.to_state, t.note, t.by.username if t.by else None) for t in after_submission] == [
        ("submitted", "submitted", "Knusper Chips: allocated 6 (was not set)", "picker@wholesale.example"),
        ("submitted", "submitted", "Quellwerk Cola: substitute Quellwerk Zero (was none)", "picker@wholesale.example"),
        ("submitted", "confirmed", "Short: Knusper Chips 0.5 l: 6 of 18 (backordered)", "picker@wholesale.example"),
    ]


def test_substituting_a_product_the_depot_does_not_carry_is_refused(
    depot_client: Client, submitted: PurchaseOrder, not_carried: Product
) -> None:
    with platform_access(reason="test", actor="test"):
        order_lines = list(PurchaseOrderLine.objects.filter(order=submitted).order_by("product__name"))
    form = {
        "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "2", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000",
        "transitions-TOTAL_FORMS": "0", "transitions-INITIAL_FORMS": "0",
        "transitions-MIN_NUM_FORMS": "0", "transitions-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for index, line in enumerate(order_lines):
        form.update({f"lines-{index}-id": str(line.pk), f"lines-{index}-order": str(submitted.pk)})
        form[f"lines-{index}-substitute"] = str(not_carried.pk) if index == 0 else ""
    response = depot_client.post(f"{CHANGELIST}{submitted.pk}/change/", form)
    assert response.status_code == 200
    assert "Depot Nord does not carry Rare Tonic." in response.content.decode()
    assert all(line.substitute_id is None for line in _lines(submitted).values())


def test_pick_list_ship_and_invoice(depot_client: Client, submitted: PurchaseOrder, store: Store) -> None:
    depot_client.post(CHANGELIST, {"action": "confirm", "_selected_action": [submitted.pk]})
    response = depot_client.post(CHANGELIST, {"action": "pick_list", "_selected_action": [submitted.pk]})
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Pick list Tue 24 Nov 2026" in text
    assert "Route A" in text
    assert "Depot Nord" in text
    assert "Quellwerk Cola" in text
    assert store.name in text
    assert submitted.number in text
    assert _state(submitted) == OrderState.PICKING
    response = depot_client.post(
        CHANGELIST, {"action": "mark_shipped", "_selected_action": [submitted.pk]}, follow=True
    )
    assert "Shipped 1 order." in response.content.decode()
    invoice = depot_client.get(f"{CHANGELIST}{submitted.pk}/invoice.pdf")
    assert invoice["Content-Type"] == "application/pdf"
    text = pdf_text(invoice.content)
    # 24 cola at 0.80 and 12 chips at 1.20 (the depot had 12 of the 18 ordered), both at 19 % VAT.
    assert f"Invoice INV-{submitted.number}" in text
    assert "19,20 €" in text
    assert "14,40 €" in text
    assert "Net total 33,60 €" in text
    assert "VAT 19 % on 33,60 € 6,38 €" in text
    assert "Total incl. VAT 39,98 €" in text


def test_a_refused_bulk_action_says_why_per_order(depot_client: Client, submitted: PurchaseOrder) -> None:
    response = depot_client.post(
        CHANGELIST, {"action": "mark_shipped", "_selected_action": [submitted.pk]}, follow=True
    )
    assert (
        f"{submitted.number}: Order {submitted.number} is submitted: only confirmed orders ship."
        in response.content.decode()
    )
    assert _state(submitted) == OrderState.SUBMITTED


def test_claims_are_listed_for_their_wholesaler_only(
    depot_client: Client, rival_client: Client, submitted: PurchaseOrder, store: Store
) -> None:
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=submitted.pk, by=None)
    fulfilment.purchase_order_ship(merchant=store.merchant, order_id=submitted.pk, by=None)
    line = _lines(submitted)["Quellwerk Cola"]
    receiving.purchase_order_receive(
        merchant=store.merchant, order_id=submitted.pk, counts={line.pk: receiving.Count(received=20)}, by=None
    )
    with platform_access(reason="test", actor="test"):
        claim = Claim.objects.get(order=submitted)
    assert submitted.number in depot_client.get("/admin/ordering/claim/").content.decode()
    assert submitted.number not in rival_client.get("/admin/ordering/claim/").content.decode()
    detail = depot_client.get(f"/admin/ordering/claim/{claim.pk}/change/").content.decode()
    assert "Quellwerk Cola" in detail
    assert ">20<" in detail


@pytest.mark.usefixtures("supply", "cola")
def test_depots_stock_and_store_supply_are_scoped_to_the_wholesaler(
    depot_client: Client, rival_client: Client, store: Store
) -> None:
    assert store.name in depot_client.get("/admin/ordering/storesupply/").content.decode()
    assert store.name not in rival_client.get("/admin/ordering/storesupply/").content.decode()
    # The rival cannot even pick the store (or the depot) when adding a supply.
    add_form = rival_client.get("/admin/ordering/storesupply/add/").content.decode()
    assert store.name not in add_form
    assert "Depot Nord" not in add_form
    assert "Quellwerk Cola" in depot_client.get("/admin/ordering/depotstock/").content.decode()
    assert "Quellwerk Cola" not in rival_client.get("/admin/ordering/depotstock/").content.decode()
    assert "Depot Nord" not in rival_client.get("/admin/ordering/depot/").content.decode()


def test_the_wholesaler_plans_promotions_for_its_own_products_only(
    depot_client: Client,
    rival_client: Client,
    cola: Product,
    wholesaler,  # type: ignore[no-untyped-def]
) -> None:
    import datetime as dt

    from ordering.models import Promotion
    from tests.catalog.factories import ProductFactory
    from tests.factories import WholesalerFactory

    url = "/admin/ordering/promotion/"
    form = {"wholesaler": wholesaler.pk, "product": cola.pk, "starts_on": "2026-11-26", "ends_on": "2026-11-29"}
    response = depot_client.post(f"{url}add/", {**form, "expected_lift": "2"})
    assert response.status_code == 302, response.content.decode()[:2000]
    promotion = Promotion.objects.get()
    assert (promotion.product_id, promotion.starts_on, float(promotion.expected_lift)) == (
        cola.pk,
        dt.date(2026, 11, 26),
        2.0,
    )
    # An end before the start, a lift below 1.1, another wholesaler's product: refused, nothing saved.
    theirs = ProductFactory(wholesaler=WholesalerFactory(slug="other-wholesale"), name="Their Cola")
    for bad in (
        {**form, "ends_on": "2026-11-25", "expected_lift": "2"},
        {**form, "expected_lift": "1.0"},
        {**form, "product": theirs.pk, "expected_lift": "2"},
    ):
        response = depot_client.post(f"{url}add/", bad)
        assert response.status_code == 200
        assert "errornote" in response.content.decode()
    assert Promotion.objects.count() == 1
    # A rival wholesaler's staff neither list nor open it.
    assert "Quellwerk Cola" not in rival_client.get(url).content.decode()
    assert rival_client.get(f"{url}{promotion.pk}/change/").status_code in (302, 404)
    assert "Quellwerk Cola" in depot_client.get(url).content.decode()


def test_a_short_shipment_leaves_a_backorder_the_wholesaler_confirms_in_the_admin(
    depot_client: Client, rival_client: Client, submitted: PurchaseOrder, chips: Product
) -> None:
    depot_client.post(CHANGELIST, {"action": "confirm", "_selected_action": [submitted.pk]})  # 12 of 18 chips
    depot_client.post(CHANGELIST, {"action": "mark_shipped", "_selected_action": [submitted.pk]})
    with platform_access(reason="test", actor="test"):
        backorder = PurchaseOrder.objects.get(backorder_of=submitted)
    listed = depot_client.get(f"{CHANGELIST}?state__exact=submitted").content.decode()
    assert backorder.number in listed
    assert backorder.number not in rival_client.get(CHANGELIST).content.decode()
    page = depot_client.get(f"{CHANGELIST}{backorder.pk}/change/").content.decode()
    assert "Backorder of" in page
    assert submitted.number in page

    DepotStock.objects.filter(product=chips).update(on_hand=F("on_hand") + 60)
    response = depot_client.post(CHANGELIST, {"action": "confirm", "_selected_action": [backorder.pk]}, follow=True)
    assert "Confirmed 1 order." in response.content.decode()
    assert _state(backorder) == OrderState.CONFIRMED
    assert _lines(backorder)["Knusper Chips"].allocated_quantity == 6
