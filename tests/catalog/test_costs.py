"""A store product's cost: the moving average of deliveries, the wholesaler's cost at the start, the owner's
cost for a local product (edited on the catalog row and when creating one), and cost and margin shown."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from catalog import csv_io
from catalog.models import MovementKind, StockMovement, StoreProduct
from catalog.services import assortment
from catalog.services.costs import Receipt, moving_average, stock_receive
from catalog.services.stock import stock_move
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, platform_access
from tests.catalog.factories import ProductFactory, StoreProductFactory
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _item(item: StoreProduct) -> StoreProduct:
    with merchant_context(item.merchant_id):
        return StoreProduct.objects.get(pk=item.pk)


def _snapshot() -> list[tuple[Any, ...]]:
    with platform_access(reason="test: snapshot", actor="test"):
        return list(
            StoreProduct.objects.order_by("pk").values_list("pk", "price", "average_cost", "on_hand", "local_name")
        )


@pytest.fixture
def local(store: Store) -> StoreProduct:
    """Bread from the baker next door at 2,49 € (7 % VAT inside), cost not known yet."""
    return assortment.local_product_create(merchant=store.merchant, store=store, name="Bauernbrot", price=249)


# The moving average -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_hand", "average", "received", "unit_cost", "expected"),
    [
        (24, 50, 24, 62, 56),  # 24 at 0,50 € + 24 at 0,62 € -> 0,56 €
        (10, 50, 20, 65, 60),  # (500 + 1300) / 30 = 60
        (1, 50, 2, 51, 51),  # (50 + 102) / 3 = 50,67 -> 51
        (3, 10, 1, 12, 11),  # (30 + 12) / 4 = 10,5 -> 11: half up
        (0, 50, 12, 62, 62),  # nothing on hand: the delivery's cost
        (-5, 50, 12, 62, 62),  # below zero counts as none
        (40, None, 12, 62, 62),  # an unknown average gives way to the delivery's cost
    ],
)
def test_the_moving_average_is_exact_and_rounded_half_up(
    on_hand: int, average: int | None, received: int, unit_cost: int, expected: int
) -> None:
    assert moving_average(on_hand_before=on_hand, average=average, received=received, unit_cost=unit_cost) == expected


def test_receiving_moves_the_average_with_the_stock_in_one_transaction(store: Store) -> None:
    item = StoreProductFactory(store=store)
    with merchant_context(store.merchant_id):
        StoreProduct.objects.filter(pk=item.pk).update(average_cost=50)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=24)
    result = stock_receive(
        merchant=store.merchant, receipts=[Receipt(item.pk, 24, 62)], currency="EUR", reference="delivery:1"
    )
    after = _item(item)
    assert (after.on_hand, after.average_cost, result.cost_notes) == (48, 56, [])
    assert [(m.kind, m.quantity, m.on_hand_after) for m in result.movements] == [("receipt", 24, 48)]


def _deliveries_at_once(store: Store, unit_costs: list[int]) -> StoreProduct:
    """24 on hand at 0,50 €, then one delivery of 24 per unit cost, all from their own threads at once."""
    item = StoreProductFactory(store=store)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=24)
    with merchant_context(store.merchant_id):
        StoreProduct.objects.filter(pk=item.pk).update(average_cost=50)
    barrier = threading.Barrier(len(unit_costs))
    errors: list[BaseException] = []

    def receive(unit_cost: int) -> None:
        try:
            barrier.wait()
            stock_receive(merchant=store.merchant, receipts=[Receipt(item.pk, 24, unit_cost)], currency="EUR")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=receive, args=(cost,)) for cost in unit_costs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return _item(item)


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_received_at_once_are_both_averaged_in(store: Store) -> None:
    """Each reads on-hand and the average under the row lock: neither overwrites the other's average."""
    for _ in range(5):
        item = _deliveries_at_once(store, [62, 80])
        # Either order gives (24 × 50 + 24 × 62 + 24 × 80) / 72 = 64; a lost update would leave 56 or 65.
        assert (item.on_hand, item.average_cost) == (72, 64)


