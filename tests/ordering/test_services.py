"""Services of ordering: drafting from the ledger, editing, the life of an order, receiving, claims."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db.models import F

from catalog.models import MovementKind, Product, StockMovement, StoreProduct
from catalog.services.stock import Move, stock_moves
from merchants.models import Store
from merchants.tenancy import merchant_context
from ordering import selectors
from ordering.models import Claim, DepotStock, OrderState, PurchaseOrder, PurchaseOrderLine, StoreSupply
from ordering.services import base, drafting, editing, fulfilment, receiving
from tests.ordering.conftest import MONDAY_NOON, history, item_for, substituted

pytestmark = pytest.mark.django_db


def _lines(order: PurchaseOrder) -> dict[str, PurchaseOrderLine]:
    with merchant_context(order.merchant_id):
        return {line.product.name: line for line in order.lines.select_related("product")}


def _order(order: PurchaseOrder) -> PurchaseOrder:
    with merchant_context(order.merchant_id):
        return PurchaseOrder.objects.get(pk=order.pk)


def _draft(store: Store, **kwargs: object) -> PurchaseOrder:
    outcome = drafting.purchase_order_draft(store=store, now=MONDAY_NOON, **kwargs)  # type: ignore[arg-type]
    assert outcome.order is not None
    return outcome.order


def _submitted(store: Store) -> PurchaseOrder:
    order = _draft(store)
    editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    return _order(order)


# Calendar ----------------------------------------------------------------------------------------


def test_the_next_delivery_is_the_first_whose_cutoff_is_ahead(supply: StoreSupply) -> None:
    # Monday 13:00 Berlin: Tuesday's orders close Monday 18:00 Berlin.
    delivery = selectors.delivery_next(supply=supply, now=MONDAY_NOON)
    assert delivery.date == dt.date(2026, 11, 24)
    assert delivery.deadline == dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
    assert delivery.following == dt.date(2026, 11, 27)
    # Monday 18:00 Berlin exactly: too late for Tuesday, Friday is next.
    late = selectors.delivery_next(supply=supply, now=dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC))
    assert (late.date, late.following) == (dt.date(2026, 11, 27), dt.date(2026, 12, 1))


@pytest.mark.usefixtures("supply")
def test_history_reads_sales_minus_refunds_per_local_day_and_censors_stock_outs(store: Store, cola: Product) -> None:
    item = item_for(store, cola, on_hand=5)
    history(item, daily=[0, 2, 0, 3], end=MONDAY_NOON)  # 3 sold on Nov 19, 2 on Nov 21: 0 left
    with merchant_context(store.merchant_id):  # the 5 came in a week before the window
        StockMovement.objects.filter(kind="receipt").update(created_at=MONDAY_NOON - dt.timedelta(days=8))
    [refund] = stock_moves(merchant=store.merchant, kind=MovementKind.REFUND, moves=[Move(item.pk, 1)])
    with merchant_context(store.merchant_id):
        StockMovement.objects.filter(pk=refund.pk).update(created_at=MONDAY_NOON - dt.timedelta(days=2, hours=-1))
        item = StoreProduct.objects.select_related("product").get(pk=item.pk)
        result = selectors.demand_history(store=store, items=[item], today=dt.date(2026, 11, 23), days=6)
    # Days: Nov 17 … Nov 22. The product was listed long before, so no day is NaN.
    assert result.sales.tolist() == [[0.0, 0.0, 3.0, 0.0, 1.0, 0.0]]
    # On Nov 21 a sale left 0 on hand; the refund an hour later brought 1 back.
    assert result.censored.tolist() == [[False, False, False, False, True, False]]
    assert result.has_sales


@pytest.mark.usefixtures("supply")
def test_days_a_camera_saw_the_shelf_empty_are_censored_even_with_stock_in_the_ledger(
    store: Store, cola: Product
) -> None:
    from catalog.models import ShelfEmptyPeriod
    from catalog.services.signals import shelf_empty_record

    item = item_for(store, cola, on_hand=40)  # plenty in the back room all week
    history(item, daily=[2, 2, 2, 2], end=MONDAY_NOON)
    with merchant_context(store.merchant_id):  # the 40 came in before the window
        StockMovement.objects.filter(kind="receipt").update(created_at=MONDAY_NOON - dt.timedelta(days=8))
    # The camera saw the slot empty from Wednesday evening until Thursday morning (Berlin), and again since Sunday.
    berlin = dt.timezone(dt.timedelta(hours=1))
    assert shelf_empty_record(
        merchant=store.merchant,
        store_product_id=item.pk,
        at=dt.datetime(2026, 11, 18, 20, tzinfo=berlin),
        is_empty=True,
    )
    assert not shelf_empty_record(  # a re-run frame: nothing new
        merchant=store.merchant,
        store_product_id=item.pk,
        at=dt.datetime(2026, 11, 18, 21, tzinfo=berlin),
        is_empty=True,
    )
    assert shelf_empty_record(
        merchant=store.merchant,
        store_product_id=item.pk,
        at=dt.datetime(2026, 11, 19, 8, tzinfo=berlin),
        is_empty=False,
    )
    shelf_empty_record(
        merchant=store.merchant,
        store_product_id=item.pk,
        at=dt.datetime(2026, 11, 22, 9, tzinfo=berlin),
        is_empty=True,
    )
    with merchant_context(store.merchant_id):
        assert ShelfEmptyPeriod.objects.filter(store_product=item).count() == 2
        item = StoreProduct.objects.select_related("product").get(pk=item.pk)
        result = selectors.demand_history(store=store, items=[item], today=dt.date(2026, 11, 23), days=6)
    # Days: Nov 17 … Nov 22; the ledger never reached zero, the camera saw Nov 18, 19 and 22 empty.
    assert result.censored.tolist() == [[False, True, True, False, False, True]]


# Drafting ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("selling_store")
def test_a_draft_suggests_whole_cases_and_explains_each_line(store: Store) -> None:
    outcome = drafting.purchase_order_draft(store=store, now=MONDAY_NOON)
    order = outcome.order
    assert order is not None
    assert outcome.is_new
    assert order.state == OrderState.DRAFT
    assert order.delivery_date == dt.date(2026, 11, 24)
    lines = _lines(order)
    cola = lines["Quellwerk Cola"]
    # About 6 a day, 3 on hand, one day to Tuesday and three more to Friday: several cases of 12.
    assert cola.quantity > 0
    assert cola.quantity % 12 == 0
    assert cola.suggested_quantity == cola.quantity
    assert cola.explanation.startswith("sells ")
    assert "3 on hand" in cola.explanation
    assert "next delivery Tuesday" in cola.explanation
    assert f"{cola.quantity // 12} case" in cola.explanation
    assert "Submit by 18:00 on Monday 23 November" in outcome.message
    with merchant_context(store.merchant_id):
        assert [t.to_state for t in order.transitions.all()] == ["draft"]


@pytest.mark.usefixtures("supply")
def test_a_promotion_running_in_the_merchants_other_stores_lifts_this_stores_suggestion(
    store: Store, cola: Product, other_store: Store
) -> None:
    from tests.factories import StoreFactory
    from tests.ordering.conftest import selling

    steady = [6, 5, 7, 6, 8, 4, 6] * 8  # newest day first
    promoted = [18, 17, 19, *steady[3:]]  # three days on promotion
    selling(store, cola, daily=promoted, left=20, end=MONDAY_NOON)
    alone = _lines(_draft(store))["Quellwerk Cola"]

    # Another merchant's store selling the same product on promotion changes nothing here.
    selling(other_store, cola, daily=promoted, left=20, end=MONDAY_NOON)
    assert _lines(_draft(store))["Quellwerk Cola"].quantity == alone.quantity

    # The merchant's own other stores show the same three days: a promotion across the chain.
    for name in ("Hafen 2", "Markt 3"):
        selling(StoreFactory(merchant=store.merchant, name=name), cola, daily=promoted, left=20, end=MONDAY_NOON)
    pooled = _lines(_draft(store))["Quellwerk Cola"]
    assert pooled.quantity > alone.quantity
    rate = float(pooled.explanation.split()[1])
    assert rate > 1.3 * float(alone.explanation.split()[1]), (alone.explanation, pooled.explanation)
    # The sentence says why: the chain sells more than usual.
    assert "the usual across your stores" in pooled.explanation
    assert "across your stores" not in alone.explanation


@pytest.mark.usefixtures("supply")
def test_a_store_without_history_gets_an_empty_draft_that_says_why(store: Store, cola: Product) -> None:
    item_for(store, cola, on_hand=4)
    outcome = drafting.purchase_order_draft(store=store, now=MONDAY_NOON)
    assert outcome.order is not None
    assert _lines(outcome.order) == {}
    assert "No sales are recorded" in outcome.order.notes[0]
    assert "0 lines" in outcome.message


def test_a_store_without_supply_is_told_so(store: Store) -> None:
    with pytest.raises(base.OrderError, match="no supplying depot"):
        drafting.purchase_order_draft(store=store, now=MONDAY_NOON)
    with merchant_context(store.merchant_id):
        assert not PurchaseOrder.objects.exists()


@pytest.mark.usefixtures("selling_store")
def test_an_untouched_draft_is_replaced_and_an_edited_one_kept(store: Store) -> None:
    first = _draft(store)
    second = _draft(store)
    with merchant_context(store.merchant_id):
        assert list(PurchaseOrder.objects.values_list("pk", flat=True)) == [second.pk]
    line = _lines(second)["Quellwerk Cola"]
    editing.purchase_order_line_set(merchant=store.merchant, order_id=second.pk, line_id=line.pk, quantity=48)
    outcome = drafting.purchase_order_draft(store=store, now=MONDAY_NOON)
    assert outcome.order is not None
    assert outcome.order.pk == second.pk
    assert not outcome.is_new
    assert "kept" in outcome.message
    assert _lines(second)["Quellwerk Cola"].quantity == 48
    assert first.pk != second.pk


@pytest.mark.usefixtures("selling_store")
def test_open_orders_count_as_on_order_in_the_next_suggestion(store: Store) -> None:
    order = _submitted(store)
    ordered = _lines(order)["Quellwerk Cola"].quantity
    with merchant_context(store.merchant_id):
        assert selectors.on_order(merchant=store.merchant, store=store) == {
            line.store_product_id: line.quantity for line in order.lines.all()
        }
    # Friday's suggestion knows the Tuesday order is coming.
    outcome = drafting.purchase_order_draft(store=store, now=MONDAY_NOON + dt.timedelta(hours=6))
    assert outcome.order is not None
    assert outcome.order.delivery_date == dt.date(2026, 11, 27)
    later = _lines(outcome.order).get("Quellwerk Cola")
    assert later is None or f"{ordered} on order" in later.explanation


# Editing ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("selling_store")
def test_a_quantity_that_is_not_whole_cases_is_refused_and_nothing_changes(store: Store) -> None:
    order = _draft(store)
    line = _lines(order)["Quellwerk Cola"]
    with pytest.raises(base.OrderError, match=r"comes in cases of 12: 13 is not whole cases \(12 or 24\)"):
        editing.purchase_order_line_set(merchant=store.merchant, order_id=order.pk, line_id=line.pk, quantity=13)
    assert _lines(order)["Quellwerk Cola"].quantity == line.quantity
    assert not _order(order).is_edited


@pytest.mark.usefixtures("selling_store")
def test_zero_removes_a_line(store: Store) -> None:
    order = _draft(store)
    line = _lines(order)["Quellwerk Cola"]
    assert (
        editing.purchase_order_line_set(merchant=store.merchant, order_id=order.pk, line_id=line.pk, quantity=0) is None
    )
    assert "Quellwerk Cola" not in _lines(order)
    assert _order(order).is_edited


@pytest.mark.usefixtures("selling_store")
def test_a_product_the_depot_does_not_carry_cannot_be_added(store: Store, not_carried: Product) -> None:
    order = _draft(store)
    item = item_for(store, not_carried)
    before = _lines(order).keys()
    with pytest.raises(base.OrderError, match="Depot Nord does not carry Rare Tonic"):
        editing.purchase_order_line_add(
            merchant=store.merchant, order_id=order.pk, store_product_id=item.pk, quantity=6
        )
    assert _lines(order).keys() == before


@pytest.mark.usefixtures("supply")
def test_adding_a_carried_product_and_submitting(store: Store, cola: Product) -> None:
    item = item_for(store, cola)
    order = _draft(store)
    editing.purchase_order_line_add(merchant=store.merchant, order_id=order.pk, store_product_id=item.pk, quantity=24)
    order, message = editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    assert message == f"Order {order.number} is submitted for delivery on Tuesday 24 November."
    assert _order(order).state == OrderState.SUBMITTED


def test_an_empty_order_or_one_below_the_minimum_is_not_submitted(
    store: Store, supply: StoreSupply, cola: Product
) -> None:
    item = item_for(store, cola)
    order = _draft(store)
    with pytest.raises(base.OrderError, match="no lines"):
        editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    with merchant_context(store.merchant_id):
        StoreSupply.objects.filter(pk=supply.pk).update(minimum_order_value=5000)
    editing.purchase_order_line_add(merchant=store.merchant, order_id=order.pk, store_product_id=item.pk, quantity=12)
    with pytest.raises(base.OrderError) as refused:
        editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    assert refused.value.messages == [
        "The order is worth 9,60\xa0€; the wholesaler delivers from 50,00\xa0€. Add more before submitting."
    ]
    assert _order(order).state == OrderState.DRAFT


@pytest.mark.usefixtures("selling_store")
def test_submitting_after_the_cutoff_moves_the_order_and_says_so(store: Store) -> None:
    order = _draft(store)
    late = dt.datetime(2026, 11, 23, 17, 30, tzinfo=dt.UTC)  # 18:30 in Berlin
    order, message = editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=late)
    assert message == (
        f"Orders for Tuesday 24 November closed at 18:00 on Monday 23 November: order {order.number} moved to "
        "the next delivery, Friday 27 November."
    )
    saved = _order(order)
    assert saved.state == OrderState.SUBMITTED
    assert saved.delivery_date == dt.date(2026, 11, 27)
    with merchant_context(store.merchant_id):
        assert "moved to the next delivery" in saved.transitions.last().note  # type: ignore[union-attr]


# Wholesaler side -----------------------------------------------------------------------------------


def test_confirm_allocates_depot_stock_and_backorders_what_is_short(
    store: Store, selling_store: dict, chips: Product
) -> None:
    order = _draft(store)
    line = _lines(order).get("Knusper Chips", None)
    if line is None:
        line = editing.purchase_order_line_add(
            merchant=store.merchant, order_id=order.pk, store_product_id=selling_store["chips"].pk, quantity=18
        )
    else:
        editing.purchase_order_line_set(merchant=store.merchant, order_id=order.pk, line_id=line.pk, quantity=18)
    editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)
    chips_line = _lines(order)["Knusper Chips"]
    assert (chips_line.allocated_quantity, chips_line.backordered_quantity) == (12, 6)
    assert DepotStock.objects.get(product=chips).allocated == 12
    cola_line = _lines(order)["Quellwerk Cola"]
    assert cola_line.allocated_quantity == cola_line.quantity
    assert cola_line.backordered_quantity == 0
    with merchant_context(store.merchant_id):
        note = _order(order).transitions.last().note  # type: ignore[union-attr]
    assert note == "Short: Knusper Chips 0.5 l: 12 of 18 (backordered)"
    # A second confirmation finds the order confirmed and changes nothing.
    with pytest.raises(base.OrderError, match="only submitted orders are confirmed"):
        fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)
    assert DepotStock.objects.get(product=chips).allocated == 12


@pytest.mark.usefixtures("supply")
def test_confirm_can_cancel_short_lines_instead(store: Store, chips: Product) -> None:
    item = item_for(store, chips)
    order = _draft(store)
    editing.purchase_order_line_add(merchant=store.merchant, order_id=order.pk, store_product_id=item.pk, quantity=30)
    editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None, backorder_short=False)
    line = _lines(order)["Knusper Chips"]
    assert (line.allocated_quantity, line.backordered_quantity) == (12, 0)


@pytest.mark.usefixtures("selling_store")
def test_the_shop_cannot_edit_or_cancel_a_confirmed_order(store: Store) -> None:
    order = _submitted(store)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)
    line = _lines(order)["Quellwerk Cola"]
    with pytest.raises(base.OrderError, match="is confirmed: the wholesaler has taken it on"):
        editing.purchase_order_line_set(merchant=store.merchant, order_id=order.pk, line_id=line.pk, quantity=12)
    with pytest.raises(base.OrderError, match="confirmed by the wholesaler: ask them to cancel it"):
        fulfilment.purchase_order_cancel(merchant=store.merchant, order_id=order.pk, by=None)
    assert _lines(order)["Quellwerk Cola"].quantity == line.quantity
    assert _order(order).state == OrderState.CONFIRMED


@pytest.mark.usefixtures("selling_store")
def test_the_wholesaler_cancelling_a_confirmed_order_releases_its_allocation(store: Store, cola: Product) -> None:
    order = _submitted(store)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)
    assert DepotStock.objects.get(product=cola).allocated > 0
    fulfilment.purchase_order_cancel(merchant=store.merchant, order_id=order.pk, by=None, by_wholesaler=True)
    assert DepotStock.objects.get(product=cola).allocated == 0
    assert _order(order).state == OrderState.CANCELLED


@pytest.mark.usefixtures("selling_store")
def test_shipping_takes_units_out_of_the_depot(store: Store, cola: Product) -> None:
    order = _submitted(store)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_pick(merchant=store.merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_ship(merchant=store.merchant, order_id=order.pk, by=None)
    shipped = _lines(order)["Quellwerk Cola"].shipped_quantity
    stock = DepotStock.objects.get(product=cola)
    assert (stock.on_hand, stock.allocated) == (240 - shipped, 0)  # type: ignore[operator]
    with merchant_context(store.merchant_id):
        states = [t.to_state for t in _order(order).transitions.all()]
    assert states == ["draft", "submitted", "confirmed", "picking", "shipped"]


def test_receiving_books_good_units_and_claims_differences(store: Store, selling_store: dict) -> None:
    order = _submitted(store)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_ship(merchant=store.merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_deliver(merchant=store.merchant, order_id=order.pk, by=None)
    lines = _lines(order)
    cola = lines["Quellwerk Cola"]
    before = {name: selling_store[key].pk for key, name in (("cola", "Quellwerk Cola"), ("chips", "Knusper Chips"))}
    with merchant_context(store.merchant_id):
        on_hand = dict(StoreProduct.objects.filter(pk__in=before.values()).values_list("pk", "on_hand"))
    counts = {cola.pk: receiving.Count(received=cola.shipped_quantity + 2, damaged=3)}  # type: ignore[operator]
    receiving.purchase_order_receive(
        merchant=store.merchant, order_id=order.pk, counts=counts, by=None, note="Two extra"
    )
    with merchant_context(store.merchant_id):
        after = dict(StoreProduct.objects.filter(pk__in=before.values()).values_list("pk", "on_hand"))
        claim = Claim.objects.get(order=order)
        claim_lines = list(claim.lines.all())
        receipts = StockMovement.objects.filter(reference=f"ordering.purchaseorder:{order.pk}", kind="receipt")
        assert sum(receipts.values_list("quantity", flat=True)) == sum(after.values()) - sum(on_hand.values())
    assert after[cola.store_product_id] - on_hand[cola.store_product_id] == cola.shipped_quantity + 2 - 3  # type: ignore[operator]
    assert [(c.shipped, c.received, c.damaged, c.extra) for c in claim_lines] == [
        (cola.shipped_quantity, cola.shipped_quantity + 2, 3, 2)  # type: ignore[operator]
    ]
    received = _lines(order)["Quellwerk Cola"]
    assert received.is_over_received
    assert received.received_quantity == cola.shipped_quantity + 2
    assert _order(order).state == OrderState.RECEIVED
    with merchant_context(store.merchant_id):
        assert selectors.on_order(merchant=store.merchant, store=store) == {}  # on order is cleared
    # Receiving again is refused: the ledger moved once.
    with pytest.raises(base.OrderError, match="only a shipped order can be received"):
        receiving.purchase_order_receive(merchant=store.merchant, order_id=order.pk, counts={}, by=None)


@pytest.mark.usefixtures("selling_store")
def test_receiving_that_is_refused_books_nothing(store: Store) -> None:
    order = _submitted(store)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_ship(merchant=store.merchant, order_id=order.pk, by=None)
    cola = _lines(order)["Quellwerk Cola"]
    with merchant_context(store.merchant_id):
        movements = StockMovement.objects.count()
    with pytest.raises(base.OrderError, match="damaged is more than"):
        receiving.purchase_order_receive(
            merchant=store.merchant,
            order_id=order.pk,
            counts={cola.pk: receiving.Count(received=2, damaged=5)},
            by=None,
        )
    with merchant_context(store.merchant_id):
        assert StockMovement.objects.count() == movements
        assert not Claim.objects.exists()
    assert _order(order).state == OrderState.SHIPPED


@pytest.mark.usefixtures("supply")
def test_a_substitute_is_allocated_and_received_as_itself(
    store: Store,
    cola: Product,
    wholesaler,
    depot,  # type: ignore[no-untyped-def]
) -> None:
    from tests.catalog.factories import ProductFactory

    zero = ProductFactory(wholesaler=wholesaler, name="Quellwerk Cola Zero", case_pack=12, wholesale_cost=80)
    DepotStock.objects.create(depot=depot, product=zero, on_hand=24)
    order, _ = substituted(store, cola, zero, quantity=12)
    # Allocated as itself (shipping then takes it out of the depot's stock).
    assert DepotStock.objects.get(product=zero).on_hand == 12
    assert DepotStock.objects.get(product=cola).on_hand == 240
    receiving.purchase_order_receive(merchant=store.merchant, order_id=order.pk, counts={}, by=None)
    with merchant_context(store.merchant_id):
        # The store did not sell the substitute before: it is now in its assortment with 12 on hand.
        assert StoreProduct.objects.get(store=store, product=zero).on_hand == 12
        assert not Claim.objects.exists()


@pytest.mark.usefixtures("selling_store")
def test_forecast_arrays_are_finite_for_every_line(store: Store) -> None:
    with merchant_context(store.merchant_id):
        items = list(StoreProduct.objects.select_related("product").filter(store=store))
        result = selectors.demand_history(store=store, items=items, today=dt.date(2026, 11, 23))
    assert result.sales.shape == (2, selectors.HISTORY_DAYS)
    observed = ~np.isnan(result.sales)
    assert observed.sum(axis=1).tolist() == [56, 56] or observed.sum(axis=1).min() >= 50


def _in_threads(count: int, action) -> list[object]:  # type: ignore[no-untyped-def]
    """Run ``action`` in ``count`` threads at once; each result or the exception it raised."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(count)
    results: list[object] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(action())
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.usefixtures("selling_store")
@pytest.mark.django_db(transaction=True)
def test_concurrent_drafts_leave_one_draft_and_concurrent_confirms_allocate_once(store: Store, cola: Product) -> None:
    results = _in_threads(4, lambda: drafting.purchase_order_draft(store=store, now=MONDAY_NOON))
    assert [type(r).__name__ for r in results] == ["DraftOutcome"] * 4
    with merchant_context(store.merchant_id):
        drafts = list(PurchaseOrder.objects.filter(store=store))
    assert len(drafts) == 1
    editing.purchase_order_submit(merchant=store.merchant, order_id=drafts[0].pk, by=None, now=MONDAY_NOON)
    confirms = _in_threads(
        4, lambda: fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=drafts[0].pk, by=None)
    )
    assert sum(isinstance(r, PurchaseOrder) for r in confirms) == 1
    assert all(isinstance(r, base.OrderError) for r in confirms if not isinstance(r, PurchaseOrder))
    ordered = _lines(drafts[0])["Quellwerk Cola"].quantity
    assert DepotStock.objects.get(product=cola).allocated == ordered
    with merchant_context(store.merchant_id):
        assert list(drafts[0].transitions.values_list("to_state", flat=True)) == ["draft", "submitted", "confirmed"]


