"""Restock pages: what the owner sees and may do, htmx partials, and another merchant's ids (404, nothing changed)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Product, StockMovement
from merchants.models import Store
from merchants.tenancy import merchant_context, platform_access
from ordering import services
from ordering.models import (
    Claim,
    Depot,
    OrderState,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderTransition,
    StoreSupply,
)
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
    selling(store, cola, daily=[6, 5, 7, 6, 8, 4, 6] * 4, left=3, end=timezone.now())
    outcome = services.purchase_order_draft(store=store)
    assert outcome.order is not None
    return outcome.order


@pytest.fixture
def foreign_order(other_store: Store, depot: Depot, cola: Product) -> PurchaseOrder:
    with merchant_context(other_store.merchant_id):
        StoreSupply.objects.create(merchant_id=other_store.merchant_id, store=other_store, depot=depot)
    selling(other_store, cola, daily=[3, 4, 2, 5] * 7, left=1, end=timezone.now())
    order = services.purchase_order_draft(store=other_store).order
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
    with merchant_context(merchant):
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
    with merchant_context(merchant):
        assert PurchaseOrder.objects.get(pk=own_order.pk).state == OrderState.SUBMITTED


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "orders/{order}/"),
        ("post", "orders/{order}/lines/{line}/"),
        ("post", "orders/{order}/lines/"),
        ("post", "orders/{order}/submit/"),
        ("post", "orders/{order}/cancel/"),
        ("get", "orders/{order}/receive/"),
        ("post", "orders/{order}/receive/"),
        ("post", "draft/?store={store}"),
        ("get", "?store={store}"),
    ],
)
def test_another_merchants_ids_are_404_and_change_nothing(
    owner_client: Client,
    own_order: PurchaseOrder,
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


def test_drafting_with_the_button_for_a_store_without_history(
    owner_client: Client,
    merchant,
    store: Store,
    supply: StoreSupply,
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
        with merchant_context(merchant):
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


def test_removing_a_line_with_htmx_answers_an_empty_row(
    owner_client: Client, own_order: PurchaseOrder, merchant
) -> None:  # type: ignore[no-untyped-def]
    line = _foreign_line(own_order)
    page = owner_client.get(f"/m/{merchant.slug}/restock/orders/{own_order.pk}/").content.decode()
    assert 'name="quantity" value="0"' in page
    response = owner_client.post(
        f"/m/{merchant.slug}/restock/orders/{own_order.pk}/lines/{line.pk}/", {"quantity": "0"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.content == b""
    with merchant_context(merchant):
        assert not PurchaseOrderLine.objects.filter(pk=line.pk).exists()
        assert PurchaseOrder.objects.get(pk=own_order.pk).is_edited