def test_a_product_on_two_lines_of_one_delivery_averages_both(store: Store) -> None:
    item = StoreProductFactory(store=store)
    stock_receive(
        merchant=store.merchant, receipts=[Receipt(item.pk, 10, 50), Receipt(item.pk, 30, 70)], currency="EUR"
    )
    # 10 at 0,50 first (nothing on hand), then 30 at 0,70 on top: (500 + 2100) / 40 = 65.
    assert (_item(item).on_hand, _item(item).average_cost) == (40, 65)


def test_a_delivery_in_another_currency_moves_stock_but_leaves_the_cost(store: Store) -> None:
    item = StoreProductFactory(store=store)
    with merchant_context(store.merchant_id):
        StoreProduct.objects.filter(pk=item.pk).update(average_cost=50)
    result = stock_receive(merchant=store.merchant, receipts=[Receipt(item.pk, 12, 40)], currency="CHF")
    assert (_item(item).on_hand, _item(item).average_cost) == (12, 50)
    assert result.cost_notes == [
        "Costs left as they were: this delivery is priced in CHF and the store counts in EUR; "
        "Lingshou has no exchange rates to convert them."
    ]


def test_a_delivery_without_a_unit_cost_leaves_the_cost_and_says_so(store: Store) -> None:
    item = StoreProductFactory(store=store, product__name="Quellwerk Cola")
    result = stock_receive(merchant=store.merchant, receipts=[Receipt(item.pk, 12, 0)], currency="EUR")
    assert (_item(item).on_hand, _item(item).average_cost) == (12, None)
    assert result.cost_notes == ["Quellwerk Cola: the order gives no unit cost; its cost was left as it was."]


def test_a_refused_receipt_changes_neither_stock_nor_cost(store: Store, other_store: Store) -> None:
    mine = StoreProductFactory(store=store)
    foreign = StoreProductFactory(store=other_store)
    with pytest.raises(ValidationError, match="No such product"):
        stock_receive(
            merchant=store.merchant, receipts=[Receipt(mine.pk, 5, 60), Receipt(foreign.pk, 5, 60)], currency="EUR"
        )
    assert (_item(mine).on_hand, _item(mine).average_cost) == (0, None)
    with merchant_context(store.merchant_id):
        assert not StockMovement.objects.exists()


# The wholesaler's cost when a product is added -----------------------------------------------------


def test_a_wholesalers_product_starts_at_its_wholesale_cost(store: Store) -> None:
    product = ProductFactory(wholesaler=store.merchant.wholesaler, wholesale_cost=79)
    item = assortment.assortment_add(merchant=store.merchant, store=store, product=product)
    assert _item(item).average_cost == 79


def test_a_wholesale_cost_of_zero_or_in_another_currency_starts_unknown(merchant: Merchant, store: Store) -> None:
    free = ProductFactory(wholesaler=merchant.wholesaler, wholesale_cost=0)
    assert _item(assortment.assortment_add(merchant=merchant, store=store, product=free)).average_cost is None
    franc_store = StoreFactory(merchant=merchant, code="ZUERICH1", currency="CHF")
    priced = ProductFactory(wholesaler=merchant.wholesaler, wholesale_cost=79)
    item = assortment.assortment_add(merchant=merchant, store=franc_store, product=priced, price=250)
    assert _item(item).average_cost is None


def test_a_product_added_by_csv_import_starts_at_its_wholesale_cost(merchant: Merchant, store: Store) -> None:
    product = ProductFactory(wholesaler=merchant.wholesaler, wholesale_cost=83)
    report = csv_io.assortment_import(
        merchant=merchant, store=store, lines=io.StringIO(f"code,price\n{product.gtin},1.99\n")
    )
    assert report.ok, report.errors
    with merchant_context(merchant.pk):
        assert StoreProduct.objects.get(product=product).average_cost == 83


# The owner's cost of a local product ---------------------------------------------------------------