def test_a_planned_promotion_stocks_up_before_it_starts(store: Store, supply: StoreSupply, cola: Product) -> None:
    from ordering.models import Promotion
    from tests.ordering.conftest import selling

    selling(store, cola, daily=[6, 5, 7, 6, 8, 4, 6] * 8, left=20, end=MONDAY_NOON)
    usual = _lines(_draft(store))["Quellwerk Cola"]
    # Tuesday's delivery covers Tuesday to Thursday; a promotion from Wednesday to Sunday at 2×.
    Promotion.objects.create(
        wholesaler=supply.depot.wholesaler, product=cola, starts_on=dt.date(2026, 11, 25),
        ends_on=dt.date(2026, 11, 29), expected_lift=2,
    )  # fmt: skip
    stocked = _lines(_draft(store))["Quellwerk Cola"]
    assert stocked.quantity >= usual.quantity + 12
    assert "promotion Wednesday to Sunday, about 2× the usual" in stocked.explanation
    # One that runs beyond the coming week is given by its dates.
    Promotion.objects.all().update(ends_on=dt.date(2026, 12, 6))
    assert "promotion 25 Nov to 6 Dec, about 2× the usual" in _lines(_draft(store))["Quellwerk Cola"].explanation
    # A promotion after the next delivery's cover changes nothing yet.
    Promotion.objects.all().update(starts_on=dt.date(2026, 12, 7), ends_on=dt.date(2026, 12, 13))
    assert _lines(_draft(store))["Quellwerk Cola"].quantity == usual.quantity


