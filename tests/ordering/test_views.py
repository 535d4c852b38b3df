"""Restock pages: what the owner sees and may do, htmx partials, and another merchant's ids (404, nothing changed)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Product, StockMovement
from merchants.models import Store
from merchants.tenancy import merchant_context, platform_access
from ordering.models import (
    Claim,
    Depot,
    OrderState,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderTransition,
    StoreSupply,
)
from ordering.services import drafting, editing, fulfilment
from tests.factories import StoreFactory
from tests.ordering.conftest import item_for, selling

pytestmark = pytest.mark.django_db


def _snapshot() -> list[tuple]:
    with platform_access(reason="test snapshot", actor="test"):
        return [
            *PurchaseOrder.objects.order_by("pk").values_list("pk", "state", "delivery_date", "is_edited"),
            *PurchaseOrderLine.objects.order_by("pk").values_list("pk", "quantity", "received_quantity"),
            (PurchaseOrderTransition.objects.count(), StockMovement.objects.count(), Claim.objects.count()),
        ]


@pytest.fixture
def own_order(store: Store, supply: StoreSupply, cola: Product) -> PurchaseOrder:
    del supply  # asked for so that the store is supplied; not used here
    selling(store, cola, daily=[6, 5, 7, 6, 8, 4, 6] * 4, left=3, end=timezone.now())
    outcome = drafting.purchase_order_draft(store=store)
    assert outcome.order is not None
    return outcome.order


@pytest.fixture
def foreign_order(other_store: Store, depot: Depot, cola: Product) -> PurchaseOrder:
    with merchant_context(other_store.merchant_id):
        StoreSupply.objects.create(merchant_id=other_store.merchant_id, store=other_store, depot=depot)
    selling(other_store, cola, daily=[3, 4, 2, 5] * 7, left=1, end=timezone.now())
    order = drafting.purchase_order_draft(store=other_store).order
    assert order is not None
    with merchant_context(other_store.merchant_id):
        assert order.lines.exists()
    return order


def _foreign_line(order: PurchaseOrder) -> PurchaseOrderLine:
    with merchant_context(order.merchant_id):
        return order.lines.get()


def test_the_restock_page_shows_supply_draft_and_orders(
    owner_client: Client, own_order: PurchaseOrder, merchant
) -> None:  # type: ignore[no-untyped-def]
    page = owner_client.get(f"/m/{merchant.slug}/restock/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Depot Nord" in text
    assert own_order.number in text
    assert 'aria-current="page"' in text
    assert "Draft a suggested order now" in text


def test_the_order_page_shows_each_line_with_its_explanation(
    owner_client: Client, own_order: PurchaseOrder, merchant
) -> None:  # type: ignore[no-untyped-def]
    line = _foreign_line(own_order)
    text = owner_client.get(f"/m/{merchant.slug}/restock/orders/{own_order.pk}/").content.decode()
    assert line.explanation in text
    assert line.explanation.startswith("sells ")
    assert f'value="{line.quantity}"' in text
    assert "Submit to Depot Nord" in text


def test_a_non_case_quantity_answers_the_row_with_a_clear_message(
    owner_client: Client, own_order: PurchaseOrder, merchant
) -> None:  # type: ignore[no-untyped-def]
    line = _foreign_line(own_order)
    before = _snapshot()
    response = owner_client.post(
        f"/m/{merchant.slug}/restock/orders/{own_order.pk}/lines/{line.pk}/", {"quantity": "13"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "comes in cases of 12: 13 is not whole cases (12 or 24)." in text
    assert text.lstrip().startswith(f'<tr id="line-{line.pk}"')
    assert _snapshot() == before
    ok = owner_client.post(
        f"/m/{merchant.slug}/restock/orders/{own_order.pk}/lines/{line.pk}/", {"quantity": "36"}, HTTP_HX_REQUEST="true"
    )
    assert ok.status_code == 200
    assert 'value="36"' in ok.content.decode()
    with merchant_context(merchant.pk):
        assert PurchaseOrderLine.objects.get(pk=line.pk).quantity == 36


def test_adding_by_barcode_a_product_the_depot_does_not_carry_is_refused(
    owner_client: Client,
    own_order: PurchaseOrder,
    merchant,
    store: Store,
    not_carried: Product,  # type: ignore[no-untyped-def]
) -> None:
    item_for(store, not_carried)
    before = _snapshot()
    response = owner_client.post(
        f"/m/{merchant.slug}/restock/orders/{own_order.pk}/lines/",
        {"code": not_carried.gtin, "quantity": "6"},
        follow=True,
    )
    assert "Depot Nord does not carry Rare Tonic." in response.content.decode()
    assert _snapshot() == before


def test_clerks_see_but_cannot_change_orders(client: Client, clerk, own_order: PurchaseOrder, merchant) -> None:  # type: ignore[no-untyped-def]
    client.force_login(clerk)
    assert client.get(f"/m/{merchant.slug}/restock/orders/{own_order.pk}/").status_code == 200
    before = _snapshot()
    assert client.post(f"/m/{merchant.slug}/restock/orders/{own_order.pk}/submit/").status_code == 403
    assert _snapshot() == before


def test_submitting_from_the_dashboard(owner_client: Client, own_order: PurchaseOrder, merchant) -> None:  # type: ignore[no-untyped-def]
    response = owner_client.post(f"/m/{merchant.slug}/restock/orders/{own_order.pk}/submit/", follow=True)
    text = response.content.decode()
    assert f"Order {own_order.number} is submitted for delivery on" in text
    with merchant_context(merchant.pk):
        assert PurchaseOrder.objects.get(pk=own_order.pk).state == OrderState.SUBMITTED


@pytest.mark.usefixtures("own_order")
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "orders/{order}/"),
        ("post", "orders/{order}/lines/{line}/"),
        ("post", "orders/{order}/lines/{line}/?step=1"),
        ("post", "orders/{order}/lines/{line}/?remove=1"),
        ("post", "orders/{order}/lines/"),
        ("post", "orders/{order}/submit/"),
        ("post", "orders/{order}/cancel/"),
        ("get", "orders/{order}/receive/"),
        ("post", "orders/{order}/receive/"),
        ("post", "orders/{order}/receive/?action=all_shipped"),
        ("post", "orders/{order}/receive/?confirm=missing|"),
        ("post", "orders/{order}/receive/scan/"),
        ("post", "draft/?store={store}"),
        ("get", "?store={store}"),
    ],
)
def test_another_merchants_ids_are_404_and_change_nothing(
    owner_client: Client,
    foreign_order: PurchaseOrder,
    merchant,
    method: str,
    path: str,  # type: ignore[no-untyped-def]
) -> None:
    line = _foreign_line(foreign_order)
    url = f"/m/{merchant.slug}/restock/" + path.format(
        order=foreign_order.pk, line=line.pk, store=foreign_order.store_id
    )
    data = {"quantity": "24", "code": "x", "store": foreign_order.store_id, f"ok-{line.pk}": "on", "action": "receive"}
    data |= dict(part.split("=") for part in url.split("?")[1:])  # step or remove go in the form
    before = _snapshot()
    response = owner_client.get(url) if method == "get" else owner_client.post(url.split("?")[0], data)
    assert response.status_code == 404
    assert _snapshot() == before


def test_another_merchants_dashboard_is_404(owner_client: Client, foreign_order: PurchaseOrder, other_merchant) -> None:  # type: ignore[no-untyped-def]
    assert owner_client.get(f"/m/{other_merchant.slug}/restock/").status_code == 404
    assert owner_client.get(f"/m/{other_merchant.slug}/restock/orders/{foreign_order.pk}/").status_code == 404


def test_lists_show_only_own_orders_and_claims(
    owner_client: Client,
    own_order: PurchaseOrder,
    foreign_order: PurchaseOrder,
    merchant,  # type: ignore[no-untyped-def]
) -> None:
    text = owner_client.get(f"/m/{merchant.slug}/restock/").content.decode()
    assert own_order.number in text
    assert foreign_order.number not in text
    claims = owner_client.get(f"/m/{merchant.slug}/restock/claims/")
    assert claims.status_code == 200
    assert foreign_order.number not in claims.content.decode()


def test_a_store_without_supply_is_told_what_to_expect(owner_client: Client, merchant, store: Store) -> None:  # type: ignore[no-untyped-def]
    text = owner_client.get(f"/m/{merchant.slug}/restock/").content.decode()
    assert "has no supplying depot yet" in text
    response = owner_client.post(f"/m/{merchant.slug}/restock/draft/", {"store": store.pk}, follow=True)
    assert "has no supplying depot yet: your wholesaler sets it up." in response.content.decode()


@pytest.mark.usefixtures("supply")
def test_drafting_with_the_button_for_a_store_without_history(
    owner_client: Client,
    merchant,
    store: Store,
    cola: Product,  # type: ignore[no-untyped-def]
) -> None:
    item_for(store, cola)
    response = owner_client.post(f"/m/{merchant.slug}/restock/draft/", {"store": store.pk}, follow=True)
    text = response.content.decode()
    assert response.status_code == 200
    assert "No sales are recorded for this store in the last 26 weeks" in text
    assert "No lines." in text  # the empty draft renders in full


def test_list_pages_do_not_query_per_order(
    owner_client: Client,
    own_order: PurchaseOrder,
    merchant,  # type: ignore[no-untyped-def]
    store: Store,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(url).status_code == 200
        return len(captured)

    def add_orders(names: list[str]) -> None:
        with merchant_context(merchant.pk):
            for name in names:
                extra = PurchaseOrder.objects.create(
                    merchant=merchant, store=store, depot=own_order.depot, number=name, state="received",
                    delivery_date=own_order.delivery_date,
                )  # fmt: skip
                Claim.objects.create(merchant=merchant, order=extra, note="short")

    restock, claims = f"/m/{merchant.slug}/restock/", f"/m/{merchant.slug}/restock/claims/"
    add_orders(["X0"])
    before = (queries(restock), queries(claims))
    add_orders(["X1", "X2", "X3", "X4"])
    assert (queries(restock), queries(claims)) == before


def test_removing_a_line_with_htmx_answers_only_the_order_summary(
    owner_client: Client, own_order: PurchaseOrder, merchant
) -> None:  # type: ignore[no-untyped-def]
    line = _foreign_line(own_order)
    page = owner_client.get(f"/m/{merchant.slug}/restock/orders/{own_order.pk}/").content.decode()
    assert 'name="remove" value="1"' in page
    response = owner_client.post(
        f"/m/{merchant.slug}/restock/orders/{own_order.pk}/lines/{line.pk}/", {"remove": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "<tr" not in text  # the row is swapped for nothing
    assert 'id="order-summary"' in text
    assert 'hx-swap-oob="true"' in text
    assert "0,00\xa0€" in text
    assert "0 lines, 0 cases" in text
    with merchant_context(merchant.pk):
        assert not PurchaseOrderLine.objects.filter(pk=line.pk).exists()
        assert PurchaseOrder.objects.get(pk=own_order.pk).is_edited


def test_a_case_more_or_less_updates_the_row_and_the_summary(
    owner_client: Client, own_order: PurchaseOrder, merchant, supply: StoreSupply
) -> None:  # type: ignore[no-untyped-def]
    with merchant_context(merchant.pk):
        StoreSupply.objects.filter(pk=supply.pk).update(minimum_order_value=5000, free_delivery_threshold=8000)
        PurchaseOrderLine.objects.filter(order=own_order).update(quantity=24)
    line = _foreign_line(own_order)
    assert (line.quantity, line.unit_cost) == (24, 80)  # two cases of Cola at 0,80 €
    url = f"/m/{merchant.slug}/restock/orders/{own_order.pk}/lines/{line.pk}/"

    more = owner_client.post(url, {"quantity": "24", "step": "1"}, HTTP_HX_REQUEST="true")

    assert more.status_code == 200
    text = more.content.decode()
    assert text.lstrip().startswith(f'<tr id="line-{line.pk}"')
    assert 'value="36"' in text
    assert "28,80\xa0€" in text  # 36 × 0,80 €
    assert "1 line, 3 cases" in text
    assert "21,20\xa0€ short of the 50,00\xa0€ minimum order" in text

    owner_client.post(url, {"quantity": "36", "step": "1"}, HTTP_HX_REQUEST="true")
    with merchant_context(merchant.pk):
        StoreSupply.objects.filter(pk=supply.pk).update(minimum_order_value=0)
    less = owner_client.post(url, {"quantity": "48", "step": "-1"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'value="36"' in less
    assert "51,20\xa0€ more for free delivery (from 80,00\xa0€)" in less
    with merchant_context(merchant.pk):
        assert PurchaseOrderLine.objects.get(pk=line.pk).quantity == 36


def test_a_case_less_of_the_last_case_removes_the_line(
    owner_client: Client, own_order: PurchaseOrder, merchant
) -> None:  # type: ignore[no-untyped-def]
    line = _foreign_line(own_order)
    with merchant_context(merchant.pk):
        PurchaseOrderLine.objects.filter(pk=line.pk).update(quantity=12)
    response = owner_client.post(
        f"/m/{merchant.slug}/restock/orders/{own_order.pk}/lines/{line.pk}/", {"step": "-1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "<tr" not in response.content.decode()
    with merchant_context(merchant.pk):
        assert not PurchaseOrderLine.objects.filter(pk=line.pk).exists()


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("x", "Give the change as a whole number of cases."),
        ("0", "Change a line by 1 to 100 cases at a time."),
        ("101", "Add at most 100 cases at a time."),
    ],
)
def test_a_bad_step_is_a_clear_message_and_changes_nothing(
    owner_client: Client, own_order: PurchaseOrder, merchant, step: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    line = _foreign_line(own_order)
    before = _snapshot()
    response = owner_client.post(
        f"/m/{merchant.slug}/restock/orders/{own_order.pk}/lines/{line.pk}/", {"step": step}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _snapshot() == before


def test_stepping_a_line_of_a_confirmed_order_is_refused(
    owner_client: Client, own_order: PurchaseOrder, merchant
) -> None:  # type: ignore[no-untyped-def]
    line = _foreign_line(own_order)
    with merchant_context(merchant.pk):
        PurchaseOrder.objects.filter(pk=own_order.pk).update(state=OrderState.CONFIRMED)
    before = _snapshot()
    response = owner_client.post(
        f"/m/{merchant.slug}/restock/orders/{own_order.pk}/lines/{line.pk}/", {"step": "1"}, follow=True
    )
    assert "the wholesaler has taken it on, so it can no longer be changed here" in response.content.decode()
    assert _snapshot() == before


def test_the_restock_page_opens_on_the_store_whose_draft_waits_and_lists_the_others(
    owner_client: Client, own_order: PurchaseOrder, foreign_order: PurchaseOrder, merchant, store: Store
) -> None:  # type: ignore[no-untyped-def]
    first = StoreFactory(merchant=merchant, name="Am Bahnhof 1", code="BAHNHOF1")  # first by name, no draft
    landing = owner_client.get(f"/m/{merchant.slug}/restock/").content.decode()
    assert f"<h1>Restock {store.name}</h1>" in landing
    assert "Waiting in your other stores" not in landing

    other = owner_client.get(f"/m/{merchant.slug}/restock/?store={first.pk}").content.decode()
    assert f"<h1>Restock {first.name}</h1>" in other
    assert "Waiting in your other stores" in other
    assert f"{store.name}: order {own_order.number}</a>" in other
    assert foreign_order.number not in other


def test_an_order_and_its_backorder_point_at_each_other(
    owner_client: Client, own_order: PurchaseOrder, merchant, store: Store, chips: Product
) -> None:  # type: ignore[no-untyped-def]
    item = item_for(store, chips)
    editing.purchase_order_line_add(merchant=merchant, order_id=own_order.pk, store_product_id=item.pk, quantity=18)
    editing.purchase_order_submit(merchant=merchant, order_id=own_order.pk, by=None)
    fulfilment.purchase_order_confirm(merchant=merchant, order_id=own_order.pk, by=None)  # 12 of 18 chips
    fulfilment.purchase_order_ship(merchant=merchant, order_id=own_order.pk, by=None)
    with merchant_context(merchant.pk):
        backorder = PurchaseOrder.objects.get(backorder_of=own_order)

    shipped = owner_client.get(f"/m/{merchant.slug}/restock/orders/{own_order.pk}/").content.decode()
    assert (
        f'follows with <a href="/m/{merchant.slug}/restock/orders/{backorder.pk}/">order {backorder.number}</a>'
        in shipped
    )
    following = owner_client.get(f"/m/{merchant.slug}/restock/orders/{backorder.pk}/").content.decode()
    assert (
        f'Brings what <a href="/m/{merchant.slug}/restock/orders/{own_order.pk}/">order {own_order.number}</a> was short of.'
        in following
    )
    assert f"backordered from {own_order.number}" in following


def test_changes_to_a_submitted_order_are_kept_in_its_history_with_who_made_them(
    owner_client: Client, own_order: PurchaseOrder, merchant, owner, store: Store, chips: Product
) -> None:  # type: ignore[no-untyped-def]
    line = _foreign_line(own_order)
    before = line.quantity
    item_for(store, chips)
    editing.purchase_order_submit(merchant=merchant, order_id=own_order.pk, by=None)
    url = f"/m/{merchant.slug}/restock/orders/{own_order.pk}/lines/"
    owner_client.post(f"{url}{line.pk}/", {"step": "1"}, HTTP_HX_REQUEST="true")
    owner_client.post(url, {"code": chips.gtin, "quantity": "6"})
    owner_client.post(f"{url}{line.pk}/", {"remove": "1"}, HTTP_HX_REQUEST="true")
    with merchant_context(merchant.pk):
        steps = list(own_order.transitions.order_by("pk").values_list("to_state", "by_id", "note"))[-3:]
    assert steps == [
        ("submitted", owner.pk, f"Quellwerk Cola 0.5 l: {before} → {before + 12} units"),
        ("submitted", owner.pk, "Knusper Chips 0.5 l: added, 6 units"),
        ("submitted", owner.pk, f"Quellwerk Cola 0.5 l: removed (was {before + 12} units)"),
    ]
    page = owner_client.get(f"/m/{merchant.slug}/restock/orders/{own_order.pk}/").content.decode()
    assert "Knusper Chips 0.5 l: added, 6 units" in page


def test_a_persons_run_of_changes_to_a_draft_line_is_one_history_entry(
    client: Client,
    owner_client: Client,
    own_order: PurchaseOrder,
    merchant,
    owner,
    manager,
    store: Store,
    chips: Product,
) -> None:  # type: ignore[no-untyped-def]
    line = _foreign_line(own_order)
    before = line.quantity
    item_for(store, chips)
    url = f"/m/{merchant.slug}/restock/orders/{own_order.pk}/lines/"

    def history() -> list[tuple[int | None, str]]:
        with merchant_context(merchant.pk):
            return list(own_order.transitions.order_by("pk").values_list("by_id", "note"))[1:]

    for _ in range(3):  # three clicks on "a case more" are one change, 12 units at a time
        owner_client.post(f"{url}{line.pk}/", {"step": "1"}, HTTP_HX_REQUEST="true")
    assert history() == [(owner.pk, f"Quellwerk Cola 0.5 l: {before} → {before + 36} units")]
    owner_client.post(url, {"code": chips.gtin, "quantity": "6"})
    owner_client.post(url, {"code": chips.gtin, "quantity": "12"})  # the same line, typed again
    client.force_login(manager)
    client.post(f"{url}{line.pk}/", {"step": "-1"}, HTTP_HX_REQUEST="true")  # someone else: an entry of its own
    assert history() == [
        (owner.pk, f"Quellwerk Cola 0.5 l: {before} → {before + 36} units"),
        (owner.pk, "Knusper Chips 0.5 l: added, 12 units"),
        (manager.pk, f"Quellwerk Cola 0.5 l: {before + 36} → {before + 24} units"),
    ]
    # Back where the run started, or added and removed again: nothing is left to tell.
    client.post(f"{url}{line.pk}/", {"step": "1"}, HTTP_HX_REQUEST="true")
    owner_client.post(url, {"code": chips.gtin, "quantity": "6"})
    with merchant_context(merchant.pk):
        chips_line = own_order.lines.get(product=chips)
    owner_client.post(f"{url}{chips_line.pk}/", {"remove": "1"}, HTTP_HX_REQUEST="true")
    assert history() == [(owner.pk, f"Quellwerk Cola 0.5 l: {before} → {before + 36} units")]