def test_a_local_product_can_be_created_with_its_cost(store: Store) -> None:
    item = assortment.local_product_create(merchant=store.merchant, store=store, name="Kuchen", price=300, cost=120)
    assert _item(item).average_cost == 120


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_the_owner_and_a_manager_set_a_local_products_cost_on_its_row(
    merchant: Merchant, local: StoreProduct, role: str, request: pytest.FixtureRequest
) -> None:
    response = _client(request.getfixturevalue(role)).post(
        f"/m/{merchant.slug}/catalog/{local.pk}/",
        {"price": "2.49", "cost": "1,20", "is_active": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert _item(local).average_cost == 120
    body = response.content.decode()
    # 2,49 € with 7 % VAT inside is 2,33 € without; less 1,20 € leaves 1,13 €, 48,5 %.
    assert 'value="1.20"' in body
    assert "48,5 %" in body
    assert "1,13\xa0€" in body


def test_an_emptied_cost_field_makes_the_cost_unknown_again(
    merchant: Merchant, local: StoreProduct, owner: Any
) -> None:
    with merchant_context(merchant.pk):
        StoreProduct.objects.filter(pk=local.pk).update(average_cost=120)
    response = _client(owner).post(
        f"/m/{merchant.slug}/catalog/{local.pk}/",
        {"price": "2.49", "cost": "", "is_active": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert _item(local).average_cost is None
    assert "— cost unknown" in response.content.decode()


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        ("-0.10", "A cost cannot be negative."),
        ("1.205", "EUR amounts have 2 decimals at most."),
        ("21474836.48", "&#x27;21474836.48&#x27; is more than the largest amount Lingshou keeps (21474836.47)."),
        ("a euro", "&#x27;a euro&#x27; is not an amount."),
        ("9" * 5000, "That is too long to be a cost."),
        ("NaN", "&#x27;NaN&#x27; is not an amount."),
    ],
)
def test_a_bad_cost_is_refused_with_a_message_and_changes_nothing(
    merchant: Merchant, local: StoreProduct, owner: Any, cost: str, message: str
) -> None:
    before = _snapshot()
    response = _client(owner).post(
        f"/m/{merchant.slug}/catalog/{local.pk}/",
        {"price": "2.99", "cost": cost, "shelf_location": "B1", "is_active": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert f'value="{cost}"' in body  # what was typed stays in the field
    assert 'aria-invalid="true" aria-describedby="error-' in body
    assert _snapshot() == before


def test_the_cost_of_a_wholesalers_product_cannot_be_set_by_hand(merchant: Merchant, store: Store, owner: Any) -> None:
    item = StoreProductFactory(store=store, price=249)
    before = _snapshot()
    response = _client(owner).post(
        f"/m/{merchant.slug}/catalog/{item.pk}/",
        {"price": "2.99", "cost": "0.10", "is_active": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "The cost of a wholesaler&#x27;s product comes from its deliveries." in response.content.decode()
    assert _snapshot() == before  # the price was not changed either


def test_a_clerk_cannot_set_a_cost_and_does_not_see_costs(merchant: Merchant, local: StoreProduct, clerk: Any) -> None:
    client = _client(clerk)
    before = _snapshot()
    assert client.post(f"/m/{merchant.slug}/catalog/{local.pk}/", {"price": "2.49", "cost": "0.10"}).status_code == 403
    assert _snapshot() == before
    catalog = client.get(f"/m/{merchant.slug}/catalog/").content.decode()
    assert "Bauernbrot" in catalog
    assert ("Cost, margin" in catalog, "cost unknown" in catalog) == (False, False)
    item_page = client.get(f"/m/{merchant.slug}/stock/{local.pk}/").content.decode()
    assert ("<dt>Price</dt>" in item_page, "<dt>Cost</dt>" in item_page, "<dt>Margin</dt>" in item_page) == (
        True,
        False,
        False,
    )


@pytest.mark.usefixtures("store")
def test_another_merchants_item_is_not_found_and_nothing_changes(
    merchant: Merchant, other_store: Store, owner: Any
) -> None:
    foreign = assortment.local_product_create(merchant=other_store.merchant, store=other_store, name="Brezel", price=90)
    before = _snapshot()
    client = _client(owner)
    assert client.post(f"/m/{merchant.slug}/catalog/{foreign.pk}/", {"cost": "0.10"}).status_code == 404
    assert client.get(f"/m/{merchant.slug}/stock/{foreign.pk}/").status_code == 404
    assert (
        client.post(
            f"/m/{merchant.slug}/catalog/local/", {"store": other_store.pk, "name": "X", "price": "1", "cost": "0.5"}
        ).status_code
        == 404
    )
    assert _snapshot() == before


def test_the_owner_creates_a_local_product_with_its_cost(merchant: Merchant, store: Store, owner: Any) -> None:
    response = _client(owner).post(
        f"/m/{merchant.slug}/catalog/local/",
        {"store": store.pk, "name": "Apfelkuchen", "price": "3.50", "cost": "1.40", "tax_class": "reduced"},
    )
    assert response.status_code == 302
    with merchant_context(merchant.pk):
        assert StoreProduct.objects.get(local_name="Apfelkuchen").average_cost == 140


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        ("-1", "cost: A cost cannot be negative."),
        ("1.405", "cost: EUR amounts have 2 decimals at most."),
        ("99999999.99", "&#x27;99999999.99&#x27; is more than the largest amount Lingshou keeps (21474836.47)."),
        ("viel", "cost: &#x27;viel&#x27; is not an amount."),
    ],
)
def test_a_local_product_with_a_bad_cost_is_not_created(
    merchant: Merchant, store: Store, owner: Any, cost: str, message: str
) -> None:
    before = _snapshot()
    response = _client(owner).post(
        f"/m/{merchant.slug}/catalog/local/",
        {"store": store.pk, "name": "Apfelkuchen", "price": "3.50", "cost": cost, "tax_class": "reduced"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert 'value="Apfelkuchen"' in body  # the form keeps what was typed
    assert _snapshot() == before


# Cost and margin shown --------------------------------------------------------------------------------


def test_the_catalog_shows_cost_and_margin_or_says_the_cost_is_unknown(
    merchant: Merchant, store: Store, owner: Any
) -> None:
    known = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola", product__tax_class="standard")
    StoreProductFactory(store=store, price=199, product__name="Knusper Chips")
    below = StoreProductFactory(store=store, price=100, product__name="Lockangebot", product__tax_class="standard")
    with merchant_context(merchant.pk):
        StoreProduct.objects.filter(pk=known.pk).update(average_cost=56)
        StoreProduct.objects.filter(pk=below.pk).update(average_cost=90)
    body = _client(owner).get(f"/m/{merchant.slug}/catalog/").content.decode()
    assert "Cost, margin" in body
    rows = {row.split('"', 1)[0]: row for row in body.split('<tr id="item-')[1:]}
    # 2,49 € with 19 % VAT inside: 2,09 € without; less 0,56 € leaves 1,53 €, 73,2 %.
    assert "0,56\xa0€" in rows[str(known.pk)]
    assert "73,2 %" in rows[str(known.pk)]
    assert "1,53\xa0€" in rows[str(known.pk)]
    chips_row = next(row for row in rows.values() if "Knusper Chips" in row)
    assert "— cost unknown" in chips_row
    assert "%" not in chips_row.split("</tr>")[0]
    # 1,00 € with 19 % inside: 0,84 € without; a cost of 0,90 € loses 0,06 €, shown as a loss.
    assert 'figure-negative">-7,1 %' in rows[str(below.pk)]


def test_the_items_page_shows_cost_and_margin(merchant: Merchant, store: Store, owner: Any) -> None:
    item = StoreProductFactory(store=store, price=249, product__tax_class="standard")
    with merchant_context(merchant.pk):
        StoreProduct.objects.filter(pk=item.pk).update(average_cost=56)
    body = _client(owner).get(f"/m/{merchant.slug}/stock/{item.pk}/").content.decode()
    facts = body.split('<dl class="facts">')[1].split("</dl>")[0]
    assert "<dt>Cost</dt><dd>" in facts
    assert ("0,56\xa0€" in facts, "73,2 %" in facts, "1,53\xa0€" in facts) == (True, True, True)