@pytest.mark.usefixtures("supply")
def test_backordered_units_follow_on_a_backorder_for_the_next_delivery(store: Store, chips: Product) -> None:
    item = item_for(store, chips)
    order = _draft(store)
    editing.purchase_order_line_add(merchant=store.merchant, order_id=order.pk, store_product_id=item.pk, quantity=18)
    editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)  # the depot has 12
    assert _order(order).delivery_date == dt.date(2026, 11, 24)  # Tuesday

    fulfilment.purchase_order_ship(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)

    with merchant_context(store.merchant_id):
        backorder = PurchaseOrder.objects.get(backorder_of=order)
        assert (backorder.state, backorder.delivery_date, backorder.depot_id) == (
            OrderState.SUBMITTED,
            dt.date(2026, 11, 27),  # the Friday after
            order.depot_id,
        )
        assert [(line.product_id, line.quantity, line.explanation) for line in backorder.lines.all()] == [
            (chips.pk, 6, f"backordered from {order.number}")
        ]
        assert backorder.transitions.get().note == f"Backorder of {order.number}"
        assert _order(order).transitions.last().note == f"Backordered units follow in {backorder.number}"  # type: ignore[union-attr]
        # 12 on the truck and 6 on the backorder: 18 coming, the 6 not counted twice.
        assert selectors.on_order(merchant=store.merchant, store=store) == {item.pk: 18}

    # The backorder is confirmed like any order once the depot has the stock again.
    DepotStock.objects.filter(product=chips).update(on_hand=F("on_hand") + 24)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=backorder.pk, by=None)
    assert _lines(backorder)["Knusper Chips"].allocated_quantity == 6


@pytest.mark.usefixtures("selling_store")
def test_an_order_shipped_in_full_has_no_backorder(store: Store) -> None:
    order = _submitted(store)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)
    fulfilment.purchase_order_ship(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    with merchant_context(store.merchant_id):
        assert not PurchaseOrder.objects.filter(backorder_of=order).exists()
        assert _order(order).transitions.last().note == ""  # type: ignore[union-attr]
